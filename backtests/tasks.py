"""Thin Celery tasks: take ids, call one service. An optimization fans its candidates out as a group."""

import logging

from celery import group, shared_task

from backtests.services import backtest_fail, backtest_run, candidate_evaluate, candidate_fail, optimization_start

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def backtest_run_task(backtest_id: int) -> None:
    try:
        backtest_run(backtest_id=backtest_id)
    except Exception:
        # The run is never left RUNNING: it fails with a sentence, and the traceback is logged.
        logger.exception("backtest %s failed", backtest_id)
        backtest_fail(backtest_id=backtest_id, message="The run failed in the engine; the error is logged.")


@shared_task(acks_late=True)
def optimization_start_task(optimization_id: int) -> None:
    indices = optimization_start(optimization_id=optimization_id)
    if indices:
        group(candidate_evaluate_task.s(optimization_id, index) for index in indices).apply_async()


@shared_task(acks_late=True)
def candidate_evaluate_task(optimization_id: int, index: int) -> None:
    try:
        candidate_evaluate(optimization_id=optimization_id, index=index)
    except Exception:
        logger.exception("optimization %s candidate %s failed", optimization_id, index)
        message = "The run failed in the engine; the error is logged."
        candidate_fail(optimization_id=optimization_id, index=index, message=message)
