"""OHLCV history into a stream of ``trading.core.bars.Bar``, and its validation.

Sources: a pandas DataFrame, a CSV file or a Parquet file, with columns ``open``,
``high``, ``low``, ``close`` and optionally ``volume`` (names in any case), and the
time in a ``DatetimeIndex`` or in a column named ``timestamp``, ``time``,
``datetime`` or ``date`` (a CSV's first column when none is named so).

Conventions
    Prices and volumes become ``Decimal``: text is read exactly as written (CSV files
    are read as text, never through a float); a float becomes the ``Decimal`` of its
    shortest repr (``100.34``, not ``100.3400000000000034106``). Times become aware UTC
    datetimes; a naive time is taken as UTC. A bar's ``minute`` is its timestamp as
    given: for daily data, the day's timestamp (midnight UTC).

Validation (``validate_ohlcv``, a pure function) lists every problem with a sentence and
where it is (row, counted from 0 among the data rows, and timestamp): a missing column,
a missing or unparseable value or time, an unsorted or duplicate timestamp, a price
that is not positive, a high below the low, an open or close outside [low, high], a
negative volume. Price comparisons run on float64, exact for prices of up to 15
significant digits. Gaps are a report, not an error: the frequency is the most
common step between timestamps (or given); daily data (every time at midnight) on
weekdays only is counted in business days (weekends are not gaps, holidays are); every step longer
than the frequency is a gap of ``step / frequency - 1`` missing periods.

Streams are generators that convert a chunk of rows at a time, so memory stays flat
in the number of rows; ``csv_bars`` and ``parquet_bars`` never hold the whole file.
"""

import copy
import importlib.util
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trading.core.bars import Bar

REQUIRED_COLUMNS = ("open", "high", "low", "close")
VOLUME = "volume"
TIME_COLUMNS = ("timestamp", "time", "datetime", "date")
DAY = timedelta(days=1)
DEFAULT_CHUNK_ROWS = 65_536
SAMPLES = ("GOOG", "EURUSD", "BTCUSD")
_ZERO = Decimal(0)
_new_tuple = tuple.__new__

MISSING_COLUMN = "missing_column"
MISSING_TIME = "missing_time"
UNPARSEABLE_TIME = "unparseable_time"
MISSING_VALUE = "missing_value"
UNPARSEABLE_VALUE = "unparseable_value"
UNSORTED_TIME = "unsorted_time"
DUPLICATE_TIME = "duplicate_time"
NON_POSITIVE_PRICE = "non_positive_price"
HIGH_BELOW_LOW = "high_below_low"
OPEN_OUTSIDE_RANGE = "open_outside_range"
CLOSE_OUTSIDE_RANGE = "close_outside_range"
NEGATIVE_VOLUME = "negative_volume"
EMPTY = "empty"


@dataclass(frozen=True)
class DataProblem:
    """One problem: ``code``, a sentence, and where (``row`` from 0 among data rows, ``at``) when it has a place."""

    code: str
    message: str
    row: int | None = None
    at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "row": self.row,
            "at": None if self.at is None else self.at.isoformat(),
        }


@dataclass(frozen=True)
class Gap:
    """``missing`` periods of the frequency between two consecutive timestamps ``after`` and ``until``."""

    after: datetime
    until: datetime
    missing: int

    def as_dict(self) -> dict[str, Any]:
        return {"after": self.after.isoformat(), "until": self.until.isoformat(), "missing": self.missing}


@dataclass(frozen=True)
class OhlcvReport:
    rows: int
    problems: tuple[DataProblem, ...]
    gaps: tuple[Gap, ...] = ()
    frequency: timedelta | None = None
    business_days: bool = False
    start: datetime | None = None
    end: datetime | None = None

    @property
    def ok(self) -> bool:
        """True when there is no problem (gaps are not problems)."""
        return not self.problems

    @property
    def missing_periods(self) -> int:
        return sum(gap.missing for gap in self.gaps)

    def summary(self) -> str:
        what = f"{self.rows} rows"
        if self.start is not None and self.end is not None:
            what += f" from {self.start.isoformat()} to {self.end.isoformat()}"
        if self.frequency is not None:
            unit = "business days" if self.business_days else f"periods of {self.frequency}"
            what += f"; {len(self.gaps)} gaps, {self.missing_periods} missing {unit}"
        return f"{what}; {len(self.problems)} problems." if self.problems else f"{what}; no problems."

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "ok": self.ok,
            "summary": self.summary(),
            "problems": [p.as_dict() for p in self.problems],
            "gaps": [g.as_dict() for g in self.gaps],
            "frequency_seconds": None if self.frequency is None else self.frequency.total_seconds(),
            "business_days": self.business_days,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
        }


