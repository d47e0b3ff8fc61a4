"""Kupiec's test and the VaR replay at their edges: bounds and messages, defaults, what is scored and how."""

import itertools
import math
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from risk.core.assessment import historical_var
from strategies.core.backtest.validation import KupiecResult, VarDay, kupiec_pof, var_backtest, var_backtest_series

D = Decimal
THOUSAND = D(1000)


# ---- Kupiec ---------------------------------------------------------------------------------------------------------


def test_kupiec_all_exceptions_and_none() -> None:
    # Every day an exception: LR = -2 n ln p (the (1 - pi) term has no day).
    assert kupiec_pof(10, 10).lr == pytest.approx(-20 * math.log(0.05), rel=1e-12)
    assert kupiec_pof(10, 10).rate == 1.0
    # No exception: LR = -2 n ln(1 - p).
    assert kupiec_pof(0, 10).lr == pytest.approx(-20 * math.log(0.95), rel=1e-12)
    assert kupiec_pof(0, 10).rate == 0.0


def test_kupiec_full_result() -> None:
    result = kupiec_pof(3, 20, confidence=0.9, significance=0.1)
    lr = 2 * (17 * math.log(0.85 / 0.9) + 3 * math.log(0.15 / 0.1))
    assert result == KupiecResult(20, 3, pytest.approx(0.1), 0.15, pytest.approx(lr), pytest.approx(chi2_sf(lr)), 0.1)
    assert result.expected_rate == 0.1  # exactly, not 0.09999999999999998
    assert not result.rejected


def chi2_sf(x: float) -> float:
    return math.erfc(math.sqrt(x / 2))


def test_kupiec_without_observations() -> None:
    assert kupiec_pof(0, 0, confidence=0.99, significance=0.1) == KupiecResult(0, 0, 0.01, None, None, None, 0.1)
    assert not kupiec_pof(0, 0).rejected


def test_rejected_when_the_p_value_is_below_the_significance() -> None:
    p_value = kupiec_pof(3, 20).p_value  # 0.255...
    assert kupiec_pof(3, 20, significance=p_value + 1e-9).rejected
    assert not kupiec_pof(3, 20, significance=p_value).rejected


@pytest.mark.parametrize(("exceptions", "observations"), [(5, 4), (-1, 4), (1, 0), (0, -1)])
def test_kupiec_needs_exceptions_within_the_observations(exceptions: int, observations: int) -> None:
    message = rf"^Need 0 <= exceptions <= observations, got {exceptions} of {observations}\.$"
    with pytest.raises(ValueError, match=message):
        kupiec_pof(exceptions, observations)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1])
def test_kupiec_needs_a_confidence_strictly_between_zero_and_one(confidence: float) -> None:
    with pytest.raises(ValueError, match=rf"^The confidence must lie in \(0, 1\), got {confidence}\.$"):
        kupiec_pof(1, 10, confidence=confidence)
    assert kupiec_pof(1, 10, confidence=0.999).expected_rate == pytest.approx(0.001)


def test_kupiec_as_dict() -> None:
    result = KupiecResult(20, 3, 0.05, 0.15, 2.5, 0.11, 0.05)
    assert result.as_dict() == {
        "observations": 20,
        "exceptions": 3,
        "expected_rate": 0.05,
        "rate": 0.15,
        "lr": 2.5,
        "p_value": 0.11,
        "significance": 0.05,
        "rejected": False,
    }


# ---- the VaR replay -------------------------------------------------------------------------------------------------


def days_from(count: int) -> list[date]:
    return [date(2026, 1, 1) + timedelta(days=i) for i in range(count)]


def replay(closes: list[Decimal], *, held: Decimal = THOUSAND, equity: list[Decimal] | None = None, **options):
    days = days_from(len(closes))
    marks = [(day, {"X": close}) for day, close in zip(days, closes, strict=True)]
    exposures = [(day, {"X": held}) for day in days]
    values = equity or [D(10000)] * len(days)
    return var_backtest_series(marks, exposures, dict(zip(days, values, strict=True)), **options), days


