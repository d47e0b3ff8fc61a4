"""Thin Celery tasks: take ids, call one service."""

from celery import shared_task
from celery.signals import worker_process_init, worker_process_shutdown, worker_ready
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from trading import audit, loops
from trading.brokers.base import BrokerError, BrokerFill, broker_class, broker_get
from trading.services import (
    broker_reconcile,
    execution_apply,
    order_submission_failed,
    order_submit,
    orders_expire_day,
)


@shared_task(bind=True, acks_late=True, max_retries=None)
def order_submit_task(self, order_id: int) -> str:
    """Submit one order; a retryable broker error is tried again after 1, then 2 s (3 tries), then alerted."""
    try:
        return order_submit(order_id=order_id).status
    except BrokerError as error:
        if not error.is_retryable:
            raise
        tries = self.request.retries + 1
        if tries >= settings.BROKER_PLACEMENT_TRIES:
            return order_submission_failed(order_id=order_id, error=error).status
        retry = self.retry(exc=error, countdown=settings.BROKER_RETRY_DELAYS[tries - 1], throw=False)
        if self.request.is_eager:
            return retry  # in-process tasks: apply() runs the retry at once
        raise retry from error


@shared_task(acks_late=True)
def broker_reconcile_task() -> dict[str, int] | None:
    """Reconciliation on its schedule (and at worker start); a failed pass is recorded, the next one runs."""
    with loops.iteration(loops.RECONCILE):
        return broker_reconcile(now=timezone.now()).as_dict()
    return None


@shared_task(acks_late=True)
def orders_expire_day_task() -> int | None:
    with loops.iteration(loops.ORDERS_EXPIRE):
        return orders_expire_day(now=timezone.now())
    return None


@shared_task(acks_late=True)
def audit_seal_task() -> int | None:
    """Seal the events committed since the last run into the audit trail's hash chain."""
    with loops.iteration(loops.AUDIT_SEAL):
        return audit.audit_seal_all()
    return None


@worker_ready.connect
def reconcile_on_worker_start(**kwargs) -> None:
    # A worker that died mid-submission left orders only reconciliation can settle.
    broker_reconcile_task.delay()


def _book_streamed_fill(fill: BrokerFill) -> None:
    close_old_connections()
    execution_apply(fill=fill)


@worker_process_init.connect
def broker_stream_connect(**kwargs) -> None:
    # Brokers that stream fills (Interactive Brokers) book each fill as it arrives.
    broker = broker_get()
    if hasattr(broker, "on_fill"):
        broker.on_fill = _book_streamed_fill


@worker_process_shutdown.connect
def broker_stream_close(**kwargs) -> None:
    broker_class().sessions_close()
