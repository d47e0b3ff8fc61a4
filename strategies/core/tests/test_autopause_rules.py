"""Auto-pause rules at their edges: a non-positive base, every message, the risk-free rate, what evaluate skips."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from strategies.core.autopause import (
    DAILY_LOSS,
    DRAWDOWN,
    SHARPE_BELOW_BENCHMARK,
    AutoPauseConfig,
    Breach,
    daily_loss_breach,
    drawdown_breach,
    evaluate,
    rolling_sharpes,
    sharpe_breach,
)
from strategies.core.metrics import daily_returns, sharpe_ratio

D = Decimal
DAY0 = date(2026, 2, 2)
# Daily returns 1 %, -0.50 %, 1.99 %, 0.29 %, -0.97 %: at most a 0.97 % fall from the 102,800 peak.
CURVE = {DAY0 + timedelta(days=i): D(v) for i, v in enumerate([100000, 101000, 100500, 102500, 102800, 101800])}
RETURNS = dict(daily_returns(CURVE))
# The same moves doubled: the same Sharpe ratio without a risk-free rate, a better one with it.
DOUBLED = {day: 2 * r for day, r in RETURNS.items()}


@pytest.mark.parametrize("peak", [D(0), D(-100)])
def test_drawdown_is_not_judged_without_a_positive_peak(peak: Decimal) -> None:
    assert drawdown_breach(peak=peak, equity=D(-200), limit=D("0.10")) is None


def test_drawdown_of_a_small_peak_is_judged() -> None:
    assert drawdown_breach(peak=D(1), equity=D("0.5"), limit=D("0.10")) == Breach(
        DRAWDOWN, D("0.10"), D("0.5"), "Equity 0.5 is 50.00 % below its peak 1, reaching the 10.00 % limit."
    )


@pytest.mark.parametrize("day_start_equity", [D(0), D(-100)])
def test_daily_loss_is_not_judged_without_a_positive_day_start(day_start_equity: Decimal) -> None:
    assert daily_loss_breach(day_start_equity=day_start_equity, equity=D(-200), limit=D("0.03")) is None


def test_daily_loss_of_a_small_account_is_judged_and_says_so() -> None:
    assert daily_loss_breach(day_start_equity=D(1), equity=D("0.96"), limit=D("0.03")) == Breach(
        DAILY_LOSS,
        D("0.03"),
        D("0.04"),
        "Today's loss of 4.00 % from the day's start at 1 reached the 3.00 % limit.",
    )


def test_sharpe_message_without_a_margin() -> None:
    breach = sharpe_breach(D("0.4"), D("0.5"), margin=D(0), days=20)
    assert breach == Breach(
        SHARPE_BELOW_BENCHMARK,
        D("0.5"),
        D("0.4"),
        "The strategy's Sharpe ratio over 20 days, 0.4000, fell below the benchmark's 0.5000.",
    )


def test_sharpe_message_with_a_margin() -> None:
    breach = sharpe_breach(D("0.4"), D("0.7"), margin=D("0.2"), days=30)
    assert breach is not None and breach.message == (
        "The strategy's Sharpe ratio over 30 days, 0.4000, fell below the benchmark's 0.7000 less the margin 0.2."
    )


def test_rolling_sharpes_subtract_the_risk_free_rate_on_both_sides() -> None:
    rate = D("0.05")
    ours, theirs = rolling_sharpes(RETURNS, DOUBLED, window=5, risk_free_rate=rate)
    assert ours == sharpe_ratio(list(RETURNS.values()), risk_free_rate=rate)
    assert theirs == sharpe_ratio(list(DOUBLED.values()), risk_free_rate=rate)
    assert ours < theirs
    without_rate = rolling_sharpes(RETURNS, DOUBLED, window=5)
    assert without_rate is not None and without_rate[0] == without_rate[1]


def test_evaluate_with_every_rule_on_and_none_reached_is_empty() -> None:
    config = AutoPauseConfig(sharpe_window_days=5)
    assert evaluate(config, equity_curve=CURVE, day_start_equity=D(102800), benchmark_returns=DOUBLED) == []


def test_evaluate_uses_the_configured_risk_free_rate_and_window() -> None:
    config = AutoPauseConfig(sharpe_window_days=5, risk_free_rate=D("0.05"))
    (breach,) = evaluate(config, equity_curve=CURVE, day_start_equity=D(102800), benchmark_returns=DOUBLED)
    ours, theirs = rolling_sharpes(RETURNS, DOUBLED, window=5, risk_free_rate=D("0.05"))
    assert breach == sharpe_breach(ours, theirs, margin=D(0), days=5)
    assert breach.message.startswith("The strategy's Sharpe ratio over 5 days, ")


def test_evaluate_without_a_curve_or_an_equity_judges_only_the_trades() -> None:
    assert evaluate(AutoPauseConfig(), equity_curve={}, day_start_equity=D(100000)) == []


def test_evaluate_with_an_equity_but_no_curve_takes_it_as_the_peak() -> None:
    assert evaluate(AutoPauseConfig(), equity_curve={}, equity=D(96000), day_start_equity=D(100000)) == [
        daily_loss_breach(day_start_equity=D(100000), equity=D(96000), limit=D("0.03"))
    ]
