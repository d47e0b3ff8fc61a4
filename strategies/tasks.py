"""Thin Celery tasks of the Strategy Analyzer: a strategy's figures after its fills, everyone's on the beat."""

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from strategies.autopausing import strategy_autopause_check
from strategies.performance import performance_update, strategies_to_analyze
from trading import loops
from trading.models import Event

PERFORMANCE_DUE_KEY = "strategy-performance-due:{}"


def strategy_analyze(strategy_id: int) -> None:
    """Metrics, then the auto-pause rules over them (the two steps of one analysis)."""
    if performance_update(strategy_id) is not None:
        strategy_autopause_check(strategy_id)


@shared_task(acks_late=True)
def strategy_performance_task(strategy_id: int) -> None:
    # Fills arriving from here on schedule the next run: none is missed, and the burst before made just this one.
    cache.delete(PERFORMANCE_DUE_KEY.format(strategy_id))
    with loops.iteration(loops.STRATEGY_ANALYZER, scope=f"strategy-{strategy_id}"):
        strategy_analyze(strategy_id)


@shared_task(acks_late=True)
def strategies_analyze_task() -> int | None:
    """Celery beat's entry: one analysis task per strategy but the drafts (skipped where a fill already asked
    for one), so the workers share them and one failing strategy never holds up the others."""
    with loops.iteration(loops.STRATEGY_ANALYZER):
        ids = strategies_to_analyze()
        for strategy_id in ids:
            if cache.add(PERFORMANCE_DUE_KEY.format(strategy_id), 1, timeout=_due_timeout()):
                strategy_performance_task.delay(strategy_id)
        return len(ids)
    return None


def _due_timeout() -> int:
    # Long enough to cover the delay and a queue; short enough that a lost task is asked for again soon.
    return max(60, int(settings.STRATEGY_PERFORMANCE_DELAY * 10))


def performance_update_soon(strategy_id: int) -> None:
    """Ask for the strategy's analysis once the current transaction commits, coalesced per strategy.

    The first fill of a burst dispatches one task, run STRATEGY_PERFORMANCE_DELAY later; the
    fills until that task starts add nothing (the cache key is there), so 100 fills make one run.
    """

    def dispatch() -> None:
        delay = settings.STRATEGY_PERFORMANCE_DELAY
        key = PERFORMANCE_DUE_KEY.format(strategy_id)
        try:
            if not cache.add(key, 1, timeout=_due_timeout()):
                return
            strategy_performance_task.apply_async((strategy_id,), countdown=delay)
        except Exception as error:
            # The beat schedule catches up; a fill is never refused for its statistics.
            loops.failed(loops.STRATEGY_ANALYZER, error, scope="dispatch")

    transaction.on_commit(dispatch)


def strategy_fill_observed(event: Event) -> None:
    """trading.events hook on order.filled and order.partially_filled: the strategy's figures are due."""
    order = event.order
    if order is not None and order.strategy_id is not None:
        performance_update_soon(order.strategy_id)
