"""Feed health: which symbols went stale or came back, gaps, reconnect backoff.

Pure Python with the time passed in. The tracker is fed once per flush with the
symbols that ticked since the last one, so a tick costs nothing here; its
resolution is the flush interval, far below any sensible staleness threshold.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Health(StrEnum):
    STALE = "stale"
    RECOVERED = "recovered"


@dataclass(frozen=True)
class Transition:
    symbol: str
    health: Health
    last_seen: datetime | None
    at: datetime


@dataclass(frozen=True)
class Gap:
    symbol: str
    silence: timedelta
    usual: timedelta
    at: datetime


class StalenessTracker:
    """A symbol is stale when it has not ticked for `stale_after`; each change is reported once.

    A symbol that was expected (the feed subscribed to it) but never ticked goes
    stale `stale_after` after it was expected. Gaps are silences far above a
    symbol's usual interval (`gap_factor` times its moving average), reported
    when the symbol ticks again.
    """

    def __init__(self, stale_after: timedelta, *, gap_factor: float = 10.0, gap_minimum: timedelta | None = None):
        if stale_after <= timedelta(0):
            raise ValueError("The staleness threshold must be positive.")
        self.stale_after = stale_after
        self.gap_factor = gap_factor
        self.gap_minimum = gap_minimum if gap_minimum is not None else timedelta(seconds=1)
        self._last_seen: dict[str, datetime | None] = {}
        self._expected_since: dict[str, datetime] = {}
        self._usual: dict[str, float] = {}
        self._stale: set[str] = set()

    def expect(self, symbols: Iterable[str], now: datetime) -> None:
        for symbol in symbols:
            if symbol not in self._last_seen:
                self._last_seen[symbol] = None
                self._expected_since[symbol] = now

    def forget(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            self._last_seen.pop(symbol, None)
            self._expected_since.pop(symbol, None)
            self._usual.pop(symbol, None)
            self._stale.discard(symbol)

    def seen(self, symbols: Iterable[str], now: datetime) -> tuple[list[Transition], list[Gap]]:
        """Record that these symbols ticked by now; returns recoveries and gaps."""
        recovered: list[Transition] = []
        gaps: list[Gap] = []
        for symbol in symbols:
            previous = self._last_seen.get(symbol)
            self._last_seen[symbol] = now
            if previous is not None:
                interval = (now - previous).total_seconds()
                usual = self._usual.get(symbol)
                if usual is not None and interval > max(usual * self.gap_factor, self.gap_minimum.total_seconds()):
                    gaps.append(Gap(symbol, now - previous, timedelta(seconds=usual), now))
                else:
                    # A gap does not teach the average; normal intervals do.
                    self._usual[symbol] = interval if usual is None else 0.9 * usual + 0.1 * interval
            if symbol in self._stale:
                self._stale.discard(symbol)
                recovered.append(Transition(symbol, Health.RECOVERED, previous, now))
        return recovered, gaps

    def sweep(self, now: datetime) -> list[Transition]:
        """Symbols that have just gone stale (each only once until it recovers)."""
        went_stale: list[Transition] = []
        for symbol, last in self._last_seen.items():
            if symbol in self._stale:
                continue
            since = last if last is not None else self._expected_since.get(symbol)
            if since is not None and now - since > self.stale_after:
                self._stale.add(symbol)
                went_stale.append(Transition(symbol, Health.STALE, last, now))
        return went_stale

    def knows(self, symbol: str) -> bool:
        return symbol in self._last_seen

    def is_stale(self, symbol: str) -> bool:
        return symbol in self._stale

    def last_seen(self, symbol: str) -> datetime | None:
        return self._last_seen.get(symbol)

    @property
    def stale_symbols(self) -> frozenset[str]:
        return frozenset(self._stale)


def backoff_delays(*, base: float = 1.0, cap: float = 60.0) -> Iterator[float]:
    """1, 2, 4, 8 ... seconds, capped: the wait before each reconnect attempt."""
    if base <= 0 or cap < base:
        raise ValueError("Backoff needs 0 < base <= cap.")
    delay = base
    while True:
        yield delay
        delay = min(delay * 2, cap)
