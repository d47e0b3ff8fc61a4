"""Thin Celery tasks: take ids, call one service."""

from celery import shared_task

from risk.services import portfolio_risk_monitor


@shared_task(acks_late=True)
def portfolio_risk_monitor_task(account_id: int) -> str:
    """Assess one account and enforce its loss limits (schedule it with Celery beat, e.g. every 5 s)."""
    return portfolio_risk_monitor(account_id=account_id).trading_state


@shared_task(acks_late=True)
def portfolio_risk_monitor_all_task() -> int:
    from trading.models import Account

    ids = list(Account.objects.values_list("pk", flat=True))
    for account_id in ids:
        portfolio_risk_monitor_task.delay(account_id)
    return len(ids)
