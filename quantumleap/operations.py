"""What operations watch, gathered from every app: health, loops, brokers, latencies, rates, alerts."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from quantumleap.health import health_checks
from strategies.selectors import signal_counts
from trading.audit import audit_status
from trading.loops import loops_status
from trading.selectors import operations_trading


def operations_overview(*, now: datetime, window: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    """The operations dashboard's figures over the last window (an hour)."""
    since = now - window
    trading = operations_trading(since=since)
    signals, signals_rejected = signal_counts(since=since)
    return {
        "at": now.isoformat(),
        "window_seconds": int(window.total_seconds()),
        "health": health_checks(),
        "workers": "in-process (embedded)" if settings.CELERY_TASK_ALWAYS_EAGER else "Celery over Redis",
        "market_data": trading["market_data"],
        "brokers": trading["brokers"],
        "latency_ms": trading["latency_ms"],
        "rates": {"signals": signals, "signals_rejected": signals_rejected, **trading["rates"]},
        "open_orders": trading["open_orders"],
        "loops": loops_status(now),
        "audit": audit_status(),
        "events_by_severity": trading["events_by_severity"],
        "alerts": trading["alerts"],
    }
