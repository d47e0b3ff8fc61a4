"""Periodic engine work for the embedded default, where no Celery beat runs.

On the real stack Celery beat schedules the same task (CELERY_BEAT_SCHEDULE).
"""

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from trading.brokers.base import BrokerError
from trading.services import broker_reconcile, orders_expire_day

logger = logging.getLogger(__name__)


def housekeeping_run(stop: threading.Event) -> None:
    """What Celery beat schedules on the real stack: reconciliation (at start, then every
    RECONCILE_INTERVAL), DAY order expiry and the portfolio risk monitor (every RISK_MONITOR_INTERVAL),
    until stop is set."""
    from risk.tasks import portfolio_risk_monitor_all_task

    tick = settings.RISK_MONITOR_INTERVAL.total_seconds()
    reconcile_every = max(1, round(settings.RECONCILE_INTERVAL.total_seconds() / tick))
    rounds = 0
    while True:
        close_old_connections()
        if rounds % reconcile_every == 0:
            try:
                report = broker_reconcile(now=timezone.now())
                logger.info("reconciled with the broker: %s", report.as_dict())
            except (BrokerError, DatabaseError):
                # Reconciliation repairs; a failed pass is simply retried at the next interval.
                logger.exception("reconciliation failed; retrying in %s", settings.RECONCILE_INTERVAL)
        try:
            orders_expire_day(now=timezone.now())
        except DatabaseError:
            logger.exception("DAY order expiry failed; retrying in %s s", tick)
        try:
            portfolio_risk_monitor_all_task.delay()  # in-process on the embedded default
        except DatabaseError:
            logger.exception("portfolio risk monitoring failed; retrying in %s s", tick)
        rounds += 1
        if stop.wait(tick):
            return


def housekeeping_start_in_background() -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(target=housekeeping_run, args=(stop,), name="housekeeping", daemon=True)
    thread.start()
    threading._register_atexit(stop.set)
    return stop
