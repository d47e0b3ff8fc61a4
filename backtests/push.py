"""Live progress of a person's backtests and optimizations, pushed to their browsers (``/ws/backtests/``).

Progress is a push, not an audit event: it is sent from the run's own process (a Celery worker, or
the web process on the embedded default) through the event pusher's thread, never waited on.
"""

from typing import Any

from trading.bus import group_push

BACKTEST_PROGRESS = "backtest.progress"
OPTIMIZATION_PROGRESS = "optimization.progress"


def owner_group(user_id: int) -> str:
    return f"backtests-user-{user_id}"


def progress_push(*, owner_id: int, kind: str, payload: dict[str, Any]) -> None:
    group_push(owner_group(owner_id), {"type": "backtests.message", "event": {"type": kind, **payload}})
