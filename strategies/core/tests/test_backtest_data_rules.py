"""OHLCV rules in detail: each problem's code, sentence, row and time (across chunks); text and numeric columns;
gaps and frequencies; the report's summary and dict; conversion to Decimal; the stream entry points."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from strategies.core.backtest import data
from strategies.core.backtest.data import (
    DataProblem,
    FrameBars,
    Gap,
    InvalidOhlcvData,
    OhlcvReport,
    frames_bars,
    ohlcv_bars,
    read_ohlcv_csv,
    validate_ohlcv,
    validate_ohlcv_chunks,
)

D = Decimal
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
COLUMNS = ["open", "high", "low", "close", "volume"]
OK_ROW = (10.0, 11.0, 9.0, 10.0, 100)


def minute(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


def frame(rows: list[tuple], start: int = 0, freq: str = "1min") -> pd.DataFrame:
    index = pd.date_range(minute(start), periods=len(rows), freq=freq)
    return pd.DataFrame(rows, columns=COLUMNS, index=index)


def problems(report: OhlcvReport) -> list[tuple]:
    return [(p.code, p.message, p.row, p.at) for p in report.problems]


def where(row: int, at: datetime) -> str:
    return f"Row {row} ({at.isoformat()})"


# ---- problems, with their place ------------------------------------------------------------------------------------


def test_every_value_problem_names_its_row_and_time_counted_across_chunks() -> None:
    first = frame([OK_ROW, OK_ROW])
    second = frame(
        [
            (0.0, 11.0, 9.0, 10.0, 1),  # non-positive open, open below low
            (10.0, 8.5, 9.0, 10.0, 1),  # high below low (the range checks then skip the row)
            (12.0, 11.0, 9.0, 8.0, -2),  # open above high, close below low, negative volume
            (-1.0, 11.0, 9.0, 10.0, 0),  # negative open
        ],
        start=2,
    )
    report = validate_ohlcv_chunks([first, second])
    assert report.rows == 6
    assert problems(report) == [
        ("non_positive_price", f"{where(2, minute(2))}: open 0 is not a positive price.", 2, minute(2)),
        ("non_positive_price", f"{where(5, minute(5))}: open -1 is not a positive price.", 5, minute(5)),
        ("high_below_low", f"{where(3, minute(3))}: high 8.5 is below low 9.", 3, minute(3)),
        ("open_outside_range", f"{where(2, minute(2))}: open 0 lies outside [low 9, high 11].", 2, minute(2)),
        ("open_outside_range", f"{where(4, minute(4))}: open 12 lies outside [low 9, high 11].", 4, minute(4)),
        ("open_outside_range", f"{where(5, minute(5))}: open -1 lies outside [low 9, high 11].", 5, minute(5)),
        ("close_outside_range", f"{where(4, minute(4))}: close 8 lies outside [low 9, high 11].", 4, minute(4)),
        ("negative_volume", f"{where(4, minute(4))}: volume -2 is negative.", 4, minute(4)),
    ]
    assert all(type(p.row) is int for p in report.problems)
    json.dumps(report.as_dict())  # rows are plain ints


def test_prices_on_the_bounds_are_fine() -> None:
    # open and close equal to the low or the high, high equal to the low, volume 0.
    rows = [(9.0, 11.0, 9.0, 11.0, 0), (11.0, 11.0, 9.0, 9.0, 0), (5.0, 5.0, 5.0, 5.0, 0)]
    assert validate_ohlcv(frame(rows)).ok


def test_a_bad_value_skips_the_other_checks_of_its_row() -> None:
    table = pd.DataFrame(
        {"open": ["x", "10"], "high": ["11", ""], "low": ["9", "9"], "close": ["-5", "10"], "volume": ["1", "-1"]},
        index=pd.DatetimeIndex([minute(0), minute(1)]),
    )
    assert [(p.code, p.row) for p in validate_ohlcv(table).problems] == [
        ("unparseable_value", 0),
        ("missing_value", 1),
    ]


def test_text_values_missing_blank_or_not_numbers() -> None:
    table = pd.DataFrame(
        {
            "time": [
                "2026-03-02 14:30",
                " 2026-03-02 14:31 ",
                "2026-03-02 14:32",
                "2026-03-02 14:33",
                "2026-03-02 14:34",
            ],
            "open": [" 10 ", None, float("nan"), "x", "1e400"],
            "high": ["11"] * 5,
            "low": ["9"] * 5,
            "close": ["  "] + ["10"] * 4,
        }
    )
    report = validate_ohlcv(table)
    assert problems(report) == [
        ("missing_value", f"{where(1, minute(1))}: open is missing.", 1, minute(1)),
        ("missing_value", f"{where(2, minute(2))}: open is missing.", 2, minute(2)),
        ("unparseable_value", f"{where(3, minute(3))}: open 'x' is not a finite number.", 3, minute(3)),
        ("unparseable_value", f"{where(4, minute(4))}: open '1e400' is not a finite number.", 4, minute(4)),
        ("missing_value", f"{where(0, minute(0))}: close is missing.", 0, minute(0)),
    ]


def test_numeric_values_missing_or_infinite() -> None:
    table = frame([OK_ROW, (np.nan, 11.0, 9.0, 10.0, 1), (np.inf, 11.0, 9.0, 10.0, 1)])
    assert [(p.code, p.row) for p in validate_ohlcv(table).problems] == [
        ("missing_value", 1),
        ("unparseable_value", 2),
    ]


def test_a_mixed_column_is_read_value_by_value() -> None:
    table = frame([OK_ROW] * 3)
    table["open"] = pd.Series([10, "10.5", None], index=table.index, dtype=object)
    assert [(p.code, p.row) for p in validate_ohlcv(table).problems] == [("missing_value", 2)]


def test_times_that_are_missing_or_unparseable() -> None:
    table = pd.DataFrame(
        {
            "Timestamp": ["2026-03-02 14:30", "nan", "", "NaT", "soon", "2026-03-02 14:35"],
            "Open": ["10"] * 6,
            "High": ["11"] * 6,
            "Low": ["9"] * 6,
            "Close": ["10"] * 6,
        }
    )
    report = validate_ohlcv(table)
    assert problems(report) == [
        ("unparseable_time", f"Row {i}: the time {shown!r} is not a date or time.", i, None)
        for i, shown in ((1, "nan"), (2, ""), (3, "NaT"), (4, "soon"))
    ]
    assert (report.start, report.end) == (minute(0), minute(5))


def test_a_missing_value_without_a_time_has_no_place_in_time() -> None:
    table = pd.DataFrame({"time": ["bad"], "open": [""], "high": ["11"], "low": ["9"], "close": ["10"]})
    assert problems(validate_ohlcv(table))[0] == ("missing_value", "Row 0: open is missing.", 0, None)


def test_columns_are_found_in_any_case_with_spaces_and_the_first_of_equal_names() -> None:
    table = pd.DataFrame(
        [[T0, 10, 11, 9, 10, 5, 99]], columns=[" Date ", "OPEN", "High", "low", "Close", "Volume", "close"]
    )
    bar = next(iter(ohlcv_bars(table, "X")))
    assert (bar.minute, bar.open, bar.high, bar.low, bar.close, bar.volume) == (T0, 10, 11, 9, 10, 5)


@pytest.mark.parametrize("name", ["timestamp", "time", "datetime", "date"])
def test_a_time_column_by_each_name(name: str) -> None:
    table = pd.DataFrame({name: [T0.isoformat()], "open": [1], "high": [1], "low": [1], "close": [1]})
    assert validate_ohlcv(table).ok
    assert next(iter(ohlcv_bars(table, "X"))).minute == T0


def test_missing_columns_are_checked_once_across_chunks() -> None:
    chunk = frame([OK_ROW]).drop(columns=["low"])
    chunk.index.name = None
    later = frame([OK_ROW], start=1).drop(columns=["low"])
    report = validate_ohlcv_chunks([chunk, later])
    assert [p.code for p in report.problems] == ["missing_column"]
    no_time = pd.DataFrame({"open": [1], "high": [1], "low": [1], "close": [1]})
    report = validate_ohlcv_chunks([no_time, no_time])
    assert problems(report) == [
        (
            "missing_time",
            "No timestamps: give a DatetimeIndex or a column named timestamp, time, datetime or date.",
            None,
            None,
        )
    ]
    assert report.rows == 2


def test_an_empty_source_is_one_problem() -> None:
    assert problems(validate_ohlcv(frame([]))) == [("empty", "The data has no rows.", None, None)]
    assert [p.code for p in validate_ohlcv_chunks([]).problems] == ["empty"]
    assert validate_ohlcv(frame([])).rows == 0


def test_order_is_checked_across_chunks() -> None:
    first = frame([OK_ROW, OK_ROW], start=0)
    repeat = frame([OK_ROW, OK_ROW], start=1)  # 14:31 again, then 14:32
    twice = pd.DataFrame([OK_ROW] * 2, columns=COLUMNS, index=pd.DatetimeIndex([minute(3), minute(3)]))
    earlier = frame([OK_ROW], start=-5)
    report = validate_ohlcv_chunks([first, repeat, twice, earlier])
    assert problems(report) == [
        ("duplicate_time", f"Row 2: the time {minute(1).isoformat()} repeats the row before.", 2, minute(1)),
        ("duplicate_time", f"Row 5: the time {minute(3).isoformat()} repeats the row before.", 5, minute(3)),
        (
            "unsorted_time",
            f"Row 6: the time {minute(-5).isoformat()} comes before {minute(3).isoformat()}.",
            6,
            minute(-5),
        ),
    ]
    assert (report.start, report.end) == (minute(0), minute(-5))


def test_order_skips_unparseable_times() -> None:
    table = pd.DataFrame(
        {"time": ["2026-03-02 14:30", "?", "2026-03-02 14:31"], "open": [1] * 3, "high": [1] * 3, "low": [1] * 3}
    )
    table["close"] = 1
    report = validate_ohlcv(table)
    assert [(p.code, p.row) for p in report.problems] == [("unparseable_time", 1)]
    assert report.frequency == timedelta(minutes=1) and report.gaps == ()


# ---- gaps and frequency ----------------------------------------------------------------------------------------------


def test_the_frequency_is_the_most_common_step_and_gaps_count_missing_periods() -> None:
    index = pd.DatetimeIndex([minute(i) for i in (0, 1, 2, 3, 5, 6, 10)] + [minute(10) + timedelta(seconds=150)])
    report = validate_ohlcv(pd.DataFrame([OK_ROW] * 8, columns=COLUMNS, index=index))
    assert report.frequency == timedelta(minutes=1) and not report.business_days
    assert report.gaps == (
        Gap(minute(3), minute(5), 1),
        Gap(minute(6), minute(10), 3),
        Gap(minute(10), minute(10) + timedelta(seconds=150), 2),  # 2.5 periods: two whole ones missing
    )
    assert report.missing_periods == 6


def test_a_given_frequency_is_used() -> None:
    report = validate_ohlcv(frame([OK_ROW] * 3, freq="2min"), frequency=timedelta(minutes=1))
    assert report.frequency == timedelta(minutes=1)
    assert [g.missing for g in report.gaps] == [1, 1]
    chunked = validate_ohlcv_chunks([frame([OK_ROW] * 2, freq="2min")], frequency=timedelta(minutes=1))
    assert [g.missing for g in chunked.gaps] == [1]


def test_the_frequency_comes_from_the_first_chunk_with_two_times() -> None:
    one = frame([OK_ROW])
    later = frame([OK_ROW] * 3, start=5, freq="5min")
    report = validate_ohlcv_chunks([one, later])
    assert report.frequency == timedelta(minutes=5)
    assert report.gaps == ()  # 14:30 -> 14:35 -> 14:40 -> 14:45
    assert (report.start, report.end) == (minute(0), minute(15))


def test_daily_data_on_weekdays_counts_business_days_and_other_data_does_not() -> None:
    days = pd.DatetimeIndex(["2026-03-06", "2026-03-09", "2026-03-13"], tz="UTC")  # Fri, Mon, Fri
    report = validate_ohlcv(pd.DataFrame([OK_ROW] * 3, columns=COLUMNS, index=days))
    assert report.business_days and report.frequency == timedelta(days=1)
    assert [g.missing for g in report.gaps] == [3]  # Tue, Wed, Thu
    weekend = pd.DatetimeIndex(["2026-03-06", "2026-03-07", "2026-03-09"], tz="UTC")  # Fri, Sat, Mon
    report = validate_ohlcv(pd.DataFrame([OK_ROW] * 3, columns=COLUMNS, index=weekend))
    assert not report.business_days and [g.missing for g in report.gaps] == [1]
    noon = pd.DatetimeIndex(["2026-03-06 12:00", "2026-03-09 12:00"], tz="UTC")
    report = validate_ohlcv(pd.DataFrame([OK_ROW] * 2, columns=COLUMNS, index=noon))
    assert not report.business_days and report.frequency == timedelta(days=3)
    single = validate_ohlcv(pd.DataFrame([OK_ROW], columns=COLUMNS, index=days[:1]))
    assert not single.business_days and single.frequency is None


# ---- the report ----------------------------------------------------------------------------------------------------


def test_summaries() -> None:
    start, end = minute(0), minute(5)
    problem = DataProblem("empty", "x")
    assert OhlcvReport(0, ()).summary() == "0 rows; no problems."
    assert OhlcvReport(1, (problem, problem)).summary() == "1 rows; 2 problems."
    assert OhlcvReport(3, (), start=start, end=end).summary() == (
        f"3 rows from {start.isoformat()} to {end.isoformat()}; no problems."
    )
    assert OhlcvReport(3, (), start=start).summary() == "3 rows; no problems."
    assert OhlcvReport(3, (), end=end).summary() == "3 rows; no problems."
    gaps = (Gap(start, end, 4), Gap(start, end, 2))
    assert OhlcvReport(3, (), gaps, timedelta(minutes=1)).summary() == (
        "3 rows; 2 gaps, 6 missing periods of 0:01:00; no problems."
    )
    assert OhlcvReport(3, (), gaps, timedelta(days=1), business_days=True).summary() == (
        "3 rows; 2 gaps, 6 missing business days; no problems."
    )


def test_report_as_dict() -> None:
    start, end = minute(0), minute(5)
    problem = DataProblem("duplicate_time", "Row 1: ...", 1, start)
    report = OhlcvReport(2, (problem,), (Gap(start, end, 4),), timedelta(minutes=1), False, start, end)
    assert report.as_dict() == {
        "rows": 2,
        "ok": False,
        "summary": report.summary(),
        "problems": [{"code": "duplicate_time", "message": "Row 1: ...", "row": 1, "at": start.isoformat()}],
        "gaps": [{"after": start.isoformat(), "until": end.isoformat(), "missing": 4}],
        "frequency_seconds": 60.0,
        "business_days": False,
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    bare = OhlcvReport(0, (DataProblem("empty", "none"),)).as_dict()
    assert (bare["frequency_seconds"], bare["start"], bare["end"], bare["ok"]) == (None, None, None, False)
    assert bare["problems"] == [{"code": "empty", "message": "none", "row": None, "at": None}]


@pytest.mark.parametrize(("count", "tail"), [(5, ""), (6, "; and 1 more."), (8, "; and 3 more.")])
def test_invalid_data_shows_five_problems_and_counts_the_rest(count: int, tail: str) -> None:
    report = OhlcvReport(count, tuple(DataProblem("x", f"p{i}") for i in range(count)))
    error = InvalidOhlcvData(report)
    shown = "; ".join(f"p{i}" for i in range(5))
    assert error.message == str(error) == f"The OHLCV data has {count} problems: {shown}{tail}"
    assert error.args == (error.message,)
    assert error.report is report and error.code == "invalid_ohlcv_data"


# ---- conversion and streams ----------------------------------------------------------------------------------------


def test_values_convert_exactly_whatever_their_type() -> None:
    table = pd.DataFrame(
        {
            "open": np.array([D("10.50"), D("10.50")], dtype=object),
            "high": [11, 12],  # int
            "low": [9.1, 9.2],  # float: the shortest repr
            "close": [" 10.25 ", "10.30"],  # text, stripped, its own digits
            "volume": np.array([5, 6], dtype=np.int64),
        },
        index=pd.DatetimeIndex([minute(0), minute(1)]),
    )
    bars = list(ohlcv_bars(table, "X"))
    assert [(str(b.open), str(b.high), str(b.low), str(b.close), str(b.volume)) for b in bars] == [
        ("10.50", "11", "9.1", "10.25", "5"),
        ("10.50", "12", "9.2", "10.30", "6"),
    ]
    assert [b.symbol for b in bars] == ["X", "X"]


def test_a_value_that_does_not_convert_is_refused_without_validation() -> None:
    table = frame([OK_ROW])
    table["close"] = pd.Series(["ten"], index=table.index, dtype=object)
    with pytest.raises(ValueError, match=r"^'ten' is not a number; validate the data first \(validate_ohlcv\)\.$"):
        list(ohlcv_bars(table, "X", validate=False))
    table["close"] = pd.Series(["inf"], index=table.index, dtype=object)
    with pytest.raises(ValueError, match=r"^'inf' is not a number; validate the data first"):
        list(ohlcv_bars(table, "X", validate=False))


def test_equal_values_share_one_decimal_across_columns_and_chunks() -> None:
    rows = [(10.0, 11.0, 9.0, 10.5, 1), (10.5, 11.0, 9.0, 10.0, 1), (10.0, 11.0, 9.0, 10.5, 1)]
    bars = list(ohlcv_bars(frame(rows), "X", chunk_rows=1))
    assert bars[1].open is bars[0].close and bars[2].open is bars[0].open
    assert bars[0].volume == 1 and all(b.high == 11 for b in bars)


def test_a_frame_without_volume_has_zero_volume() -> None:
    bars = list(ohlcv_bars(frame([OK_ROW]).drop(columns=["volume"]), "X"))
    assert bars[0].volume == 0


def test_without_times_conversion_refuses() -> None:
    no_time = pd.DataFrame({"open": [1], "high": [1], "low": [1], "close": [1]})
    with pytest.raises(ValueError, match=r"^No timestamps: give a DatetimeIndex or a column named timestamp"):
        list(ohlcv_bars(no_time, "X", validate=False))


def test_streams_need_a_symbol_and_validate_first() -> None:
    with pytest.raises(ValueError, match=r"^A symbol is needed\.$"):
        ohlcv_bars(frame([OK_ROW]), "")
    bad = frame([(10.0, 8.0, 9.0, 10.0, 1)])
    with pytest.raises(InvalidOhlcvData) as raised:
        ohlcv_bars(bad, "X")
    assert [p.code for p in raised.value.report.problems] == ["high_below_low"]
    assert len(list(ohlcv_bars(bad, "X", validate=False))) == 1
    with pytest.raises(InvalidOhlcvData) as raised:
        FrameBars(bad, "X")
    assert [p.code for p in raised.value.report.problems] == ["high_below_low"]
    assert len(list(FrameBars(bad, "X", validate=False))) == 1


def test_chunks_of_any_size_give_the_same_bars() -> None:
    table = frame([OK_ROW, (10.0, 12.0, 9.5, 11.0, 7), (11.0, 11.5, 10.0, 10.5, 3)])
    expected = list(ohlcv_bars(table, "X", chunk_rows=100))
    assert [b.minute for b in expected] == [minute(0), minute(1), minute(2)]
    for size in (1, 2, 3):
        assert list(ohlcv_bars(table, "X", chunk_rows=size)) == expected
        assert list(FrameBars(table, "X", chunk_rows=size)) == expected


def test_a_frame_window() -> None:
    table = frame([(10.0 + i, 20.0, 5.0, 10.0, i) for i in range(5)])
    source = FrameBars(table, "X", chunk_rows=2)
    window = source.window(1, 4)
    assert [b.open for b in window] == [11, 12, 13] and len(window) == 3
    assert (window.symbol, window.chunk_rows) == ("X", 2)
    assert len(source.window(2, 2)) == 0 and list(source.window(2, 2)) == []  # an empty window is no error
    assert len(source) == 5


def test_frames_bars_validates_each_chunk_before_its_bars() -> None:
    good = frame([OK_ROW])
    bad = frame([(10.0, 8.0, 9.0, 10.0, 1)], start=1)
    stream = frames_bars([good, bad], "X")
    first = next(stream)
    assert (first.symbol, first.minute) == ("X", minute(0))
    with pytest.raises(InvalidOhlcvData) as raised:
        next(stream)
    report = raised.value.report
    assert (report.rows, [(p.code, p.row) for p in report.problems]) == (2, [("high_below_low", 1)])
    assert report.frequency == timedelta(minutes=1)
    assert len(list(frames_bars([good, bad], "X", validate=False))) == 2


def test_csv_first_column_is_the_time_when_none_is_named(tmp_path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(",Open,High,Low,Close\n2026-03-02 14:30,10, 11 ,9,10\n2026-03-02 14:31,10,11,9,NA\n")
    table = read_ohlcv_csv(path)
    assert list(table.columns) == ["timestamp", "Open", "High", "Low", "Close"]
    assert table["Close"].tolist() == ["10", "NA"]  # text kept, "NA" not read as missing
    assert table["High"].tolist() == ["11 ", "11"]
    named = tmp_path / "named.csv"
    named.write_text("Open,Date,High,Low,Close\n10,2026-03-02,11,9,10\n")
    assert list(read_ohlcv_csv(named).columns) == ["Open", "Date", "High", "Low", "Close"]
    empty = tmp_path / "empty.csv"
    empty.write_text("timestamp,open,high,low,close\n")
    assert read_ohlcv_csv(empty).empty
    chunked = tmp_path / "long.csv"
    chunked.write_text("timestamp,open,high,low,close\n" + "".join(f"2026-03-0{d},1,1,1,1\n" for d in (2, 3, 4)))
    assert list(data.validate_csv(chunked, chunk_rows=2).as_dict()["problems"]) == []
    assert read_ohlcv_csv(chunked).index.tolist() == [0, 1, 2]


def test_parquet_with_a_named_time_index(tmp_path) -> None:
    table = frame([OK_ROW, OK_ROW])
    table.index.name = "when"
    path = tmp_path / "bars.parquet"
    table.to_parquet(path)
    assert [b.minute for b in data.parquet_bars(path, "X", chunk_rows=1)] == [minute(0), minute(1)]
    assert data.validate_parquet(path, chunk_rows=1).rows == 2


def test_samples() -> None:
    assert data.sample_path("BTCUSD").name == "BTCUSD.csv"
    assert data.sample_path().name == "GOOG.csv"
    with pytest.raises(ValueError, match=r"^Unknown sample 'SPY'; choose one of GOOG, EURUSD, BTCUSD\.$"):
        data.sample_path("SPY")
    btc = data.sample_bars("BTCUSD")
    assert btc.symbol == "BTCUSD" and len(btc) == len(data.sample_frame("BTCUSD"))
    assert data.sample_bars("BTCUSD", "XBT").symbol == "XBT"
    assert data.bar_list(iter(btc))[0].symbol == "BTCUSD"
    goog = data.sample_bars()
    assert goog.symbol == "GOOG" and len(data.sample_frame()) == len(goog) == 2148


def test_parquet_without_pandas_metadata_takes_its_datetime_column_as_the_time(tmp_path) -> None:
    table = frame([OK_ROW, OK_ROW]).reset_index(names="when")
    table.insert(0, "note", ["a", "b"])
    path = tmp_path / "plain.parquet"
    table.to_parquet(path, index=False)
    bars = list(data.parquet_bars(path, "ACME", chunk_rows=1))
    assert [(b.symbol, b.minute) for b in bars] == [("ACME", minute(0)), ("ACME", minute(1))]


def test_parquet_keeps_a_named_time_column_over_another_datetime_column(tmp_path) -> None:
    table = frame([OK_ROW, OK_ROW]).reset_index(names="loaded_at")
    table["timestamp"] = [minute(10).isoformat(), minute(11).isoformat()]
    path = tmp_path / "named.parquet"
    table.to_parquet(path, index=False)
    assert [b.minute for b in data.parquet_bars(path, "X")] == [minute(10), minute(11)]


def test_file_streams_carry_the_symbol_and_may_skip_validation(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,open,high,low,close\n2026-03-02T14:30:00Z,10,9,11,10\n")
    with pytest.raises(InvalidOhlcvData):
        list(data.csv_bars(path, "X"))
    assert [b.symbol for b in data.csv_bars(path, "ACME", validate=False)] == ["ACME"]
    parquet = tmp_path / "bad.parquet"
    frame([(10.0, 9.0, 11.0, 10.0, 1)]).to_parquet(parquet)
    with pytest.raises(InvalidOhlcvData):
        list(data.parquet_bars(parquet, "X"))
    assert [b.symbol for b in data.parquet_bars(parquet, "ACME", validate=False)] == ["ACME"]
    assert [p.code for p in data.validate_parquet(parquet).problems] == ["high_below_low"]


# ---- more edges --------------------------------------------------------------------------------------------------


def test_a_frame_with_nothing_lists_every_missing_piece() -> None:
    assert [p.code for p in validate_ohlcv(pd.DataFrame()).problems] == [
        "missing_column",
        "missing_column",
        "missing_column",
        "missing_column",
        "missing_time",
        "empty",
    ]


def test_with_a_column_missing_the_other_checks_still_run() -> None:
    no_high = frame([(10.0, 11.0, 9.0, 10.0, -1)]).drop(columns=["high"])
    assert [p.code for p in validate_ohlcv(no_high).problems] == ["missing_column", "negative_volume"]
    no_open = frame([(10.0, 11.0, 9.0, 12.0, 1)]).drop(columns=["open"])
    assert [p.code for p in validate_ohlcv(no_open).problems] == ["missing_column", "close_outside_range"]


def test_intraday_data_is_not_counted_in_business_days() -> None:
    report = validate_ohlcv(frame([OK_ROW] * 2))
    assert report.business_days is False and report.as_dict()["business_days"] is False


def test_two_weekday_midnights_are_daily_business_data() -> None:
    days = pd.DatetimeIndex(["2026-03-06", "2026-03-09"], tz="UTC")  # Fri, Mon
    report = validate_ohlcv(pd.DataFrame([OK_ROW] * 2, columns=COLUMNS, index=days))
    assert report.business_days and report.frequency == timedelta(days=1) and report.gaps == ()


def test_repeated_times_only_give_no_frequency() -> None:
    index = pd.DatetimeIndex([minute(0), minute(0)])
    report = validate_ohlcv(pd.DataFrame([OK_ROW] * 2, columns=COLUMNS, index=index))
    assert [p.code for p in report.problems] == ["duplicate_time"] and report.frequency is None


def test_a_chunk_without_a_readable_time() -> None:
    table = pd.DataFrame({"time": ["?", "??"], "open": [1, 1], "high": [1, 1], "low": [1, 1], "close": [1, 1]})
    report = validate_ohlcv(table)
    assert [p.code for p in report.problems] == ["unparseable_time", "unparseable_time"]
    assert (report.start, report.end, report.frequency) == (None, None, None)


def test_an_unreadable_time_in_a_datetime_index() -> None:
    index = pd.DatetimeIndex([minute(0), pd.NaT, minute(2)])
    report = validate_ohlcv(pd.DataFrame([OK_ROW] * 3, columns=COLUMNS, index=index))
    assert problems(report) == [("unparseable_time", "Row 1: the time NaT is not a date or time.", 1, None)]


def test_a_missing_value_in_a_string_column_is_missing() -> None:
    table = frame([OK_ROW] * 2)
    table["open"] = pd.array(["10", None], dtype="string")
    assert [(p.code, p.row) for p in validate_ohlcv(table).problems] == [("missing_value", 1)]


def test_a_categorical_column_is_read_by_value() -> None:
    table = frame([OK_ROW] * 2)
    table["open"] = pd.Categorical(["10", "x"])
    assert problems(validate_ohlcv(table)) == [
        ("unparseable_value", f"{where(1, minute(1))}: open 'x' is not a finite number.", 1, minute(1))
    ]


def test_equal_numbers_of_different_types_keep_their_own_digits() -> None:
    # The int 11 and the float 11.0 are equal (and hash alike), but convert to "11" and "11.0".
    table = frame([(11.0, 11.0, 9.0, 10.0, 1)])
    table["high"] = [11]
    table["low"] = [11.0]
    table["open"] = [11.0]
    table["close"] = [11.0]
    bar = next(iter(ohlcv_bars(table, "X")))
    assert (str(bar.open), str(bar.high), str(bar.low)) == ("11.0", "11", "11.0")


def test_an_unvalidated_missing_value_is_refused_at_conversion() -> None:
    table = frame([OK_ROW, OK_ROW])
    table["close"] = [10.0, np.nan]
    with pytest.raises(ValueError, match=r"^nan is not a number; validate the data first"):
        list(ohlcv_bars(table, "X", validate=False))


def test_the_samples_need_the_backtesting_package(monkeypatch) -> None:
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    message = r"^The sample data ships with the backtesting package: pip install backtesting==0\.6\.6\.$"
    with pytest.raises(RuntimeError, match=message):
        data.sample_path("GOOG")


def test_a_step_of_one_microsecond_is_a_step() -> None:
    index = pd.DatetimeIndex([T0, T0 + timedelta(microseconds=1), T0 + timedelta(microseconds=2)])
    report = validate_ohlcv(pd.DataFrame([OK_ROW] * 3, columns=COLUMNS, index=index))
    assert report.ok and report.frequency == timedelta(microseconds=1)


def test_the_most_common_step_wins_even_when_it_is_not_the_shortest() -> None:
    index = pd.DatetimeIndex([minute(0), minute(1), minute(3), minute(5), minute(9)])
    report = validate_ohlcv(pd.DataFrame([OK_ROW] * 5, columns=COLUMNS, index=index))
    assert report.frequency == timedelta(minutes=2)
    assert report.gaps == (Gap(minute(5), minute(9), 1),)


def test_a_row_whose_high_is_its_low_still_bounds_open_and_close() -> None:
    report = validate_ohlcv(frame([(6.0, 5.0, 5.0, 4.0, 1)]))
    assert [p.code for p in report.problems] == ["open_outside_range", "close_outside_range"]


def test_without_times_a_value_problem_has_no_time() -> None:
    no_time = pd.DataFrame({"open": [1], "high": [1], "low": [1], "close": [1], "volume": [-1]})
    assert problems(validate_ohlcv(no_time))[1:] == [("negative_volume", "Row 0: volume -1 is negative.", 0, None)]


def test_times_with_different_offsets_are_converted_to_utc() -> None:
    table = pd.DataFrame(
        {
            "time": ["2026-03-02T14:30:00+00:00", "2026-03-02T15:31:00+01:00", "2026-03-02T09:32:00-05:00"],
            "open": [1] * 3,
            "high": [1] * 3,
            "low": [1] * 3,
            "close": [1] * 3,
        }
    )
    assert [b.minute for b in ohlcv_bars(table, "X")] == [minute(0), minute(1), minute(2)]
