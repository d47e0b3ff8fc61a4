"""Thin Celery tasks: take ids, call one service."""

from celery import shared_task

from trading.brokers.base import BrokerError
from trading.services import order_submit


@shared_task(
    bind=True,
    autoretry_for=(BrokerError,),
    retry_backoff=1,
    retry_backoff_max=8,
    retry_jitter=False,
    max_retries=2,
    acks_late=True,
)
def order_submit_task(self, order_id: int) -> str:
    """Submit one order; only retryable broker errors reach here, and each retry is deduplicated by the broker."""
    return order_submit(order_id=order_id).status
