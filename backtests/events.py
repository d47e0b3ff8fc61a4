"""The backtester's events, one constructor each: a run or an optimization asked for and finished, a dataset
uploaded. Their types are members of ``trading.events.EventType``; each names its owner (``user_id``), whose
progress stream and event feed show it."""

from backtests.models import Backtest, Dataset, Optimization, Status
from trading.events import EventType, Severity, event_record
from trading.models import Event


def backtest_requested_event(*, backtest: Backtest) -> Event:
    return event_record(
        type=EventType.BACKTEST_REQUESTED,
        actor=backtest.owner.get_username(),
        payload={"backtest_id": backtest.pk, "strategy_type": backtest.strategy_type, "user_id": backtest.owner_id},
    )


def backtest_finished_event(*, backtest: Backtest) -> Event:
    """Completed, failed (a WARNING, with its error) or canceled."""
    return event_record(
        type=EventType.BACKTEST_FINISHED,
        severity=Severity.WARNING if backtest.status == Status.FAILED else Severity.INFO,
        actor=backtest.owner.get_username(),
        payload={
            "backtest_id": backtest.pk,
            "status": backtest.status,
            "final_equity": backtest.summary.get("final_equity"),
            "error": backtest.error,
            "user_id": backtest.owner_id,
        },
    )


def backtest_optimization_requested_event(*, optimization: Optimization) -> Event:
    return event_record(
        type=EventType.BACKTEST_OPTIMIZATION_REQUESTED,
        actor=optimization.owner.get_username(),
        payload={
            "optimization_id": optimization.pk,
            "candidates": optimization.candidates_total,
            "user_id": optimization.owner_id,
        },
    )


def backtest_optimization_finished_event(*, optimization: Optimization) -> Event:
    return event_record(
        type=EventType.BACKTEST_OPTIMIZATION_FINISHED,
        actor=optimization.owner.get_username(),
        payload={"optimization_id": optimization.pk, "status": optimization.status, "user_id": optimization.owner_id},
    )


def backtest_dataset_uploaded_event(*, dataset: Dataset) -> Event:
    return event_record(
        type=EventType.BACKTEST_DATASET_UPLOADED,
        actor=dataset.owner.get_username(),
        payload={"dataset_id": dataset.pk, "symbol": dataset.symbol, "rows": dataset.rows, "user_id": dataset.owner_id},
    )
