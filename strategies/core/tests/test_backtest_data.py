"""OHLCV validation (every problem, with its row and time; gaps reported) and the bar streams."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from strategies.core.backtest import data
from strategies.core.backtest.data import (
    FrameBars,
    InvalidOhlcvData,
    csv_bars,
    ohlcv_bars,
    parquet_bars,
    sample_bars,
    validate_csv,
    validate_ohlcv,
)

D = Decimal


def frame(rows: list[tuple], freq: str = "1min", start: str = "2026-03-02 14:30") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(rows), freq=freq, tz="UTC")
    return pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"], index=index)


GOOD = [(10.0, 11.0, 9.5, 10.5, 100), (10.5, 10.8, 10.1, 10.2, 120), (10.2, 10.4, 9.9, 10.0, 90)]


def codes(report) -> list[tuple[str, int | None]]:
    return [(p.code, p.row) for p in report.problems]


def test_clean_data_has_no_problem_and_converts_exactly() -> None:
    report = validate_ohlcv(frame(GOOD))
    assert report.ok and report.rows == 3 and report.gaps == () and report.frequency == timedelta(minutes=1)
    bars = list(ohlcv_bars(frame(GOOD), "ACME"))
    assert bars[0].minute == datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    assert (bars[0].open, bars[0].high, bars[0].low, bars[0].close, bars[0].volume) == (
        D("10.0"),
        D("11.0"),
        D("9.5"),
        D("10.5"),
        D(100),
    )
    # A float becomes the Decimal of its shortest repr, never its binary expansion.
    assert str(next(iter(ohlcv_bars(frame([(0.1, 0.3, 0.1, 0.2, 1)]), "X"))).close) == "0.2"


def test_missing_columns_are_named() -> None:
    report = validate_ohlcv(frame(GOOD).drop(columns=["high", "close"]))
    assert [(p.code, p.message) for p in report.problems] == [
        ("missing_column", "The column 'high' is missing (open, high, low, close needed)."),
        ("missing_column", "The column 'close' is missing (open, high, low, close needed)."),
    ]
    # Volume is optional.
    assert validate_ohlcv(frame(GOOD).drop(columns=["volume"])).ok


def test_each_bad_value_is_reported_with_its_row_and_time() -> None:
    rows = [
        (10.0, 11.0, 9.5, 10.5, 100),
        (10.5, 10.0, 10.1, 10.2, 120),  # high below low
        (10.2, 10.4, 9.9, 10.9, 90),  # close above high
        (0.0, 10.4, 9.9, 10.0, 90),  # non-positive open (and open below low)
        (10.0, 10.4, 9.9, 10.0, -5),  # negative volume
        (9.0, 10.4, 9.9, 10.0, 5),  # open below low
    ]
    report = validate_ohlcv(frame(rows))
    assert codes(report) == [
        ("non_positive_price", 3),
        ("high_below_low", 1),
        ("open_outside_range", 3),
        ("open_outside_range", 5),
        ("close_outside_range", 2),
        ("negative_volume", 4),
    ]
    problem = report.problems[1]
    assert problem.at == datetime(2026, 3, 2, 14, 31, tzinfo=UTC)
    assert problem.message == "Row 1 (2026-03-02T14:31:00+00:00): high 10 is below low 10.1."
    with pytest.raises(InvalidOhlcvData) as raised:
        list(ohlcv_bars(frame(rows), "X"))
    assert raised.value.code == "invalid_ohlcv_data"
    assert "6 problems" in str(raised.value)


def test_unparseable_and_missing_values_in_text() -> None:
    table = pd.DataFrame(
        {
            "Date": ["2026-03-02", "2026-03-03", "not a day", "2026-03-05"],
            "Open": ["10", "ten", "10", ""],
            "High": ["11", "11", "11", "11"],
            "Low": ["9", "9", "9", "9"],
            "Close": ["10", "10", "10", "inf"],
        }
    )
    report = validate_ohlcv(table)
    assert codes(report) == [
        ("missing_value", 3),
        ("unparseable_value", 1),
        ("unparseable_value", 3),
        ("unparseable_time", 2),
    ]
    assert report.problems[1].message == "Row 1 (2026-03-03T00:00:00+00:00): open 'ten' is not a finite number."


def test_unsorted_and_duplicate_timestamps() -> None:
    index = pd.DatetimeIndex(
        ["2026-03-02 14:30", "2026-03-02 14:31", "2026-03-02 14:31", "2026-03-02 14:29", "2026-03-02 14:32"], tz="UTC"
    )
    table = pd.DataFrame([GOOD[0]] * 5, columns=["open", "high", "low", "close", "volume"], index=index)
    report = validate_ohlcv(table)
    assert codes(report) == [("duplicate_time", 2), ("unsorted_time", 3)]
    assert report.problems[1].message == (
        "Row 3: the time 2026-03-02T14:29:00+00:00 comes before 2026-03-02T14:31:00+00:00."
    )


def test_missing_time_and_empty() -> None:
    report = validate_ohlcv(pd.DataFrame({"open": [1], "high": [1], "low": [1], "close": [1]}))
    assert codes(report) == [("missing_time", None)]
    assert codes(validate_ohlcv(frame([]))) == [("empty", None)]


def test_gaps_are_reported_not_errors() -> None:
    table = frame(GOOD * 2)
    table.index = table.index[:3].append(table.index[3:] + pd.Timedelta(minutes=7))
    report = validate_ohlcv(table)
    assert report.ok
    assert [(g.after.minute, g.until.minute, g.missing) for g in report.gaps] == [(32, 40, 7)]
    assert report.missing_periods == 7
    assert "1 gaps, 7 missing periods of 0:01:00" in report.summary()


def test_daily_weekday_data_counts_business_days() -> None:
    # Fri 2026-03-06 -> Mon 2026-03-09 is no gap; Mon -> Thu 2026-03-12 misses two business days.
    index = pd.DatetimeIndex(["2026-03-05", "2026-03-06", "2026-03-09", "2026-03-12"], tz="UTC")
    table = pd.DataFrame([GOOD[0]] * 4, columns=["open", "high", "low", "close", "volume"], index=index)
    report = validate_ohlcv(table)
    assert report.business_days and report.frequency == timedelta(days=1)
    assert [(g.after.day, g.until.day, g.missing) for g in report.gaps] == [(9, 12, 2)]


def test_naive_times_are_utc_and_aware_ones_converted() -> None:
    naive = frame(GOOD)
    naive.index = naive.index.tz_localize(None)
    assert next(iter(ohlcv_bars(naive, "X"))).minute == datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    eastern = frame(GOOD)
    eastern.index = pd.date_range("2026-03-02 09:30", periods=3, freq="1min", tz="America/New_York")
    assert next(iter(ohlcv_bars(eastern, "X"))).minute == datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def test_csv_is_read_as_text_and_streamed_in_chunks(tmp_path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(
        "timestamp,Open,High,Low,Close,Volume\n"
        "2026-03-02T14:30:00Z,100.10,101,99.5,100.25,10\n"
        "2026-03-02T14:31:00Z,100.25,100.5,100,100.40,12\n"
        "2026-03-02T14:32:00Z,100.40,100.9,100.3,100.9,7\n"
    )
    bars = list(csv_bars(path, "ACME", chunk_rows=2))
    assert [str(b.close) for b in bars] == ["100.25", "100.40", "100.9"]  # the file's own digits
    assert str(bars[0].open) == "100.10"
    assert validate_csv(path, chunk_rows=1).ok


def test_a_csv_problem_in_a_later_chunk_names_its_row(tmp_path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(
        ",Open,High,Low,Close\n"
        "2026-03-02,10,11,9,10\n2026-03-03,10,11,9,10\n2026-03-04,10,9,11,10\n2026-03-02,10,11,9,10\n"
    )
    report = validate_csv(path, chunk_rows=2)
    assert codes(report) == [("high_below_low", 2), ("unsorted_time", 3)]
    stream = csv_bars(path, "X", chunk_rows=2)
    assert len([next(stream), next(stream)]) == 2  # the first chunk is fine
    with pytest.raises(InvalidOhlcvData):
        next(stream)


def test_parquet_round_trip(tmp_path) -> None:
    path = tmp_path / "bars.parquet"
    frame(GOOD).to_parquet(path)
    bars = list(parquet_bars(path, "ACME", chunk_rows=2))
    assert len(bars) == 3 and bars[2].close == D("10.0")
    assert bars[2].minute == datetime(2026, 3, 2, 14, 32, tzinfo=UTC)
    assert data.validate_parquet(path).ok


def test_frame_bars_is_sized_and_reiterable() -> None:
    source = FrameBars(frame(GOOD * 3), "X", chunk_rows=4)
    assert len(source) == 9
    assert list(source) == list(source)
    assert len(source.window(2, 5)) == 3


def test_backtesting_samples_load_exactly() -> None:
    goog = sample_bars("GOOG")
    assert len(goog) == 2148
    first = next(iter(goog))
    assert (first.symbol, first.minute, first.open, first.close) == (
        "GOOG",
        datetime(2004, 8, 19, tzinfo=UTC),
        D("100"),
        D("100.34"),
    )
    eurusd = validate_csv(data.sample_path("EURUSD"))
    assert eurusd.ok and eurusd.rows == 5000 and eurusd.frequency == timedelta(hours=1)
    with pytest.raises(ValueError, match="Unknown sample"):
        data.sample_path("SPY")
