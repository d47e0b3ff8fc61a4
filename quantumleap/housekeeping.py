"""Celery beat's schedule, run by the web process itself on the embedded default (no beat runs there).

Each entry of ``CELERY_BEAT_SCHEDULE`` (reconciliation, DAY order expiry, the portfolio
risk monitor) is called on its own interval, the first time at start, exactly as
Celery beat sends it to a worker on the real stack. Every task guards its own work
(``trading.loops``): a failed run is recorded and the schedule goes on; the thread
itself beats as the ``housekeeping`` loop and survives anything one round does.
"""

import logging
import threading
import time
from collections.abc import Callable

from celery import Task
from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

from trading import loops

logger = logging.getLogger(__name__)


class Housekeeping:
    """The beat schedule as a list of (task, interval), with what is due when (monotonic seconds)."""

    def __init__(self, schedule: dict[str, dict], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.jobs: list[tuple[str, Task, float]] = [
            # A beat entry names its task by its import path (Celery's default name for a shared task).
            (name, import_string(entry["task"]), _seconds(entry["schedule"]))
            for name, entry in schedule.items()
        ]
        self.due = {name: 0.0 for name, _, _ in self.jobs}  # every job runs at start

    def run_due(self) -> list[str]:
        """Run every job whose time has come; returns their names."""
        ran = []
        for name, task, interval in self.jobs:
            now = self._clock()
            if now < self.due[name]:
                continue
            self.due[name] = now + interval
            task()  # the task records and survives its own failures
            ran.append(name)
        return ran

    @property
    def tick(self) -> float:
        return min((interval for _, _, interval in self.jobs), default=1.0)


def _seconds(schedule) -> float:
    return schedule.total_seconds() if hasattr(schedule, "total_seconds") else float(schedule)


def housekeeping_run(stop: threading.Event, *, schedule: dict[str, dict] | None = None) -> None:
    """Run the beat schedule until stop is set."""
    housekeeping = Housekeeping(settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule)
    try:
        while not stop.is_set():
            loops.beat(loops.HOUSEKEEPING)  # at work on a round (a long one, at start) is alive too
            with loops.iteration(loops.HOUSEKEEPING):
                close_old_connections()
                housekeeping.run_due()
            stop.wait(housekeeping.tick)
    finally:
        loops.stopped(loops.HOUSEKEEPING)


def housekeeping_start_in_background(*, schedule: dict[str, dict] | None = None) -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(
        target=housekeeping_run, args=(stop,), kwargs={"schedule": schedule}, name="housekeeping", daemon=True
    )
    thread.start()
    threading._register_atexit(stop.set)
    return stop
