"""Auto-pause through the service: each rule over the stored performance moves the strategy to AUTO_PAUSED."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from strategies.autopausing import strategy_autopause_check
from strategies.models import Strategy, StrategyPerformance, StrategyTrade
from trading.events import EventType
from trading.models import Bar, Event

NOW = datetime(2026, 9, 18, 20, 0, tzinfo=UTC)
TODAY = NOW.date()
OFF = {"max_drawdown": None, "max_consecutive_losses": None, "sharpe_window_days": None, "daily_loss_limit": None}


def _configure(strategy: Strategy, rules: dict | None, *, status: str = "RUNNING") -> None:
    configuration = {"parameters": {}}
    if rules is not None:
        configuration["auto_pause"] = rules
    Strategy.objects.filter(pk=strategy.pk).update(configuration=configuration, status=status)


def _curve(strategy: Strategy, values: list[str]) -> list[date]:
    days = [TODAY - timedelta(days=len(values) - 1 - i) for i in range(len(values))]
    equity = [{"day": d.isoformat(), "equity": v, "drawdown": "0"} for d, v in zip(days, values, strict=True)]
    StrategyPerformance.objects.update_or_create(strategy=strategy, defaults={"equity": equity, "metrics": {}})
    return days


def _trades(strategy: Strategy, pnls: list[str]) -> None:
    for i, pnl in enumerate(pnls):
        at = NOW - timedelta(hours=len(pnls) - i)
        StrategyTrade.objects.create(
            strategy=strategy,
            symbol="AAPL",
            side="BUY",
            quantity=Decimal(10),
            entry_at=at - timedelta(minutes=5),
            exit_at=at,
            entry_price=Decimal(100),
            exit_price=Decimal(100) + Decimal(pnl) / 10,
            pnl=Decimal(pnl),
            return_fraction=Decimal(pnl) / 1000,
            commission=Decimal(0),
        )


def _paused_event(strategy: Strategy) -> Event:
    return Event.objects.get(type=EventType.STRATEGY_AUTO_PAUSED, strategy=strategy)


def _status(strategy: Strategy) -> str:
    return Strategy.objects.get(pk=strategy.pk).status


def test_drawdown_beyond_the_limit_auto_pauses_with_a_warning_naming_rule_and_figures(demo):
    strategy = demo.strategy
    _configure(strategy, {**OFF, "max_drawdown": "0.10"})
    _curve(strategy, ["100000", "104000", "93000"])

    breaches = strategy_autopause_check(strategy, now=NOW)

    assert [b.rule for b in breaches] == ["auto_pause_drawdown"]
    assert _status(strategy) == "AUTO_PAUSED"
    event = _paused_event(strategy)
    assert event.severity == "WARNING"
    assert event.payload["rules"] == ["auto_pause_drawdown"]
    (breach,) = event.payload["breaches"]
    assert Decimal(breach["limit"]) == Decimal("0.10")
    assert abs(Decimal(breach["actual"]) - (Decimal(104000) - Decimal(93000)) / Decimal(104000)) < Decimal("1e-25")
    assert "93000" in breach["message"] and "104000" in breach["message"]
    assert event.payload["previous_status"] == "RUNNING"
    assert Strategy.objects.get(pk=strategy.pk).status_changed_at is not None


def test_a_drawdown_under_the_limit_keeps_it_running(demo):
    _configure(demo.strategy, {**OFF, "max_drawdown": "0.10"})
    _curve(demo.strategy, ["100000", "104000", "94000"])
    assert strategy_autopause_check(demo.strategy, now=NOW) == []
    assert _status(demo.strategy) == "RUNNING"
    assert not Event.objects.filter(type=EventType.STRATEGY_AUTO_PAUSED).exists()


def test_n_consecutive_losing_trades_auto_pause(demo):
    strategy = demo.strategy
    _configure(strategy, {**OFF, "max_consecutive_losses": 3})
    _curve(strategy, ["100000", "99900"])
    _trades(strategy, ["50", "-10", "-20", "-5"])

    breaches = strategy_autopause_check(strategy, now=NOW)

    assert [(b.rule, b.actual, b.limit) for b in breaches] == [("auto_pause_consecutive_losses", 3, 3)]
    assert _status(strategy) == "AUTO_PAUSED"


def test_a_win_ends_the_losing_streak(demo):
    _configure(demo.strategy, {**OFF, "max_consecutive_losses": 3})
    _curve(demo.strategy, ["100000", "99900"])
    _trades(demo.strategy, ["-10", "-20", "-5", "1"])
    assert strategy_autopause_check(demo.strategy, now=NOW) == []
    assert _status(demo.strategy) == "RUNNING"


def _benchmark(closes: list[str], days: list[date]) -> None:
    for day, close in zip(days, closes, strict=True):
        minute = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=19, minutes=59)
        price = Decimal(close)
        Bar.objects.create(symbol="SPY", minute=minute, open=price, high=price, low=price, close=price)


def test_a_rolling_sharpe_below_the_benchmarks_auto_pauses(demo):
    strategy = demo.strategy
    _configure(strategy, {**OFF, "sharpe_window_days": 4})
    days = _curve(strategy, ["100000", "99800", "99900", "99500", "99600"])
    _benchmark(["560", "563", "562", "566", "569"], days)

    breaches = strategy_autopause_check(strategy, now=NOW)

    assert [b.rule for b in breaches] == ["auto_pause_sharpe_below_benchmark"]
    assert breaches[0].actual < 0 < breaches[0].limit
    assert _status(strategy) == "AUTO_PAUSED"


def test_beating_the_benchmarks_sharpe_keeps_it_running(demo):
    _configure(demo.strategy, {**OFF, "sharpe_window_days": 4})
    days = _curve(demo.strategy, ["100000", "100900", "101300", "102900", "103000"])
    _benchmark(["560", "563", "562", "566", "569"], days)
    assert strategy_autopause_check(demo.strategy, now=NOW) == []


def test_the_days_loss_from_yesterdays_close_auto_pauses(demo):
    strategy = demo.strategy
    _configure(strategy, {**OFF, "daily_loss_limit": "0.03"})
    _curve(strategy, ["100000", "101000", "97900"])

    breaches = strategy_autopause_check(strategy, now=NOW)

    assert [b.rule for b in breaches] == ["auto_pause_daily_loss"]
    assert abs(breaches[0].actual - (Decimal(101000) - Decimal(97900)) / Decimal(101000)) < Decimal("1e-25")
    assert _status(strategy) == "AUTO_PAUSED"


def test_a_paused_strategy_that_breaches_needs_re_approval_too(demo):
    _configure(demo.strategy, {**OFF, "daily_loss_limit": "0.03"}, status="PAUSED")
    _curve(demo.strategy, ["100000", "90000"])
    assert strategy_autopause_check(demo.strategy, now=NOW)
    assert _status(demo.strategy) == "AUTO_PAUSED"
    assert _paused_event(demo.strategy).payload["previous_status"] == "PAUSED"


@pytest.mark.parametrize("status", ["STOPPED", "DRAFT", "AUTO_PAUSED"])
def test_only_running_or_paused_strategies_are_auto_paused(demo, status):
    _configure(demo.strategy, {**OFF, "daily_loss_limit": "0.03"}, status=status)
    _curve(demo.strategy, ["100000", "90000"])
    assert strategy_autopause_check(demo.strategy, now=NOW) == []
    assert _status(demo.strategy) == status
    assert not Event.objects.filter(type=EventType.STRATEGY_AUTO_PAUSED).exists()


@pytest.mark.parametrize("rules", [None, {"max_drawdown": "2"}])
def test_no_rules_or_invalid_rules_pause_nothing(demo, rules):
    _configure(demo.strategy, rules)
    _curve(demo.strategy, ["100000", "50000"])
    assert strategy_autopause_check(demo.strategy, now=NOW) == []
    assert _status(demo.strategy) == "RUNNING"


def test_an_empty_rule_set_applies_every_default(demo):
    _configure(demo.strategy, {})
    _curve(demo.strategy, ["100000", "96500"])  # 3.5 %: the default daily loss limit (3 %), not the drawdown (10 %)
    assert [b.rule for b in strategy_autopause_check(demo.strategy, now=NOW)] == ["auto_pause_daily_loss"]


def test_the_analysis_after_a_losing_fill_auto_pauses_the_strategy(demo):
    """The task a fill dispatches: performance from the fills, then the rules over it."""
    from strategies.tasks import strategy_performance_task
    from trading.models import Execution, Instrument, Order

    strategy = demo.strategy
    _configure(strategy, {**OFF, "max_consecutive_losses": 1})
    instrument = Instrument.objects.get(symbol="AAPL")
    now = datetime.now(UTC)
    for number, (side, price) in enumerate([("BUY", "200"), ("SELL", "190")]):
        order = Order.objects.create(
            account=demo.account,
            instrument=instrument,
            strategy=strategy,
            side=side,
            order_type="MARKET",
            quantity=Decimal(10),
            reference_price=Decimal(price),
            status="FILLED",
        )
        Execution.objects.create(
            exec_id=f"loss-{number}",
            order=order,
            account=demo.account,
            instrument=instrument,
            strategy=strategy,
            side=side,
            quantity=Decimal(10),
            price=Decimal(price),
            executed_at=now - timedelta(minutes=10 - number),
        )

    strategy_performance_task(strategy.pk)

    assert StrategyTrade.objects.get(strategy=strategy).pnl == Decimal(-100)
    assert _status(strategy) == "AUTO_PAUSED"
    assert _paused_event(strategy).payload["rules"] == ["auto_pause_consecutive_losses"]
