import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from risk.core import sizing
from risk.core.assessment import AssessedPosition, LimitUse, assess, daily_returns, historical_var
from risk.core.states import Breach, EquityMarks, breaches, marks_observe, state_after, trading_day

D = Decimal
AT = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)


def test_historical_var_is_the_fifth_percentile_loss() -> None:
    # 20 days: the worst return -10 %, the next -5 %; ceil(0.05 * 20) = 1st worst.
    returns = [D("0.01")] * 18 + [D("-0.05"), D("-0.10")]
    var, days = historical_var({"AAA": D(1000)}, {"AAA": returns})
    assert (var, days) == (D("100.00"), 20)
    var, days = historical_var({"AAA": D(1000)}, {"AAA": returns + [D("0.01")] * 20})
    assert (var, days) == (D("50.00"), 40)  # 2nd worst of 40
    assert historical_var({"AAA": D(1000)}, {}) == (None, 0)


def test_assessment_exposures_concentration_and_utilization() -> None:
    positions = [
        AssessedPosition("AAA", "Tech", D(10), D(100)),
        AssessedPosition("BBB", "Tech", D(-10), D(100)),
        AssessedPosition("CCC", "Energy", D(20), D(100)),
    ]
    a = assess(
        positions=positions,
        cash=D(6000),
        returns={},
        day_start_equity=D(9000),
        high_water_mark=D(10000),
        limits={"max_position_size": D("0.25"), "daily_loss_limit": D("0.05"), "max_drawdown": D("0.2")},
        at=AT,
    )
    assert (a.equity, a.gross_exposure, a.net_exposure) == (D(8000), D(4000), D(2000))
    assert a.exposure_by_sector == {"Tech": D(2000), "Energy": D(2000)}
    assert a.largest_weight == D("0.5")
    assert a.hhi == D("0.375")
    assert (a.daily_pnl, a.drawdown) == (D(-1000), D(2000))
    uses = {u.name: u.utilization_pct for u in a.limits}
    assert uses["max_position_size"] == D("100.00")  # 2,000 of 0.25 x 8,000
    assert uses["daily_loss_limit"] == D("222.22")  # 1,000 lost of 450
    assert uses["max_drawdown"] == D("100.00")
    assert uses["max_net_exposure"] is None
    assert a.as_dict()["var_95_1d"] is None


def test_marks_roll_over_at_the_exchange_day() -> None:
    evening = datetime(2024, 3, 1, 23, 0, tzinfo=UTC)  # 18:00 in New York, still March 1st
    assert trading_day(evening).isoformat() == "2024-03-01"
    marks = marks_observe(day=None, day_start=None, high_water=None, equity=D(100), now=evening)
    later = marks_observe(
        day=marks.trading_day,
        day_start=marks.day_start_equity,
        high_water=marks.high_water_mark,
        equity=D(120),
        now=datetime(2024, 3, 2, 6, 0, tzinfo=UTC),  # 01:00 in New York: a new day
    )
    assert (later.day_start_equity, later.high_water_mark) == (D(120), D(120))


@pytest.mark.parametrize(("equity", "found"), [("9501", []), ("9500", ["daily_loss_limit_exceeded"])])
def test_breaches_at_the_boundary(equity: str, found: list[str]) -> None:
    marks = marks_observe(day=None, day_start=None, high_water=None, equity=D(10000), now=AT)
    result = breaches(
        scope="account",
        equity=D(equity),
        marks=marks,
        daily_loss_limit=D("0.05"),
        daily_loss_action="HALTED",
        max_drawdown=D("0.2"),
        drawdown_action="REDUCE_ONLY",
    )
    assert [b.code for b in result] == found


def test_states_only_tighten_by_themselves() -> None:
    assert state_after("ACTIVE", "REDUCE_ONLY") == "REDUCE_ONLY"
    assert state_after("HALTED", "REDUCE_ONLY") == "HALTED"
    assert state_after("REDUCE_ONLY", "EMERGENCY_STOP") == "HALTED"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"method": "fixed_fraction", "fraction": D("0.1")}, D(100)),
        ({"method": "confidence", "fraction": D("0.1"), "confidence": D("0.5")}, D(50)),
        # 1 % target / 2 % daily vol: half the capital
        ({"method": "volatility_target", "volatility": D("0.02"), "target_volatility": D("0.01")}, D(500)),
        # p 0.6, b 1: f* 0.2, half-Kelly 0.1
        ({"method": "kelly", "win_probability": D("0.6")}, D(100)),
        # capped at 0.05
        ({"method": "kelly", "win_probability": D("0.9"), "kelly_cap": D("0.05")}, D(50)),
        ({"method": "kelly", "win_probability": D("0.3")}, D(0)),
    ],
)
def test_sizing_methods(kwargs: dict, expected: Decimal) -> None:
    raw = sizing.raw_quantity(capital=D(100000), price=D(100), **kwargs)
    assert sizing.position_size(raw=raw, lot_size=D(1), max_quantity=None, method=kwargs["method"]).quantity == expected


