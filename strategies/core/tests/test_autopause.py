"""Each auto-pause rule at, just below and just above its threshold."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from strategies.core.autopause import (
    CONSECUTIVE_LOSSES,
    DAILY_LOSS,
    DRAWDOWN,
    SHARPE_BELOW_BENCHMARK,
    AutoPauseConfig,
    Breach,
    config_validate,
    consecutive_losses_breach,
    daily_loss_breach,
    drawdown_breach,
    evaluate,
    losing_streak,
    rolling_sharpes,
    sharpe_breach,
)
from strategies.core.metrics import ClosedTrade
from trading.core.orders import Side

D = Decimal
DAY0 = date(2026, 2, 2)
T0 = datetime(2026, 2, 2, 15, tzinfo=UTC)


def trade(pnl: str, minute: int) -> ClosedTrade:
    return ClosedTrade(
        "AAPL", Side.BUY, D(10), T0, T0 + timedelta(minutes=minute), D(100), D(100) + D(pnl) / 10, D(pnl)
    )


@pytest.mark.parametrize(
    ("equity", "breached"),
    [("90000", True), ("90000.01", False), ("89999.99", True)],
)
def test_drawdown_threshold(equity: str, breached: bool) -> None:
    breach = drawdown_breach(peak=D(100000), equity=D(equity), limit=D("0.10"))
    assert (breach is not None) is breached
    if breach:
        assert breach.rule == DRAWDOWN and breach.limit == D("0.10")
        assert breach.actual == (D(100000) - D(equity)) / D(100000)


def test_drawdown_message() -> None:
    breach = drawdown_breach(peak=D(100000), equity=D(88000), limit=D("0.10"))
    assert breach == Breach(
        DRAWDOWN,
        D("0.10"),
        D("0.12"),
        "Equity 88000 is 12.00 % below its peak 100000, reaching the 10.00 % limit.",
    )
    assert breach.as_dict() == {"rule": DRAWDOWN, "limit": "0.10", "actual": "0.12", "message": breach.message}


@pytest.mark.parametrize(("losses", "breached"), [(2, False), (3, True), (4, True)])
def test_consecutive_losses_threshold(losses: int, breached: bool) -> None:
    trades = [trade("50", 0)] + [trade("-10", i + 1) for i in range(losses)]
    breach = consecutive_losses_breach(trades, limit=3)
    assert (breach is not None) is breached
    if breach:
        assert (breach.rule, breach.limit, breach.actual) == (CONSECUTIVE_LOSSES, D(3), D(losses))
        assert breach.message == f"The last {losses} trades lost money, reaching the limit of 3 losing trades in a row."


def test_streak_follows_exit_time_and_breakeven_ends_it() -> None:
    trades = [trade("-1", 5), trade("-1", 4), trade("0", 3), trade("-1", 2), trade("-1", 1)]
    assert losing_streak(trades) == 2
    assert losing_streak(list(reversed(trades))) == 2
    assert losing_streak([]) == 0


@pytest.mark.parametrize(("strategy", "breached"), [("0.5", False), ("0.499999", True), ("0.500001", False)])
def test_sharpe_threshold(strategy: str, breached: bool) -> None:
    # Limit = benchmark 0.7 - margin 0.2 = 0.5; only strictly below it breaches.
    breach = sharpe_breach(D(strategy), D("0.7"), margin=D("0.2"), days=20)
    assert (breach is not None) is breached
    if breach:
        assert (breach.rule, breach.limit, breach.actual) == (SHARPE_BELOW_BENCHMARK, D("0.5"), D(strategy))
        assert "over 20 days" in breach.message and "less the margin 0.2" in breach.message


RETURNS = {DAY0 + timedelta(days=i): D(v) for i, v in enumerate(["0.01", "-0.005", "0.02", "0.003", "-0.01"])}


def test_rolling_sharpes_equal_when_the_benchmark_is_the_strategy_doubled() -> None:
    doubled = {d: 2 * r for d, r in RETURNS.items()}
    ours, theirs = rolling_sharpes(RETURNS, doubled, window=5)
    assert ours == theirs
    assert sharpe_breach(ours, theirs, margin=D(0), days=5) is None


def test_rolling_sharpes_window_and_alignment() -> None:
    benchmark = {d: r + D("0.001") for d, r in RETURNS.items() if d != DAY0}  # one date missing
    assert rolling_sharpes(RETURNS, benchmark, window=5) is None
    ours, theirs = rolling_sharpes(RETURNS, benchmark, window=4)
    assert theirs > ours  # the same moves plus 0.1 % a day
    flat = {d: D(0) for d in RETURNS}
    assert rolling_sharpes(RETURNS, flat, window=5) is None


@pytest.mark.parametrize(("equity", "breached"), [("97000", True), ("97000.01", False), ("96999.99", True)])
def test_daily_loss_threshold(equity: str, breached: bool) -> None:
    breach = daily_loss_breach(day_start_equity=D(100000), equity=D(equity), limit=D("0.03"))
    assert (breach is not None) is breached
    if breach:
        assert (breach.rule, breach.limit) == (DAILY_LOSS, D("0.03"))
        assert breach.actual == (D(100000) - D(equity)) / D(100000)


def test_evaluate_runs_every_enabled_rule() -> None:
    curve = {DAY0 + timedelta(days=i): D(v) for i, v in enumerate([100000, 101000, 103000, 100000, 92000])}
    benchmark = {d: D("0.01") + D(i % 2) / 1000 for i, d in enumerate(curve)}
    trades = [trade("-1", i) for i in range(5)]
    breaches = evaluate(
        AutoPauseConfig(sharpe_window_days=4),
        equity_curve=curve,
        trades=trades,
        day_start_equity=D(100000),
        benchmark_returns=benchmark,
    )
    assert [b.rule for b in breaches] == [DRAWDOWN, CONSECUTIVE_LOSSES, SHARPE_BELOW_BENCHMARK, DAILY_LOSS]
    assert breaches[0].actual == D(11000) / D(103000) or abs(breaches[0].actual - D(11000) / D(103000)) < D("1e-25")
    assert breaches[3].actual == D("0.08")


def test_evaluate_uses_the_current_equity_and_skips_what_it_cannot_judge() -> None:
    curve = {DAY0: D(100000), DAY0 + timedelta(days=1): D(101000)}
    assert evaluate(AutoPauseConfig(), equity_curve=curve) == []
    (breach,) = evaluate(AutoPauseConfig(daily_loss_limit=None), equity_curve=curve, equity=D(90000))
    assert breach.rule == DRAWDOWN and abs(breach.actual - D(11000) / D(101000)) < D("1e-25")


def test_disabled_rules_never_breach() -> None:
    off = AutoPauseConfig(
        max_drawdown=None, max_consecutive_losses=None, sharpe_window_days=None, daily_loss_limit=None
    )
    curve = {DAY0: D(100000), DAY0 + timedelta(days=1): D(10)}
    assert evaluate(off, equity_curve=curve, trades=[trade("-1", i) for i in range(50)], day_start_equity=D(1e5)) == []


def test_config_defaults_and_validation() -> None:
    assert config_validate(None) == (AutoPauseConfig(), {})
    assert config_validate({"max_drawdown": "0.2", "max_consecutive_losses": None}) == (
        AutoPauseConfig(max_drawdown=D("0.2"), max_consecutive_losses=None),
        {},
    )
    config, errors = config_validate(
        {"max_drawdown": "0", "max_consecutive_losses": 0, "sharpe_window_days": 1, "daily_loss_limit": "1.5", "x": 1}
    )
    assert config is None
    assert errors == {
        "x": ["Unknown parameter for the auto-pause rules."],
        "max_drawdown": ["Must be more than 0."],
        "max_consecutive_losses": ["Must be at least 1."],
        "sharpe_window_days": ["Must be at least 2."],
        "daily_loss_limit": ["Must be at most 1."],
    }
    assert config_validate("off") == (None, {"non_field_errors": ["Send the auto-pause rules as an object."]})  # type: ignore[arg-type]
