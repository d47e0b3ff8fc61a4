"""Market data from Interactive Brokers: a feed streaming through the broker adapter's subscribe_prices.

The adapter (trading/brokers/ib.py) calls back with (symbol, Decimal price,
datetime) on its own event-loop thread. The callback only queues the tick;
the feed's thread hands it to the manager, which keeps the manager
single-threaded and IB's loop free of cache and database writes. A dropped
connection raises FeedDisconnected and the runner reconnects with backoff.
"""

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from trading.brokers.base import broker_get
from trading.core.bars import PriceUpdate
from trading.marketdata.feeds.base import Feed, FeedDisconnected, FeedFatal

if TYPE_CHECKING:
    from trading.marketdata.manager import MarketDataManager

logger = logging.getLogger(__name__)
_ZERO = Decimal(0)


def _broker_default() -> Any:
    return broker_get()


class IbFeed(Feed):
    name = "ib"

    def __init__(self, symbols: Sequence[str], *, broker_factory: Callable[[], Any] = _broker_default) -> None:
        self._symbols = [s.upper() for s in symbols]
        self._broker_factory = broker_factory
        self._broker: Any = None
        self._subscription: Any = None
        self._queue: queue.SimpleQueue[PriceUpdate] = queue.SimpleQueue()

    @property
    def symbols(self) -> Sequence[str]:
        return self._symbols

    def connect(self) -> None:
        broker = self._broker_factory()
        if not callable(getattr(broker, "subscribe_prices", None)):
            raise FeedFatal(f"The configured broker {type(broker).__name__} cannot stream prices.")
        connect = getattr(broker, "connect", None)
        if callable(connect):
            connect()
        self._broker = broker

    def _on_price(self, symbol: str, price: Decimal, at: datetime) -> None:
        self._queue.put(PriceUpdate(symbol, price, _ZERO, at))

    def _connected(self) -> bool:
        is_connected = getattr(self._broker, "is_connected", None)
        return bool(is_connected()) if callable(is_connected) else True

    def run(self, manager: "MarketDataManager", stop: threading.Event) -> None:
        self._subscription = self._broker.subscribe_prices(self._symbols, self._on_price)
        timeout = max(manager.flush_interval_seconds, 0.01)
        while not stop.is_set():
            try:
                update = self._queue.get(timeout=timeout)
            except queue.Empty:
                if not self._connected():
                    raise FeedDisconnected("Interactive Brokers connection lost.") from None
                manager.maintain()
                continue
            manager.handle_price_update(update)
            drained = 0
            while drained < 10_000:
                try:
                    manager.handle_price_update(self._queue.get_nowait())
                except queue.Empty:
                    break
                drained += 1
            manager.maintain()

    def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        try:
            if callable(subscription):
                subscription()
            elif subscription is not None and callable(getattr(subscription, "cancel", None)):
                subscription.cancel()
        except Exception:
            logger.exception("could not cancel the IB price subscription")
        broker, self._broker = self._broker, None
        disconnect = getattr(broker, "disconnect", None)
        if callable(disconnect):
            try:
                disconnect()
            except Exception:
                logger.exception("could not disconnect from IB")