def test_sizing_respects_lot_and_the_risk_maximum() -> None:
    size = sizing.position_size(raw=D("257.9"), lot_size=D(10), max_quantity=D(123), method="kelly")
    assert (size.quantity, size.unclamped_quantity, size.limited_by_risk) == (D(120), D(250), True)


def test_volatility_inputs() -> None:
    assert sizing.stdev([D("0.01"), D("-0.01")]) == D("0.01414213562373095048801688724")
    assert sizing.average_true_range([D(11), D(12)], [D(9), D(10)], [D(10), D(11)]) == D(2)
    with pytest.raises(ValueError, match="not a sizing method"):
        sizing.raw_quantity(method="martingale", capital=D(1), price=D(1))


# Sizing: every input reaches the result ---------------------------------------------------------
def test_stdev_is_the_sample_standard_deviation_around_the_mean() -> None:
    # Mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5 over n - 1 = 3.
    assert sizing.stdev([D(1), D(2), D(3), D(4)]) == (D(5) / 3).sqrt()
    assert sizing.stdev([D(10), D(10)]) == D(0)


@pytest.mark.parametrize(
    ("highs", "lows", "closes", "expected"),
    [
        # Bar 2 gaps up over a close of 10: its range is high - previous close, 14 - 10 = 4 (high - low is 1).
        (["11", "14"], ["9", "13"], ["10", "13.5"], "4"),
        # Bar 2 gaps down under a close of 10: previous close - low, 10 - 6 = 4 (high - low is 1).
        (["11", "7"], ["9", "6"], ["10", "6.5"], "4"),
        # Three bars, each against its own previous close: 12 - 10 = 2, then 17 - 11 = 6; the mean is 4.
        (["11", "12", "17"], ["9", "10", "13"], ["10", "11", "16"], "4"),
        # No gap: the previous close of 10 lies inside 8..12, so the range is high - low, 4.
        (["11", "12"], ["9", "8"], ["10", "11"], "4"),
    ],
)
def test_average_true_range_takes_gaps_into_account(highs, lows, closes, expected: str) -> None:
    assert sizing.average_true_range([D(h) for h in highs], [D(lo) for lo in lows], [D(c) for c in closes]) == D(
        expected
    )


@pytest.mark.parametrize(
    ("highs", "lows", "closes"),
    [(["11"], ["9"], ["10"]), (["11", "12"], ["9"], ["10", "11"]), (["11", "12"], ["9", "10"], ["10", "11", "12"])],
)
def test_average_true_range_needs_two_aligned_bars(highs, lows, closes) -> None:
    with pytest.raises(ValueError, match=r"^ATR needs at least two aligned bars\.$"):
        sizing.average_true_range([D(h) for h in highs], [D(lo) for lo in lows], [D(c) for c in closes])


