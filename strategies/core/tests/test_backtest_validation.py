"""Kupiec's test on known values; the VaR replay on hand-made days and on a GOOG run."""

import itertools
import math
from datetime import date, timedelta
from decimal import Decimal

import pytest

from risk.core.assessment import historical_var
from strategies.core.backtest.data import sample_bars
from strategies.core.backtest.engine import BacktestConfig, run_backtest
from strategies.core.backtest.signals import strategy_generator
from strategies.core.backtest.sizing import ALL_IN
from strategies.core.backtest.validation import kupiec_pof, var_backtest, var_backtest_series

D = Decimal


def test_kupiec_known_values() -> None:
    # 40 exceptions in 500 days at 95 %: LR = 2[460 ln .92 + 40 ln .08] - 2[460 ln .95 + 40 ln .05] = 8.0790
    result = kupiec_pof(40, 500)
    expected = 2 * (460 * math.log(0.92) + 40 * math.log(0.08)) - 2 * (460 * math.log(0.95) + 40 * math.log(0.05))
    assert result.lr == pytest.approx(expected, rel=1e-12)
    assert result.lr == pytest.approx(8.0790, abs=1e-4)
    # One degree of freedom: P(chi2 > x) = erfc(sqrt(x / 2)).
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(expected / 2)), rel=1e-9)
    assert result.p_value == pytest.approx(0.00448, abs=1e-5)
    assert result.rate == 0.08 and result.rejected
    # Exactly the expected rate: LR 0, p-value 1.
    assert kupiec_pof(25, 500).lr == pytest.approx(0, abs=1e-9) and kupiec_pof(25, 500).p_value == pytest.approx(1)
    # No exception at all: LR = -2 n ln(1 - p).
    assert kupiec_pof(0, 100).lr == pytest.approx(-200 * math.log(0.95))
    assert kupiec_pof(0, 100).p_value == pytest.approx(0.00136, abs=1e-5)  # LR 10.26 on one degree of freedom
    # Basel's 99 % over 250 days: 4 exceptions sit inside the green zone, 10 do not.
    assert not kupiec_pof(4, 250, confidence=0.99).rejected
    assert kupiec_pof(10, 250, confidence=0.99).rejected
    assert kupiec_pof(0, 0).p_value is None
    with pytest.raises(ValueError):
        kupiec_pof(5, 4)


def _days(count: int) -> list[date]:
    return [date(2026, 1, 1) + timedelta(days=i) for i in range(count)]


def test_var_replay_uses_only_the_past_and_counts_exceptions() -> None:
    # Closes alternate 100 / 110 for 22 days (ending on 110), then fall to 95 and recover to 110; 1,000 held.
    closes = [D(100) if i % 2 == 0 else D(110) for i in range(22)] + [D(95), D(110)]
    days = _days(len(closes))
    marks = [(day, {"X": close}) for day, close in zip(days, closes, strict=True)]
    exposures = [(day, {"X": D(1000)}) for day in days]
    equity = {day: D(10000) for day in days}
    result = var_backtest_series(marks, exposures, equity, min_history=20)
    # Scored from the day with 20 past returns (day 21); the VaR is the worst of them: 1000 * (100/110 - 1).
    assert [d.day for d in result.days] == days[21:]
    worst = D(1000) * ((D(100) - D(110)) / D(110))
    assert result.days[0].var == -worst
    assert result.days[0].hypothetical_pnl == D(1000) * (D(110) - D(100)) / D(100)
    drop = result.days[1]
    assert drop.hypothetical_pnl == D(1000) * ((D(95) - D(110)) / D(110)) and drop.hypothetical_exception
    past = closes[:22]
    past_returns = [(b - a) / a for a, b in itertools.pairwise(past)]
    assert drop.var == historical_var({"X": D(1000)}, {"X": past_returns})[0]
    assert not drop.actual_exception  # equity did not move
    assert (result.hypothetical.exceptions, result.hypothetical.observations) == (1, 3)
    assert result.actual.exceptions == 0


def test_flat_days_are_not_scored() -> None:
    days = _days(30)
    marks = [(day, {"X": D(100 + i % 3)}) for i, day in enumerate(days)]
    exposures = [(day, {}) for day in days]
    result = var_backtest_series(marks, exposures, {day: D(1) for day in days}, min_history=2)
    assert result.days == [] and result.hypothetical.observations == 0


def test_var_replay_over_a_goog_backtest() -> None:
    generator = strategy_generator("SMA_CROSSOVER", {"fast_period": 10, "slow_period": 20, "allow_short": True})
    result = run_backtest(sample_bars("GOOG"), generator, BacktestConfig(sizing=ALL_IN, bar_interval=timedelta(days=1)))
    validation = var_backtest(result, lookback=250, min_history=250)
    assert validation.hypothetical.observations == len(validation.days) > 1500
    assert 0.02 < validation.hypothetical.rate < 0.10
    assert validation.as_dict()["hypothetical"]["exceptions"] == validation.hypothetical.exceptions
