"""Where a backtest's bars come from: the ``backtesting`` package's samples, uploads, stored minute bars.

Each source gives a pandas frame the core reads (``strategies.core.backtest.data.FrameBars``: Decimal
bars streamed a chunk at a time, validated with ``validate_ohlcv``), cut to the requested period
(``start`` inclusive, ``end`` exclusive), and the bars' interval.
"""

import io
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from strategies.core.backtest.data import (
    SAMPLES,
    TIME_COLUMNS,
    FrameBars,
    OhlcvReport,
    read_ohlcv_csv,
    sample_frame,
    validate_csv,
    validate_ohlcv,
)

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
SAMPLE_NAMES = tuple(name for name in SAMPLES if name != "BTCUSD")  # GOOG daily, EURUSD hourly
PARQUET_MAGIC = b"PAR1"


def _times(frame: pd.DataFrame) -> pd.DatetimeIndex:
    if isinstance(frame.index, pd.DatetimeIndex):
        index = frame.index
    else:
        columns = {str(label).strip().lower(): label for label in frame.columns}
        label = next((columns[name] for name in TIME_COLUMNS if name in columns), None)
        if label is None:
            raise ValueError("No timestamps: give a column named timestamp, time, datetime or date.")
        index = pd.DatetimeIndex(pd.to_datetime(frame[label], errors="coerce", utc=True))
    return index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")


def frame_period(frame: pd.DataFrame, start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """The rows at or after ``start`` and before ``end`` (either may be None)."""
    if start is None and end is None:
        return frame
    times = _times(frame)
    mask = np.ones(len(frame), dtype=bool)
    if start is not None:
        mask &= np.asarray(times >= pd.Timestamp(start))
    if end is not None:
        mask &= np.asarray(times < pd.Timestamp(end))
    return frame.iloc[mask.nonzero()[0]]


def bar_interval(frame: pd.DataFrame) -> timedelta:
    """The most common step between the first rows' times; daily or longer counts as a day."""
    times = _times(frame.iloc[:2000])
    if len(times) < 2:
        return MINUTE
    steps = pd.Series(times[1:] - times[:-1])
    step = steps[steps > pd.Timedelta(0)].mode()
    if step.empty:
        return MINUTE
    interval = step.iloc[0].to_pytimedelta()
    return DAY if interval >= DAY else interval


def sample_load(name: str) -> pd.DataFrame:
    return sample_frame(name)


def _parquet_frame(content: bytes) -> pd.DataFrame:
    frame = pd.read_parquet(io.BytesIO(content))
    names = {str(label).strip().lower() for label in frame.columns}
    if not names & set(TIME_COLUMNS) and not isinstance(frame.index, pd.DatetimeIndex):
        # Saved with its DatetimeIndex: the index comes back as a column of times.
        for label in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[label]):
                return frame.set_index(label)
    return frame


def dataset_frame(content: bytes, file_format: str) -> pd.DataFrame:
    """An upload as a frame: CSV read as text (no float in between), Parquet as stored."""
    if file_format == "parquet":
        return _parquet_frame(content)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.csv"
        path.write_bytes(content)
        return read_ohlcv_csv(path)


def dataset_validate(content: bytes, file_format: str) -> OhlcvReport:
    """The core's validation of an upload: every problem, and the gaps (which are not problems)."""
    if file_format == "parquet":
        return validate_ohlcv(_parquet_frame(content))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.csv"
        path.write_bytes(content)
        return validate_csv(path)


def rows_frame(rows: Iterable[tuple]) -> pd.DataFrame:
    """(minute, open, high, low, close, volume) rows (stored bars) as a text frame indexed by time."""

    def text(value: Decimal) -> str:
        return format(value.normalize(), "f")  # 101.1, not the column's 101.100000

    frame = pd.DataFrame.from_records(
        [(minute, text(o), text(h), text(lo), text(c), text(v)) for minute, o, h, lo, c, v in rows],
        columns=["timestamp", "open", "high", "low", "close", "volume"],
    )
    if frame.empty:
        return frame
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("timestamp"), utc=True))
    return frame


def frame_bars(frame: pd.DataFrame, symbol: str) -> FrameBars:
    """A sized, re-iterable bar source over the frame (raises InvalidOhlcvData when it has a problem)."""
    return FrameBars(frame, symbol)