def test_stdev_needs_two_returns() -> None:
    with pytest.raises(ValueError, match=r"^At least two returns are needed for a volatility\.$"):
        sizing.stdev([D("0.01")])


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # Kelly with a payoff ratio of 2: f* = 0.6 - 0.4 / 2 = 0.4, half-Kelly 0.2, capped at 0.25: 200 units.
        ({"method": "kelly", "win_probability": D("0.6"), "payoff_ratio": D(2)}, D(200)),
        # The win probability defaults to the signal's confidence: 0.6 -> f* 0.2, half 0.1.
        ({"method": "kelly", "confidence": D("0.6")}, D(100)),
        # The cap binds: f* = 0.9 - 0.1 / 3 = 0.8667, half 0.4333 -> 0.25.
        ({"method": "kelly", "win_probability": D("0.9"), "payoff_ratio": D(3)}, D(250)),
        # Volatility target with a 2 % target over a 1 % volatility: twice the capital.
        ({"method": "volatility_target", "volatility": D("0.01"), "target_volatility": D("0.02")}, D(2000)),
        # A negative fraction sizes nothing.
        ({"method": "fixed_fraction", "fraction": D("-0.1")}, D(0)),
    ],
)
def test_sizing_methods_use_every_input(kwargs: dict, expected: Decimal) -> None:
    assert sizing.raw_quantity(capital=D(100000), price=D(100), **kwargs) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"price": D(0)}, "The price must be a positive number, got 0."),
        ({"price": D(-1)}, "The price must be a positive number, got -1."),
        ({"price": D("NaN")}, "The price must be a positive number, got NaN."),
        ({"method": "volatility_target", "volatility": D(0), "target_volatility": D("0.01")}, "VOL"),
        ({"method": "volatility_target", "volatility": D("-0.01"), "target_volatility": D("0.01")}, "VOL"),
        ({"method": "volatility_target", "volatility": None, "target_volatility": D("0.01")}, "VOL"),
        ({"method": "volatility_target", "volatility": D("0.01")}, "VOL"),
        ({"method": "kelly", "win_probability": D("0.6"), "payoff_ratio": D(0)}, "The payoff ratio must be positive."),
        ({"method": "kelly", "win_probability": D("0.6"), "payoff_ratio": D(-1)}, "The payoff ratio must be positive."),
        (
            {"method": "martingale"},
            "martingale is not a sizing method; use one of fixed_fraction, confidence, volatility_target, kelly.",
        ),
    ],
)
def test_sizing_refuses_bad_input_with_its_reason(kwargs: dict, message: str) -> None:
    if message == "VOL":
        message = "Volatility targeting needs a positive volatility and a target."
    arguments = {"method": "fixed_fraction", "capital": D(1000), "price": D(10), **kwargs}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        sizing.raw_quantity(**arguments)


@pytest.mark.parametrize(
    ("raw", "maximum", "expected", "limited"),
    [
        ("120", "120", ("120", "120"), False),  # exactly at the risk maximum: not limited
        ("120", "119", ("119", "120"), True),
        ("120", None, ("120", "120"), False),
        ("120", "-5", ("0", "120"), True),  # a maximum below 0 sizes nothing
    ],
)
def test_position_size_at_the_risk_maximum(raw: str, maximum: str | None, expected, limited: bool) -> None:
    size = sizing.position_size(
        raw=D(raw), lot_size=D(1), max_quantity=None if maximum is None else D(maximum), method="kelly"
    )
    assert size == sizing.PositionSize(
        quantity=D(expected[0]), method="kelly", unclamped_quantity=D(expected[1]), limited_by_risk=limited
    )


# Assessment: every figure and its place in the answer ------------------------------------------------
def test_daily_returns_skip_a_non_positive_close() -> None:
    assert daily_returns([D(100), D(110), D(99)]) == [D("0.1"), D("-0.1")]
    # A close of 0 has no return to the next day; a close below 1 still does.
    assert daily_returns([D(0), D(5), D("0.5"), D(1)]) == [D("-0.9"), D(1)]
    assert daily_returns([D(7)]) == []


def test_historical_var_aligns_on_the_most_recent_days() -> None:
    # AAA has 3 days, BBB 2: the two most recent days of each are paired.
    returns = {"AAA": [D("0.5"), D("-0.1"), D("0.2")], "BBB": [D("-0.2"), D("0.1")]}
    var, days = historical_var({"AAA": D(100), "BBB": D(100)}, returns)
    # Day 1: -10 - 20 = -30; day 2: 20 + 10 = 30. The worst of 2 (ceil(0.05 x 2) = 1st) is a loss of 30.
    assert (var, days) == (D("30.0"), 2)
    assert historical_var({"AAA": D(100)}, {"AAA": [D("0.1")]}) == (None, 1)
    # A symbol without history counts as no move; a gain-only history has no loss.
    assert historical_var({"AAA": D(100), "CCC": D(50)}, {"AAA": [D("0.1"), D("0.2")]}) == (D(0), 2)


