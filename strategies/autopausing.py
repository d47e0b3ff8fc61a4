"""Auto-pause: the core's rules (``strategies.core.autopause``) over a strategy's stored performance.

Run after each performance update (``strategies.tasks``) and on the analyzer's beat. The
rules are the strategy's ``configuration["auto_pause"]`` (validated by the core's
``config_validate`` when the strategy is created or changed): an object turns them on,
each rule with its default unless given (``{}`` = every default); no key (or null)
leaves the strategy without auto-pause.

Figures fed to the rules: the stored daily equity curve (today's point is the current
equity), the stored closed trades, the day's starting equity (the last stored day
before today, else the capital) and the benchmark's daily returns from stored bars.

Any breach moves a RUNNING or PAUSED strategy to AUTO_PAUSED (core lifecycle action
``auto_pause``) under a row lock, with one WARNING ``strategy.auto_paused`` event that
names each rule and its figures. Only a person resumes it, with a one-time password.
"""

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from strategies.core.autopause import AutoPauseConfig, Breach, config_validate, evaluate
from strategies.core.lifecycle import IllegalStrategyTransition, StrategyAction, next_status
from strategies.events import strategy_auto_paused_event
from strategies.models import Strategy, StrategyPerformance
from strategies.performance import benchmark_returns, benchmark_symbol, stored_trades
from trading.services.locks import account_lock

logger = logging.getLogger(__name__)

AUTO_PAUSE_KEY = "auto_pause"
MONITOR = "auto-pause"
WATCHED = (Strategy.Status.RUNNING, Strategy.Status.PAUSED)


def autopause_config(strategy: Strategy) -> AutoPauseConfig | None:
    """The strategy's rules, or None when it has none (or, refused at its last change, an invalid set)."""
    raw = (strategy.configuration or {}).get(AUTO_PAUSE_KEY)
    if raw is None:
        return None
    config, errors = config_validate(raw)
    if errors:
        logger.warning("strategy %s has invalid auto-pause rules %s; not evaluated", strategy.pk, errors)
        return None
    return config


def _curve(stored: StrategyPerformance | None) -> dict[date, Decimal]:
    curve = {}
    for point in (stored.equity if stored else None) or []:
        try:
            curve[date.fromisoformat(point["day"])] = Decimal(point["equity"])
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue
    return curve


def autopause_breaches(strategy: Strategy, *, now: datetime | None = None) -> list[Breach]:
    """The rules the strategy breaches now (empty when it has no rules or no performance stored yet)."""
    config = autopause_config(strategy)
    if config is None:
        return []
    curve = _curve(StrategyPerformance.objects.filter(strategy=strategy).first())
    if not curve:
        return []
    today = (now or timezone.now()).astimezone(UTC).date()
    before = [day for day in curve if day < today]
    day_start = curve[max(before)] if before else strategy.capital
    benchmark = None
    if config.sharpe_window_days is not None:
        benchmark = benchmark_returns(benchmark_symbol(strategy), since=min(curve))
    return evaluate(
        config,
        equity_curve=curve,
        trades=stored_trades(strategy),
        equity=curve[max(curve)],
        day_start_equity=day_start,
        benchmark_returns=benchmark,
    )


def strategy_autopause_check(strategy: Strategy | int, *, now: datetime | None = None) -> list[Breach]:
    """Evaluate the rules and auto-pause the strategy on any breach; returns the breaches that paused it."""
    strategy_id = strategy if isinstance(strategy, int) else strategy.pk
    strategy = Strategy.objects.filter(pk=strategy_id).first()
    if strategy is None or strategy.status not in WATCHED:
        return []
    breaches = autopause_breaches(strategy, now=now)
    if not breaches:
        return []
    with transaction.atomic():
        # The lifecycle's lock order (account, then strategy): a signal being taken, a person's pause and the
        # monitor's see one another's status, never a half-made change.
        account_lock(strategy.account_id)
        strategy = Strategy.objects.select_for_update(no_key=True).get(pk=strategy_id)
        try:
            status = next_status(strategy.status, StrategyAction.AUTO_PAUSE)
        except IllegalStrategyTransition:
            return []  # a person stopped or already re-paused it meanwhile
        previous = strategy.status
        strategy.status = status
        strategy.status_changed_at = timezone.now()
        strategy.save(update_fields=["status", "status_changed_at"])
        strategy_auto_paused_event(strategy=strategy, previous=previous, breaches=breaches, actor=MONITOR)
    logger.warning("strategy %s auto-paused: %s", strategy_id, "; ".join(b.message for b in breaches))
    return breaches
