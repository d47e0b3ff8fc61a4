"""Ticks into 1-minute OHLCV bars, with memory bounded by the number of symbols.

Only the open bar of each symbol is held; closed bars wait in a bounded
outbox until the caller drains them in a batch (one database write per batch,
never one per tick). Pure Python: the time is whatever the ticks carry.
"""

from collections import deque
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

MINUTE = timedelta(minutes=1)


class PriceUpdate(NamedTuple):
    """One trade or last-price tick; `at` is an aware datetime (exchange time)."""

    symbol: str
    price: Decimal
    size: Decimal
    at: datetime


class Bar(NamedTuple):
    """A closed 1-minute bar; `minute` is the aware UTC start of the minute."""

    symbol: str
    minute: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class _OpenBar:
    __slots__ = ("close", "end", "high", "low", "minute", "open", "volume")

    def __init__(self, minute: datetime, price: Decimal, size: Decimal) -> None:
        self.minute = minute
        self.end = minute + MINUTE
        self.open = self.high = self.low = self.close = price
        self.volume = size

    def closed(self, symbol: str) -> Bar:
        return Bar(symbol, self.minute, self.open, self.high, self.low, self.close, self.volume)


def minute_floor(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"A tick time must carry a time zone, got {at!r}.")
    return at.astimezone(UTC).replace(second=0, microsecond=0)


class BarAggregator:
    """Builds 1-minute bars from ticks; a tick at or after the open bar's end closes it.

    Ticks older than the open bar's minute are refused (add returns False): a
    bar, once closed and handed out, never changes. The outbox holds at most
    `max_pending` closed bars; beyond that the oldest are dropped and counted,
    so a database outage cannot grow the process without limit.
    """

    def __init__(self, *, max_pending: int = 100_000) -> None:
        self._open: dict[str, _OpenBar] = {}
        self._closed: deque[Bar] = deque()
        self._max_pending = max_pending
        self.dropped = 0

    def add(self, symbol: str, price: Decimal, size: Decimal, at: datetime) -> bool:
        bar = self._open.get(symbol)
        if bar is not None:
            if at < bar.end:
                if at < bar.minute:
                    return False
                if price > bar.high:
                    bar.high = price
                elif price < bar.low:
                    bar.low = price
                bar.close = price
                bar.volume += size
                return True
            self._push(bar.closed(symbol))
        self._open[symbol] = _OpenBar(minute_floor(at), price, size)
        return True

    def _push(self, bar: Bar) -> None:
        if len(self._closed) >= self._max_pending:
            self._closed.popleft()
            self.dropped += 1
        self._closed.append(bar)

    def close_until(self, now: datetime) -> int:
        """Close every open bar whose minute ended at or before now (a quiet symbol's last bar)."""
        due = [symbol for symbol, bar in self._open.items() if bar.end <= now]
        for symbol in due:
            self._push(self._open.pop(symbol).closed(symbol))
        return len(due)

    def open_bar(self, symbol: str) -> Bar | None:
        bar = self._open.get(symbol)
        return None if bar is None else bar.closed(symbol)

    @property
    def pending(self) -> int:
        return len(self._closed)

    def drain(self, limit: int | None = None) -> list[Bar]:
        """Hand out closed bars, oldest first, at most limit of them."""
        count = len(self._closed) if limit is None else min(limit, len(self._closed))
        return [self._closed.popleft() for _ in range(count)]

    def requeue(self, bars: list[Bar]) -> None:
        """Put back a batch that could not be written, ahead of newer bars, within the bound."""
        for bar in reversed(bars):
            if len(self._closed) >= self._max_pending:
                self.dropped += 1
                continue
            self._closed.appendleft(bar)