def test_an_empty_portfolio_is_all_decimal_zeros() -> None:
    a = assess(
        positions=[], cash=D(1000), returns={}, day_start_equity=D(1000), high_water_mark=D(1000), limits={}, at=AT
    )
    figures = (a.gross_exposure, a.net_exposure, a.largest_weight, a.hhi, a.drawdown, a.daily_pnl)
    assert all(type(x) is Decimal and x == 0 for x in figures)
    assert [(u.name, u.limit, u.actual) for u in a.limits] == [
        ("max_position_size", None, D(0)),
        ("max_portfolio_exposure", None, D(0)),
        ("max_net_exposure", None, D(0)),
        ("max_sector_exposure", None, D(0)),
        ("daily_loss_limit", None, D(0)),
        ("max_drawdown", None, D(0)),
    ]
    assert all(type(u.actual) is Decimal for u in a.limits)
    assert (a.trading_state, a.var_95_1d, a.var_observations, a.daily_loss_limit) == ("ACTIVE", None, 0, None)


def test_assessment_answer_in_full() -> None:
    positions = [
        AssessedPosition("AAA", "Tech", D(10), D(100)),
        AssessedPosition("AAA", "Tech", D(5), D(100)),  # a second position in the same symbol adds up
        AssessedPosition("BBB", "Tech", D(-10), D(50)),
        AssessedPosition("CCC", "Energy", D(4), D(125)),
    ]
    a = assess(
        positions=positions,
        cash=D(10000),
        returns={"AAA": [D("0.01"), D("-0.02")], "BBB": [D("0.02"), D("0.04")]},
        day_start_equity=D(12000),
        high_water_mark=D(11000),
        limits={
            "max_position_size": D("0.1"),
            "max_portfolio_exposure": D("0.5"),
            "max_net_exposure": D("0.2"),
            "max_sector_exposure": D("0.3"),
            "daily_loss_limit": D("0.05"),
            "max_drawdown": D("0.1"),
        },
        at=AT,
        trading_state="REDUCE_ONLY",
    )
    # AAA 1,500, BBB -500, CCC 500: gross 2,500, net 1,500, equity 11,500 (a new high-water mark).
    assert a.as_dict() == {
        "at": "2024-03-01T15:00:00+00:00",
        "equity": "11500",
        "gross_exposure": "2500",
        "net_exposure": "1500",
        "exposure_by_symbol": {"AAA": "1500", "BBB": "-500", "CCC": "500"},
        "exposure_by_sector": {"Tech": "2000", "Energy": "500"},
        "concentration": {"largest_weight": "0.6", "hhi": "0.44"},
        # Day 1: 15 - 10 = 5; day 2: -30 - 20 = -50. The worst of 2 is a loss of 50.
        "var_95_1d": "50.00",
        "var_observations": 2,
        "drawdown": "0",
        "high_water_mark": "11500",
        "daily_pnl": "-500",
        "daily_loss_limit": "600.00",
        "trading_state": "REDUCE_ONLY",
        "utilization": {
            "max_position_size": {"limit": "1150.0", "actual": "1500", "pct": "130.43"},
            "max_portfolio_exposure": {"limit": "5750.0", "actual": "2500", "pct": "43.48"},
            "max_net_exposure": {"limit": "2300.0", "actual": "1500", "pct": "65.22"},
            "max_sector_exposure": {"limit": "3450.0", "actual": "2000", "pct": "57.97"},
            "daily_loss_limit": {"limit": "600.00", "actual": "500", "pct": "83.33"},
            "max_drawdown": {"limit": "1150.0", "actual": "0", "pct": "0.00"},
        },
    }


@pytest.mark.parametrize(
    ("limit", "actual", "pct"),
    [(None, "5", None), ("0", "5", D(100)), ("0", "0", D(0)), ("-1", "0", D(0)), ("3", "1", D("33.33"))],
)
def test_utilization_of_a_limit(limit: str | None, actual: str, pct: Decimal | None) -> None:
    use = LimitUse("x", None if limit is None else D(limit), D(actual))
    assert use.utilization_pct == pct


def test_weights_of_a_portfolio_worth_less_than_one() -> None:
    a = assess(
        positions=[AssessedPosition("AAA", "Tech", D(1), D("0.25")), AssessedPosition("BBB", "Tech", D(3), D("0.25"))],
        cash=D(0),
        returns={},
        day_start_equity=D(1),
        high_water_mark=D(1),
        limits={},
        at=AT,
    )
    assert (a.largest_weight, a.hhi) == (D("0.75"), D("0.625"))