class InvalidOhlcvData(ValueError):
    """Raised by a stream asked to validate; ``report`` lists every problem found."""

    code = "invalid_ohlcv_data"

    def __init__(self, report: OhlcvReport) -> None:
        self.report = report
        shown = "; ".join(p.message for p in report.problems[:5])
        more = len(report.problems) - 5
        self.message = f"The OHLCV data has {len(report.problems)} problems: {shown}" + (
            f"; and {more} more." if more > 0 else ""
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


# ---- columns and times -------------------------------------------------------------------------------------------


def _columns(frame: pd.DataFrame) -> dict[str, Any]:
    """Lower-cased column name -> the frame's own column label (the first of equal names)."""
    found: dict[str, Any] = {}
    for label in frame.columns:
        found.setdefault(str(label).strip().lower(), label)
    return found


def _time_values(frame: pd.DataFrame, columns: dict[str, Any]) -> Any | None:
    if isinstance(frame.index, pd.DatetimeIndex):
        return frame.index
    for name in TIME_COLUMNS:
        if name in columns:
            return frame[columns[name]]
    return None


def _utc_times(values: Any) -> pd.DatetimeIndex:
    """Aware UTC times (NaT where unparseable); naive times are taken as UTC."""
    if isinstance(values, pd.DatetimeIndex):
        index = values
    else:
        series = pd.Series(values)
        if _is_texty(series):
            series = series.astype(str).str.strip()  # "", "nan", "None" and "NaT" become NaT below
        index = pd.DatetimeIndex(pd.to_datetime(series, errors="coerce", utc=True))
    index = index.tz_localize(UTC) if index.tz is None else index.tz_convert(UTC)
    return index.as_unit("us")


def _is_texty(series: pd.Series) -> bool:
    """Text or Python objects (pandas counts an object column as string-typed)."""
    return pd.api.types.is_string_dtype(series.dtype)


def _numbers(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float values, missing mask, unparseable mask) of a column."""
    if _is_texty(series):
        # None, NaN and pd.NA are missing, and so is blank text.
        stripped = [None if pd.isna(v) else str(v).strip() for v in series.astype(object)]
        missing = np.array([not s for s in stripped])
        values = pd.to_numeric(pd.Series(stripped, dtype=object), errors="coerce").to_numpy(dtype=float)
        unparseable = ~missing & ~np.isfinite(values)
        return values, missing, unparseable
    try:
        values = series.astype(float).to_numpy()
    except (TypeError, ValueError):
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    missing = pd.isna(series).to_numpy()
    unparseable = ~missing & ~np.isfinite(values)
    return values, missing, unparseable


# ---- validation ---------------------------------------------------------------------------------------------------


class _Validator:
    """Validates frames one chunk after another (rows numbered across chunks, order checked across them)."""

    def __init__(self, frequency: timedelta | None = None) -> None:
        self.frequency = frequency
        self.business_days = False
        self.rows = 0
        self.problems: list[DataProblem] = []
        self.gaps: list[Gap] = []
        self.last: pd.Timestamp | None = None
        self.last_us: int | None = None  # the same, in microseconds since the epoch
        self.start: pd.Timestamp | None = None
        self.columns_checked = False

    def report(self) -> OhlcvReport:
        if self.rows == 0:
            self.problems.append(DataProblem(EMPTY, "The data has no rows."))
        return OhlcvReport(
            rows=self.rows,
            problems=tuple(self.problems),
            gaps=tuple(self.gaps),
            frequency=self.frequency,
            business_days=self.business_days,
            start=None if self.start is None else self.start.to_pydatetime(),
            end=None if self.last is None else self.last.to_pydatetime(),
        )

    def add(self, frame: pd.DataFrame) -> None:
        """Check one chunk (its problems are added to ``problems``)."""
        offset = self.rows
        self.rows += len(frame)
        columns = _columns(frame)
        if not self.columns_checked:
            self.columns_checked = True
            for name in REQUIRED_COLUMNS:
                if name not in columns:
                    self.problems.append(
                        DataProblem(MISSING_COLUMN, f"The column '{name}' is missing (open, high, low, close needed).")
                    )
            if _time_values(frame, columns) is None:
                self.problems.append(
                    DataProblem(
                        MISSING_TIME,
                        "No timestamps: give a DatetimeIndex or a column named timestamp, time, datetime or date.",
                    )
                )
        if len(frame) == 0:
            return
        raw_times = _time_values(frame, columns)
        times = _utc_times(raw_times) if raw_times is not None else None
        self._values(frame, columns, times, offset)
        if times is not None:
            self._times(raw_times, times, offset)

    def _at(self, times: pd.DatetimeIndex | None, i: int) -> datetime | None:
        if times is None or pd.isna(times[i]):
            return None
        return times[i].to_pydatetime()

    def _where(self, row: int, at: datetime | None) -> str:
        return f"Row {row}" + (f" ({at.isoformat()})" if at is not None else "")

    def _values(
        self, frame: pd.DataFrame, columns: dict[str, Any], times: pd.DatetimeIndex | None, offset: int
    ) -> None:
        numbers: dict[str, np.ndarray] = {}
        bad_rows = np.zeros(len(frame), dtype=bool)
        for name in (*REQUIRED_COLUMNS, VOLUME):
            if name not in columns:
                continue
            series = frame[columns[name]]
            values, missing, unparseable = _numbers(series)
            for i in np.flatnonzero(missing).tolist():
                at = self._at(times, i)
                self.problems.append(
                    DataProblem(MISSING_VALUE, f"{self._where(offset + i, at)}: {name} is missing.", offset + i, at)
                )
            for i in np.flatnonzero(unparseable).tolist():
                at = self._at(times, i)
                self.problems.append(
                    DataProblem(
                        UNPARSEABLE_VALUE,
                        f"{self._where(offset + i, at)}: {name} {series.iloc[i]!r} is not a finite number.",
                        offset + i,
                        at,
                    )
                )
            bad_rows |= missing | unparseable
            numbers[name] = values
        prices = [name for name in REQUIRED_COLUMNS if name in numbers]
        for name in prices:
            for i in np.flatnonzero(~bad_rows & (numbers[name] <= 0)).tolist():
                at = self._at(times, i)
                self.problems.append(
                    DataProblem(
                        NON_POSITIVE_PRICE,
                        f"{self._where(offset + i, at)}: {name} {numbers[name][i]:g} is not a positive price.",
                        offset + i,
                        at,
                    )
                )
        if "high" in numbers and "low" in numbers:
            high, low = numbers["high"], numbers["low"]
            for i in np.flatnonzero(~bad_rows & (high < low)).tolist():
                at = self._at(times, i)
                self.problems.append(
                    DataProblem(
                        HIGH_BELOW_LOW,
                        f"{self._where(offset + i, at)}: high {high[i]:g} is below low {low[i]:g}.",
                        offset + i,
                        at,
                    )
                )
            for name, code in (("open", OPEN_OUTSIDE_RANGE), ("close", CLOSE_OUTSIDE_RANGE)):
                if name not in numbers:
                    continue
                value = numbers[name]
                for i in np.flatnonzero(~bad_rows & (high >= low) & ((value < low) | (value > high))).tolist():
                    at = self._at(times, i)
                    self.problems.append(
                        DataProblem(
                            code,
                            f"{self._where(offset + i, at)}: {name} {value[i]:g} lies outside "
                            f"[low {low[i]:g}, high {high[i]:g}].",
                            offset + i,
                            at,
                        )
                    )
        if VOLUME in numbers:
            volume = numbers[VOLUME]
            for i in np.flatnonzero(~bad_rows & (volume < 0)).tolist():
                at = self._at(times, i)
                self.problems.append(
                    DataProblem(
                        NEGATIVE_VOLUME,
                        f"{self._where(offset + i, at)}: volume {volume[i]:g} is negative.",
                        offset + i,
                        at,
                    )
                )

    def _times(self, raw: Any, times: pd.DatetimeIndex, offset: int) -> None:
        nat = np.asarray(times.isna())
        for i in np.flatnonzero(nat).tolist():
            shown = pd.Series(raw).iloc[i]
            self.problems.append(
                DataProblem(
                    UNPARSEABLE_TIME, f"Row {offset + i}: the time {shown!r} is not a date or time.", offset + i
                )
            )
        valid = np.flatnonzero(~nat)
        if not len(valid):
            return
        stamps = times.asi8[valid]
        if self.start is None:
            self.start = times[valid[0]]
        if self.last_us is None:
            previous, current, rows = stamps[:-1], stamps[1:], valid[1:]
        else:
            previous, current, rows = np.concatenate(([self.last_us], stamps[:-1])), stamps, valid
        steps = current - previous
        for k in np.flatnonzero(steps <= 0):
            i = int(rows[k])
            at = times[i].to_pydatetime()
            before = pd.Timestamp(previous[k], unit="us", tz=UTC).to_pydatetime()
            if steps[k] == 0:
                code, message = DUPLICATE_TIME, f"Row {offset + i}: the time {at.isoformat()} repeats the row before."
            else:
                code = UNSORTED_TIME
                message = f"Row {offset + i}: the time {at.isoformat()} comes before {before.isoformat()}."
            self.problems.append(DataProblem(code, message, offset + i, at))
        if self.frequency is None:
            positive = steps[steps > 0]
            stamped = times[valid]
            if len(stamped) > 1 and (stamped == stamped.normalize()).all() and (stamped.dayofweek < 5).all():
                # Daily data on weekdays only: a business-day calendar (weekends are no gaps, holidays are).
                self.frequency, self.business_days = DAY, True
            elif len(positive):
                values, counts = np.unique(positive, return_counts=True)
                self.frequency = timedelta(microseconds=int(values[np.argmax(counts)]))
        if self.frequency is not None:
            self._gaps(previous, current, steps)
        self.last = times[valid[-1]]
        self.last_us = int(stamps[-1])

    def _gaps(self, previous: np.ndarray, current: np.ndarray, steps: np.ndarray) -> None:
        assert self.frequency is not None
        unit = int(self.frequency / timedelta(microseconds=1))
        for k in np.flatnonzero(steps > unit):
            after = pd.Timestamp(previous[k], unit="us", tz=UTC)
            until = pd.Timestamp(current[k], unit="us", tz=UTC)
            if self.business_days:
                missing = int(np.busday_count(after.date() + DAY, until.date()))
            else:
                missing = int(steps[k] // unit) - 1 + (1 if steps[k] % unit else 0)
            if missing > 0:
                self.gaps.append(Gap(after.to_pydatetime(), until.to_pydatetime(), missing))


def validate_ohlcv(frame: pd.DataFrame, *, frequency: timedelta | None = None) -> OhlcvReport:
    """Every problem of an OHLCV frame (see the module docstring), and its gaps; never raises on bad data."""
    validator = _Validator(frequency)
    validator.add(frame)
    return validator.report()


def validate_ohlcv_chunks(frames: Iterable[pd.DataFrame], *, frequency: timedelta | None = None) -> OhlcvReport:
    """``validate_ohlcv`` over consecutive chunks of one source (rows and order checked across chunks).

    Without ``frequency`` it is inferred from the first chunk that has two timestamps.
    """
    validator = _Validator(frequency)
    for frame in frames:
        validator.add(frame)
    return validator.report()


# ---- conversion -------------------------------------------------------------------------------------------------


def _to_decimal(value: Any) -> Decimal:
    # str() keeps text's own digits and gives a float its shortest repr (100.34, not 100.3400000000000034106).
    converted = Decimal(str(value).strip())
    if not converted.is_finite():
        raise ValueError  # the caller names the value
    return converted


class _Decimals:
    """Columns to ``Decimal``: each distinct value converted once, and one object per value, shared across
    columns and chunks (an open equal to the last close is the same object), in a bounded cache."""

    def __init__(self, limit: int = 1 << 17) -> None:
        self.limit = limit
        self.caches: dict[str, dict[Any, Decimal]] = {}

    def column(self, series: pd.Series) -> Sequence[Decimal]:
        kind = series.dtype.kind
        cache = self.caches.setdefault(kind, {})
        # Hash-based factorization (no sort); text keeps its exact characters, so "100.10" stays Decimal("100.10").
        codes, unique = pd.factorize(series.to_numpy(), use_na_sentinel=False)
        keys = unique.tolist()
        if len(cache) + len(keys) > self.limit:
            cache.clear()
        get = cache.get
        converted = []
        append = converted.append
        for key in keys:
            value = get(key)
            if value is None:
                try:
                    value = cache[key] = _to_decimal(key)
                except (InvalidOperation, TypeError, ValueError):
                    raise ValueError(f"{key!r} is not a number; validate the data first (validate_ohlcv).") from None
            append(value)
        if len(codes) == 1:
            return [converted[int(codes[0])]]
        return itemgetter(*codes.tolist())(converted)  # type: ignore[no-any-return]


def _frame_chunk_bars(frame: pd.DataFrame, symbol: str, decimals: _Decimals) -> Iterator[Bar]:
    columns = _columns(frame)
    raw_times = _time_values(frame, columns)
    if raw_times is None:
        raise ValueError("No timestamps: give a DatetimeIndex or a column named timestamp, time, datetime or date.")
    times = _utc_times(raw_times).to_pydatetime()
    opens, highs, lows, closes = (decimals.column(frame[columns[name]]) for name in REQUIRED_COLUMNS)
    volumes = decimals.column(frame[columns[VOLUME]]) if VOLUME in columns else repeat(_ZERO)
    # tuple.__new__(Bar, row) is Bar._make(row) without a Python frame per bar.
    return map(_new_tuple, repeat(Bar), zip(repeat(symbol), times, opens, highs, lows, closes, volumes))


def ohlcv_bars(
    frame: pd.DataFrame,
    symbol: str,
    *,
    validate: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[Bar]:
    """The frame's rows as ``Bar`` objects, converted ``chunk_rows`` at a time.

    With ``validate`` (the default) the whole frame is checked first and
    ``InvalidOhlcvData`` raised, before any bar, when it has a problem.
    """
    if not symbol:
        raise ValueError("A symbol is needed.")
    if validate:
        report = validate_ohlcv(frame)
        if not report.ok:
            raise InvalidOhlcvData(report)
    return _chunked(frame, symbol, chunk_rows)


def _chunked(frame: pd.DataFrame, symbol: str, chunk_rows: int) -> Iterator[Bar]:
    decimals = _Decimals()
    chunks = (frame.iloc[start : start + chunk_rows] for start in range(0, len(frame), chunk_rows))
    # A chunk is converted when the previous one is used up; chain iterates the bars in C.
    return chain.from_iterable(_frame_chunk_bars(chunk, symbol, decimals) for chunk in chunks)


class FrameBars:
    """A re-iterable, sized bar source over a frame (what ``Backtest`` needs for ``progress(done, total)``)."""

    def __init__(
        self, frame: pd.DataFrame, symbol: str, *, validate: bool = True, chunk_rows: int = DEFAULT_CHUNK_ROWS
    ):
        if validate:
            report = validate_ohlcv(frame)
            if not report.ok:
                raise InvalidOhlcvData(report)
        self.frame = frame
        self.symbol = symbol
        self.chunk_rows = chunk_rows

    def __len__(self) -> int:
        return len(self.frame)

    def __iter__(self) -> Iterator[Bar]:
        return _chunked(self.frame, self.symbol, self.chunk_rows)

    def window(self, start: int, stop: int) -> "FrameBars":
        """Rows ``[start, stop)`` (already validated as part of the whole)."""
        window = copy.copy(self)
        window.frame = self.frame.iloc[start:stop]
        return window


def _csv_chunks(path: str | Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows, skipinitialspace=True)
    for chunk in reader:
        if not any(name in TIME_COLUMNS for name in _columns(chunk)):
            # No time column named: the first one holds the times (a frame saved with its index).
            chunk = chunk.rename(columns={chunk.columns[0]: "timestamp"})
        yield chunk


def read_ohlcv_csv(path: str | Path) -> pd.DataFrame:
    """A CSV file as text columns (nothing goes through a float); the time in column ``timestamp``
    unless a time column is named."""
    # The reader numbers rows across chunks, and a file with only a header still gives one (empty) chunk.
    return pd.concat(_csv_chunks(path, DEFAULT_CHUNK_ROWS))


def validate_csv(path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> OhlcvReport:
    """``validate_ohlcv`` over a CSV file read chunk by chunk (memory flat in its length)."""
    return validate_ohlcv_chunks(_csv_chunks(path, chunk_rows))


def _validated_chunks(chunks: Iterable[pd.DataFrame], symbol: str, validate: bool) -> Iterator[Iterator[Bar]]:
    validator = _Validator()
    decimals = _Decimals()
    for chunk in chunks:
        if validate:
            validator.add(chunk)
            if validator.problems:  # all from this chunk: an earlier chunk with a problem raised already
                raise InvalidOhlcvData(
                    OhlcvReport(rows=validator.rows, problems=tuple(validator.problems), frequency=validator.frequency)
                )
        yield _frame_chunk_bars(chunk, symbol, decimals)


def _validated_stream(chunks: Iterable[pd.DataFrame], symbol: str, validate: bool) -> Iterator[Bar]:
    return chain.from_iterable(_validated_chunks(chunks, symbol, validate))


def frames_bars(chunks: Iterable[pd.DataFrame], symbol: str, *, validate: bool = True) -> Iterator[Bar]:
    """Bars from consecutive frames of one series (a generator of chunks: memory flat however long it runs).

    Each chunk is validated before its bars are handed out, as ``csv_bars`` does.
    """
    return _validated_stream(chunks, symbol, validate)


def csv_bars(
    path: str | Path, symbol: str, *, validate: bool = True, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[Bar]:
    """Bars streamed from a CSV file, ``chunk_rows`` rows at a time.

    Each chunk is validated before its bars are handed out (order checked across
    chunks); the first chunk with a problem raises ``InvalidOhlcvData`` listing its
    problems. ``validate_csv`` reports the whole file without raising.
    """
    return _validated_stream(_csv_chunks(path, chunk_rows), symbol, validate)


def _parquet_chunks(path: str | Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        columns = _columns(frame)
        if not any(name in columns for name in TIME_COLUMNS) and not isinstance(frame.index, pd.DatetimeIndex):
            # A frame saved with its DatetimeIndex keeps it as a column named after the index (or __index_level_0__).
            for label in frame.columns:
                if pd.api.types.is_datetime64_any_dtype(frame[label]):
                    frame = frame.set_index(label)
                    break
        yield frame


def parquet_bars(
    path: str | Path, symbol: str, *, validate: bool = True, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[Bar]:
    """Bars streamed from a Parquet file, one record batch at a time (validated as ``csv_bars``)."""
    return _validated_stream(_parquet_chunks(path, chunk_rows), symbol, validate)


def validate_parquet(path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> OhlcvReport:
    return validate_ohlcv_chunks(_parquet_chunks(path, chunk_rows))


# ---- samples ----------------------------------------------------------------------------------------------------


def sample_path(name: str = "GOOG") -> Path:
    """The path of a sample file shipped by the ``backtesting`` package (GOOG daily, EURUSD hourly, BTCUSD monthly).

    Found without importing ``backtesting`` (which would import its plotting stack).
    """
    if name not in SAMPLES:
        raise ValueError(f"Unknown sample {name!r}; choose one of {', '.join(SAMPLES)}.")
    spec = importlib.util.find_spec("backtesting")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The sample data ships with the backtesting package: pip install backtesting==0.6.6.")
    return Path(next(iter(spec.submodule_search_locations))) / "test" / f"{name}.csv"


def sample_frame(name: str = "GOOG") -> pd.DataFrame:
    """A sample as a text frame (``read_ohlcv_csv``): exact decimals as the file writes them."""
    return read_ohlcv_csv(sample_path(name))


def sample_bars(name: str = "GOOG", symbol: str | None = None) -> FrameBars:
    """A sample as a sized, re-iterable bar source (symbol defaults to the sample's name)."""
    return FrameBars(sample_frame(name), symbol or name)


def bar_list(bars: Iterable[Bar]) -> list[Bar]:
    """Materialize a stream (for tests and for optimization windows, which are re-read many times)."""
    return list(bars)


__all__ = [
    "DataProblem",
    "FrameBars",
    "Gap",
    "InvalidOhlcvData",
    "OhlcvReport",
    "bar_list",
    "csv_bars",
    "frames_bars",
    "ohlcv_bars",
    "parquet_bars",
    "read_ohlcv_csv",
    "sample_bars",
    "sample_frame",
    "sample_path",
    "validate_csv",
    "validate_ohlcv",
    "validate_ohlcv_chunks",
    "validate_parquet",
]
