"""Periodic engine work for the embedded default, where no Celery beat runs.

On the real stack Celery beat schedules the same task (CELERY_BEAT_SCHEDULE).
"""

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from trading.brokers.base import BrokerError
from trading.services import broker_reconcile

logger = logging.getLogger(__name__)


def housekeeping_run(stop: threading.Event) -> None:
    """Reconcile with the broker at start, then every RECONCILE_INTERVAL, until stop is set."""
    while True:
        close_old_connections()
        try:
            report = broker_reconcile(now=timezone.now())
            logger.info("reconciled with the broker: %s", report.as_dict())
        except (BrokerError, DatabaseError):
            # Reconciliation repairs; a failed pass is simply retried at the next interval.
            logger.exception("reconciliation failed; retrying in %s", settings.RECONCILE_INTERVAL)
        if stop.wait(settings.RECONCILE_INTERVAL.total_seconds()):
            return


def housekeeping_start_in_background() -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(target=housekeeping_run, args=(stop,), name="housekeeping", daemon=True)
    thread.start()
    threading._register_atexit(stop.set)
    return stop
