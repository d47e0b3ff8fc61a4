"""Thin Celery tasks: take ids, call one service."""

from celery import shared_task

from risk.services import portfolio_risk_monitor
from trading import loops
from trading.models import Account


@shared_task(acks_late=True)
def portfolio_risk_monitor_task(account_id: int) -> str | None:
    """Assess one account and enforce its loss limits; a failure is recorded (once per kind) and survived."""
    with loops.iteration(loops.PORTFOLIO_MONITOR, scope=f"account-{account_id}", account_id=account_id):
        return portfolio_risk_monitor(account_id=account_id).trading_state
    return None


@shared_task(acks_late=True)
def portfolio_risk_monitor_all_task() -> int | None:
    """Celery beat's entry (every RISK_MONITOR_INTERVAL): one monitor task per account."""
    with loops.iteration(loops.PORTFOLIO_MONITOR):
        ids = list(Account.objects.values_list("pk", flat=True))
        for account_id in ids:
            portfolio_risk_monitor_task.delay(account_id)
        return len(ids)
    return None
