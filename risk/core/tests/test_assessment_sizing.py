from datetime import UTC, datetime
from decimal import Decimal

import pytest

from risk.core import sizing
from risk.core.assessment import AssessedPosition, assess, historical_var
from risk.core.states import breaches, marks_observe, state_after, trading_day

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
