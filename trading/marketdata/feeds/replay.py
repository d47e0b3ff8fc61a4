"""Historical replay: OHLCV bars from CSV or Parquet (pandas), at a speed factor or as fast as possible.

Each bar becomes four ticks inside its own span (open, then the low and high
in the order the bar most likely traded them, then the close carrying the
bar's volume), so the manager rebuilds exactly the bars it read. Columns,
case-insensitive: a time (`timestamp`, `time`, `datetime`, `date` or
`minute`; naive times are UTC), `symbol` (or give one), `open`, `high`,
`low`, `close`, `volume`. CSV is read in chunks and must be in time order;
Parquet needs pyarrow.
"""

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from trading.core.bars import PriceUpdate
from trading.marketdata.feeds.base import Feed, FeedFatal, wait_maintaining

if TYPE_CHECKING:
    from trading.marketdata.manager import MarketDataManager

TIME_COLUMNS = ("timestamp", "time", "datetime", "date", "minute")
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
_ZERO = Decimal(0)


def _decimal(value: object) -> Decimal:
    # CSV cells arrive as text (exact); Parquet floats go through their shortest repr, never binary noise.
    return Decimal(value) if isinstance(value, str) else Decimal(str(value))


class ReplayFeed(Feed):
    name = "replay"

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float | None = 1.0,
        symbol: str | None = None,
        bar_span: timedelta = timedelta(minutes=1),
        chunk_rows: int = 100_000,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive, or None for as fast as possible.")
        self.path = Path(path)
        self.speed = speed
        self.symbol = symbol.upper() if symbol else None
        self.bar_span = bar_span
        self.chunk_rows = chunk_rows
        self.replayed = 0

    @property
    def symbols(self) -> Sequence[str]:
        return [self.symbol] if self.symbol else []

    def connect(self) -> None:
        if not self.path.is_file():
            raise FeedFatal(f"No file to replay at {self.path}.")

    def _is_parquet(self) -> bool:
        return self.path.suffix.lower() in {".parquet", ".pq"}

    def _frames(self) -> Iterator[pd.DataFrame]:
        if self._is_parquet():
            yield pd.read_parquet(self.path)
        else:
            yield from pd.read_csv(self.path, dtype=str, chunksize=self.chunk_rows)

    def _normalized(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
        time_column = next((c for c in TIME_COLUMNS if c in frame.columns), None)
        missing = [c for c in PRICE_COLUMNS if c not in frame.columns]
        if time_column is None or missing:
            raise FeedFatal(f"{self.path.name} lacks columns: {missing or ['timestamp']}.")
        if "symbol" not in frame.columns:
            if not self.symbol:
                raise FeedFatal(f"{self.path.name} has no symbol column; give the symbol to replay.")
            frame = frame.assign(symbol=self.symbol)
        try:
            times = pd.to_datetime(frame[time_column], utc=True)
        except (ValueError, TypeError) as error:
            raise FeedFatal(f"{self.path.name}: unreadable times ({error}).") from error
        frame = frame.assign(_at=times, symbol=frame["symbol"].str.upper())
        return frame.sort_values("_at", kind="stable")

    def updates(self) -> Iterator[PriceUpdate]:
        quarter = self.bar_span / 4
        for chunk in self._frames():
            frame = self._normalized(chunk)
            rows = zip(
                frame["symbol"],
                frame["_at"],
                frame["open"],
                frame["high"],
                frame["low"],
                frame["close"],
                frame["volume"],
                strict=True,
            )
            for symbol, stamp, o, h, lo, c, v in rows:
                at = stamp.to_pydatetime()
                open_, high, low, close = _decimal(o), _decimal(h), _decimal(lo), _decimal(c)
                # A bar that closed up most likely went down first, then up; the reverse for a down bar.
                middle = (low, high) if close >= open_ else (high, low)
                yield PriceUpdate(symbol, open_, _ZERO, at)
                yield PriceUpdate(symbol, middle[0], _ZERO, at + quarter)
                yield PriceUpdate(symbol, middle[1], _ZERO, at + 2 * quarter)
                yield PriceUpdate(symbol, close, _decimal(v), at + 3 * quarter)

    def run(self, manager: "MarketDataManager", stop: threading.Event) -> None:
        first_at = None
        started = time.monotonic()
        for count, update in enumerate(self.updates()):
            if self.speed is not None:
                if first_at is None:
                    first_at = update.at
                due = started + (update.at - first_at).total_seconds() / self.speed
                delay = due - time.monotonic()
                if delay > 0 and wait_maintaining(manager, stop, delay):
                    return
            elif not count & 1023 and stop.is_set():
                return
            manager.handle_price_update(update)
            self.replayed += 1
        manager.flush(close_bars=True)
