"""The feed interface: connect, run (push ticks into the manager until stopped), close.

`run` returns when `stop` is set or the data is exhausted (a replay's end); it
raises on a lost connection, and the runner reconnects with backoff. A feed
that can never work (a missing file, a broker that cannot stream) raises
FeedFatal, and the runner gives up instead of retrying.
"""

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trading.marketdata.manager import MarketDataManager


class FeedDisconnected(Exception):
    """The connection dropped; reconnecting may help."""


class FeedFatal(Exception):
    """The feed cannot run as configured; reconnecting will not help."""


class Feed(ABC):
    name = "feed"

    @property
    def symbols(self) -> Sequence[str]:
        """The symbols this feed prices; they go stale if it stops pricing them."""
        return ()

    def connect(self) -> None:  # noqa: B027  (most feeds have nothing to open)
        """Open the connection or the source; raise to be retried, FeedFatal to give up."""

    @abstractmethod
    def run(self, manager: "MarketDataManager", stop: threading.Event) -> None:
        """Push PriceUpdates into manager.handle_price_update until stop is set or the data ends."""

    def close(self) -> None:  # noqa: B027
        """Release the connection; called after every run, also a failed one."""


def wait_maintaining(manager: "MarketDataManager", stop: threading.Event, seconds: float) -> bool:
    """Wait up to seconds while still flushing (heartbeat, stale sweeps, batched subscribers); True if stopped."""
    deadline = time.monotonic() + seconds
    step = max(manager.flush_interval_seconds, 0.01)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return stop.is_set()
        if stop.wait(min(step, remaining)):
            return True
        manager.maintain()