def alternating(count: int) -> list[Decimal]:
    return [D(100) if i % 2 == 0 else D(110) for i in range(count)]


def test_scoring_starts_with_min_history_returns_twenty_by_default() -> None:
    result, days = replay(alternating(23))
    # Day t is scored with the t returns of days 1..t; 20 returns are there on day 20... of the day before: day 21.
    assert [d.day for d in result.days] == days[21:]
    assert [d.observations for d in result.days] == [20, 21]
    shorter, days = replay(alternating(23), min_history=21)
    assert [d.day for d in shorter.days] == days[22:]


def test_the_lookback_keeps_the_latest_returns_250_by_default() -> None:
    # 13 halvings (100 -> 50 -> 100 ...) first, then flat: over 250 returns the VaR is the 13th worst
    # (nearest rank of 5 %), a halving while all 13 are in the window, nothing once the first has left it.
    closes = [D(50) if i % 2 else D(100) for i in range(27)] + [D(100)] * 227
    result, days = replay(closes)
    assert result.lookback == 250
    by_day = {d.day: d for d in result.days}
    assert by_day[days[251]].var == D(500)  # returns 1..250
    assert by_day[days[252]].var == 0  # returns 2..251
    assert max(d.observations for d in result.days) == 250
    crash = [D(100), D(50)] + [D(50)] * 8
    short, days = replay(crash, lookback=3, min_history=2)
    assert [(d.day, d.var) for d in short.days] == [(days[3], D(500)), (days[4], D(500))] + [
        (day, D(0)) for day in days[5:]
    ]


@pytest.mark.parametrize(("lookback", "min_history"), [(1, 20), (250, 1), (1, 1)])
def test_the_replay_needs_two_returns(lookback: int, min_history: int) -> None:
    message = r"^The VaR needs at least two days of returns \(lookback and min_history >= 2\)\.$"
    with pytest.raises(ValueError, match=message):
        var_backtest_series([], [], {}, lookback=lookback, min_history=min_history)
    assert var_backtest_series([], [], {}, lookback=2, min_history=2).days == []


def test_a_day_holding_nothing_is_not_scored() -> None:
    result, _ = replay(alternating(25), held=D(0), min_history=2)
    assert result.days == [] and result.actual.observations == 0


def test_the_hypothetical_and_actual_pnl_and_their_exceptions() -> None:
    closes = [*alternating(4), D(100)]  # 100 110 100 110 100: the last day falls 1/11
    equity = [D(10000), D(10100), D(9950), D(10000), D(9800)]
    result, days = replay(closes, equity=equity, min_history=2)
    assert len(result.days) == 2
    first, last = result.days
    assert first == VarDay(days[3], D(1000) * (D(100) - D(110)) / D(110) * -1, D(100), D(50), 2)
    assert last.hypothetical_pnl == D(1000) * (D(100) - D(110)) / D(110)
    assert last.actual_pnl == D(-200)  # 9800 - 10000
    assert (first.hypothetical_exception, first.actual_exception) == (False, False)
    assert (last.hypothetical_exception, last.actual_exception) == (False, True)  # 90.9 is the VaR, 200 is beyond
    assert (result.actual.exceptions, result.hypothetical.exceptions) == (1, 0)


def test_a_loss_equal_to_the_var_is_no_exception() -> None:
    day = VarDay(date(2026, 1, 1), D(50), D(-50), D("-50.01"), 20)
    assert not day.hypothetical_exception and day.actual_exception