# Trading states ---------------------------------------------------------------------------------------
def test_trading_day_is_new_yorks_date() -> None:
    assert trading_day(datetime(2024, 3, 2, 3, 0, tzinfo=UTC)).isoformat() == "2024-03-01"  # 22:00 the day before
    with pytest.raises(ValueError, match=r"^The time must be timezone-aware\.$"):
        trading_day(datetime(2024, 3, 2, 3, 0))


def test_marks_keep_the_day_start_within_a_day_and_the_high_water_mark_until_passed() -> None:
    first = marks_observe(day=None, day_start=None, high_water=None, equity=D(100), now=AT)
    assert first == EquityMarks(trading_day=AT.date(), day_start_equity=D(100), high_water_mark=D(100))
    lower = marks_observe(day=first.trading_day, day_start=D(100), high_water=D(100), equity=D(90), now=AT)
    assert lower == EquityMarks(trading_day=AT.date(), day_start_equity=D(100), high_water_mark=D(100))
    higher = marks_observe(day=first.trading_day, day_start=D(100), high_water=D(100), equity=D(120), now=AT)
    assert higher == EquityMarks(trading_day=AT.date(), day_start_equity=D(100), high_water_mark=D(120))
    # A day start that was never taken is taken now, on the same day.
    late = marks_observe(day=first.trading_day, day_start=None, high_water=D(130), equity=D(110), now=AT)
    assert late == EquityMarks(trading_day=AT.date(), day_start_equity=D(110), high_water_mark=D(130))


def test_breaches_in_full() -> None:
    marks = EquityMarks(trading_day=AT.date(), day_start_equity=D(10000), high_water_mark=D(12000))
    found = breaches(
        scope="strategy",
        equity=D(9000),
        marks=marks,
        daily_loss_limit=D("0.05"),
        daily_loss_action="HALTED",
        max_drawdown=D("0.2"),
        drawdown_action="REDUCE_ONLY",
    )
    assert found == [
        Breach(
            "daily_loss_limit_exceeded",
            D(500),
            D(1000),
            "HALTED",
            "The strategy lost 1000 today, reaching its daily loss limit of 500.00.",
        ),
        Breach(
            "max_drawdown_exceeded",
            D(2400),
            D(3000),
            "REDUCE_ONLY",
            "The strategy is 3000 below its high-water mark 12000, reaching its maximum drawdown of 2400.0.",
        ),
    ]
    assert found[0].message == "The strategy lost 1000 today, reaching its daily loss limit of 500.00."
    assert (
        breaches(
            scope="account",
            equity=D(9000),
            marks=marks,
            daily_loss_limit=None,
            daily_loss_action="HALTED",
            max_drawdown=None,
            drawdown_action="REDUCE_ONLY",
        )
        == []
    )


@pytest.mark.parametrize(
    ("current", "action", "expected"),
    [
        ("ACTIVE", "HALTED", "HALTED"),
        ("REDUCE_ONLY", "REDUCE_ONLY", "REDUCE_ONLY"),
        ("ACTIVE", "EMERGENCY_STOP", "HALTED"),
        # An action the table does not know never loosens or changes a state...
        ("ACTIVE", "PAUSED", "ACTIVE"),
        ("REDUCE_ONLY", "PAUSED", "REDUCE_ONLY"),
        # ...and a state it does not know is tightened like ACTIVE.
        ("PAUSED", "REDUCE_ONLY", "REDUCE_ONLY"),
        ("PAUSED", "ACTIVE", "PAUSED"),
    ],
)
def test_state_after(current: str, action: str, expected: str) -> None:
    assert state_after(current, action) == expected


def test_historical_var_pairs_each_day_of_one_symbol_with_the_same_day_of_another() -> None:
    # AAA's last two days (0.1, 0.2) pair with BBB's two (0.1, 0.3): both gains, no loss at all.
    returns = {"AAA": [D("-0.9"), D("0.1"), D("0.2")], "BBB": [D("0.1"), D("0.3")]}
    assert historical_var({"AAA": D(100), "BBB": D(100)}, returns) == (D(0), 2)


def test_a_portfolio_worth_nothing_has_no_weights() -> None:
    a = assess(
        positions=[AssessedPosition("AAA", "Tech", D(0), D(100))],
        cash=D(10),
        returns={},
        day_start_equity=D(10),
        high_water_mark=D(10),
        limits={},
        at=AT,
    )
    assert (a.gross_exposure, a.largest_weight, a.hhi) == (D(0), D(0), D(0))