def test_the_var_uses_the_confidence_and_kupiec_the_confidence_and_significance() -> None:
    # 20 returns: 19 of +10 % and one of -30 %; 95 % takes the worst (rank 1 of 20), 99 % too, 90 % the second.
    closes = [D(100)]
    for i in range(21):
        closes.append(closes[-1] * (D("0.7") if i == 5 else D("1.1")))
    result, _ = replay(closes, min_history=20, confidence=D("0.90"), significance=0.2)
    past = [(b - a) / a for a, b in itertools.pairwise(closes[:-1])]
    assert result.days[0].var == historical_var({"X": D(1000)}, {"X": past}, confidence=D("0.90"))[0]
    assert result.days[0].var == 0  # the second worst is a gain
    assert result.confidence == D("0.90")
    assert result.hypothetical.expected_rate == pytest.approx(0.1) and result.actual.expected_rate == pytest.approx(0.1)
    assert result.hypothetical.significance == 0.2 and result.actual.significance == 0.2
    default, _ = replay(closes, min_history=20)
    assert default.days[0].var == D(300)
    assert default.confidence == D("0.95") and default.hypothetical.significance == 0.05
    assert default.actual.significance == 0.05


def test_a_symbol_without_a_mark_today_counts_no_return() -> None:
    days = days_from(5)
    marks = [(day, {"X": close, "Y": D(50)}) for day, close in zip(days, alternating(5), strict=True)]
    marks[4] = (days[4], {"X": D(100)})  # Y has no close on the last day
    exposures = [(day, {"X": D(1000), "Y": D(500)}) for day in days]
    result = var_backtest_series(marks, exposures, dict.fromkeys(days, D(1)), min_history=2)
    assert result.days[-1].hypothetical_pnl == D(1000) * (D(100) - D(110)) / D(110)


def test_a_zero_close_has_no_return_and_a_penny_close_has() -> None:
    days = days_from(6)
    zero = [(day, {"X": close}) for day, close in zip(days, [D(1), D(0), D(2), D(1), D(2), D(1)], strict=True)]
    exposures = [(day, {"X": D(100)}) for day in days]
    result = var_backtest_series(zero, exposures, dict.fromkeys(days, D(1)), min_history=2)
    # Returns: none from 0 to 2; then -1/2, +1, -1/2: the first scored day has 2 returns (day 2 -> 3 -> 4).
    assert [(d.day, d.observations) for d in result.days] == [(days[4], 2), (days[5], 3)]
    penny = [(day, {"X": close}) for day, close in zip(days, [D("0.5"), D("0.6"), D("0.5")] * 2, strict=True)]
    result = var_backtest_series(penny, exposures, dict.fromkeys(days, D(1)), min_history=2)
    assert [d.observations for d in result.days] == [2, 3, 4]


def test_var_backtest_reads_a_results_series_and_passes_the_options() -> None:
    days = days_from(6)
    closes = alternating(6)
    result = SimpleNamespace(
        daily_marks=[(day, {"X": close}) for day, close in zip(days, closes, strict=True)],
        daily_exposure=[(day, {"X": D(1000)}) for day in days],
        equity_daily=dict.fromkeys(days, D(5000)),
    )
    validation = var_backtest(result, min_history=2, lookback=2)
    assert [d.observations for d in validation.days] == [2, 2, 2]
    assert validation.lookback == 2


def test_the_validation_as_a_dict() -> None:
    closes = [*alternating(4), D(100)]
    equity = [D(10000), D(10100), D(9950), D(10000), D(9800)]
    result, days = replay(closes, equity=equity, min_history=2, confidence=D("0.9"))
    as_dict = result.as_dict()
    assert as_dict["confidence"] == "0.9" and as_dict["lookback"] == 250 and as_dict["scored_days"] == 2
    assert as_dict["hypothetical"] == result.hypothetical.as_dict()
    assert as_dict["actual"] == result.actual.as_dict()
    last = result.days[1]
    assert as_dict["days"][1] == {
        "day": days[4].isoformat(),
        "var": str(last.var),
        "hypothetical_pnl": str(last.hypothetical_pnl),
        "actual_pnl": "-200",
        "hypothetical_exception": False,
        "actual_exception": True,
    }
    assert set(as_dict) == {"confidence", "lookback", "scored_days", "hypothetical", "actual", "days"}
