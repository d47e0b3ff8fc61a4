"""Background loops that never die quietly: heartbeats, and one alert per kind of failure.

Every loop the engine runs in the background (the housekeeping thread, the market
feed, the stop monitor, the portfolio monitor, the event pusher, and the Celery beat
jobs: reconciliation, DAY expiry, the risk monitor) runs each iteration inside
``iteration(name)``, or reports through ``failed`` / ``succeeded``:

- a failed iteration is logged, recorded as one CRITICAL ``loop.failed`` event per
  kind of failure (the exception's class and where it was raised; a failure that
  repeats every iteration alerts once, again at most every ``FAILURE_REMINDER``), and
  survived: the loop goes on with its next iteration;
- the first iteration that succeeds after failures records ``loop.recovered``;
- every iteration beats the loop's heartbeat: shared loops in the cache (every
  process sees them), per-process loops (the event pusher) in memory.

``loops_status`` reads them for ``/readyz`` and the operations page: a loop whose last
beat is older than ``LATE_AFTER_INTERVALS`` intervals is late, and turns both red. A
loop that has never beaten (not deployed here, e.g. Celery beat on the embedded
default) is "not running", which is not late; a loop that stops cleanly removes its
heartbeat.
"""

import hashlib
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from trading import bus
from trading.events.health import loop_failed_event, loop_recovered_event

logger = logging.getLogger(__name__)

LATE_AFTER_INTERVALS = 3
HEARTBEAT_KEY = "loop:{}"
FAILURE_KEY = "loopfail:{}:{}"
# A failure that keeps repeating is recorded again after this long, so it is never forgotten on screen.
FAILURE_REMINDER = timedelta(hours=1)
# Heartbeats are written to the cache at most this often (a loop may beat on every market tick).
BEAT_WRITE_SECONDS = 1.0

HOUSEKEEPING = "housekeeping"
RECONCILE = "reconcile"
ORDERS_EXPIRE = "orders-expire-day"
PORTFOLIO_MONITOR = "portfolio-monitor"
MARKET_FEED = "market-feed"
STOP_MONITOR = "stop-monitor"
EVENT_PUSHER = "event-pusher"
STRATEGY_RUNNER = "strategy-runner"
STRATEGY_ANALYZER = "strategy-analyzer"
AUDIT_SEAL = "audit-seal"


@dataclass(frozen=True)
class LoopSpec:
    name: str
    label: str
    interval: float  # seconds between iterations
    per_process: bool = False  # each process runs its own (its heartbeat stays in memory)


def loop_specs() -> dict[str, LoopSpec]:
    """Every background loop, with the interval it beats at (from settings)."""
    risk_tick = settings.RISK_MONITOR_INTERVAL.total_seconds()
    specs = [
        LoopSpec(HOUSEKEEPING, "Housekeeping thread (embedded default)", risk_tick),
        LoopSpec(RECONCILE, "Reconciliation with the broker", settings.RECONCILE_INTERVAL.total_seconds()),
        LoopSpec(ORDERS_EXPIRE, "DAY order expiry", settings.ORDERS_EXPIRE_INTERVAL.total_seconds()),
        LoopSpec(PORTFOLIO_MONITOR, "Portfolio risk monitor (daily loss, drawdown)", risk_tick),
        LoopSpec(MARKET_FEED, "Market data feed", settings.LOOP_HEARTBEAT_SECONDS),
        LoopSpec(STOP_MONITOR, "Stop monitor (stop loss, take profit, trailing)", settings.LOOP_HEARTBEAT_SECONDS),
        LoopSpec(AUDIT_SEAL, "Audit trail sealer (hash chain)", settings.AUDIT_SEAL_INTERVAL.total_seconds()),
        LoopSpec(EVENT_PUSHER, "Event pusher (this process)", settings.LOOP_HEARTBEAT_SECONDS, per_process=True),
        LoopSpec(STRATEGY_RUNNER, "Built-in strategy generators (on 1-minute bars)", settings.LOOP_HEARTBEAT_SECONDS),
        LoopSpec(
            STRATEGY_ANALYZER,
            "Strategy Analyzer (metrics, auto-pause)",
            settings.STRATEGY_ANALYZER_INTERVAL.total_seconds(),
        ),
    ]
    return {spec.name: spec for spec in specs}


def _process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _Heartbeats:
    """This process's view: the last write of each loop's heartbeat, and the failures it has seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local: dict[str, dict[str, Any]] = {}  # per-process loops' heartbeats
        self.written: dict[str, tuple[float, str]] = {}  # loop -> (monotonic time, status|error) last written
        # (loop, scope) -> {kind: (cache key, alerted at)}
        self.failing: dict[tuple[str, str], dict[str, tuple[str, float]]] = {}
        self.last_error: dict[str, str] = {}  # loop -> its latest failure, shown while it is failing


_state = _Heartbeats()


def beat(name: str, *, status: str | None = None, error: str = "", force: bool = False) -> None:
    """Record that the loop is alive. Cheap enough per tick: the cache is written when the status or
    error changes, and otherwise at most every BEAT_WRITE_SECONDS."""
    spec = loop_specs()[name]
    status = status or ("failing" if is_failing(name) else "ok")
    if status == "failing" and not error:
        error = _state.last_error.get(name, "")
    now = time.monotonic()
    record = {"at": time.time(), "interval": spec.interval, "status": status, "error": error, "process": _process()}
    with _state.lock:
        if spec.per_process:
            _state.local[name] = record
            return
        last_at, last_said = _state.written.get(name, (-float("inf"), ""))
        said = f"{status}|{error}"
        if not force and said == last_said and now - last_at < BEAT_WRITE_SECONDS:
            return
        _state.written[name] = (now, said)
    try:
        cache.set(HEARTBEAT_KEY.format(name), record, timeout=None)
    except Exception:
        # The cache is down: /readyz says so itself; the loop goes on.
        logger.exception("could not write the heartbeat of %s", name)


def stopped(name: str) -> None:
    """A loop that stops cleanly takes its heartbeat with it (it is not late, it is not running)."""
    with _state.lock:
        _state.local.pop(name, None)
        _state.written.pop(name, None)
    if not loop_specs()[name].per_process:
        try:
            cache.delete(HEARTBEAT_KEY.format(name))
        except Exception:
            logger.exception("could not clear the heartbeat of %s", name)


def failure_kind(error: BaseException) -> str:
    """What kind of failure this is: the exception's class and the line that raised it (not its message)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename.rsplit(os.sep, 2)[-1]}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__module__}.{type(error).__qualname__} at {where}"


def failed(name: str, error: BaseException, *, scope: str = "", **context: Any) -> None:
    """An iteration of loop `name` failed: log it, alert once per kind of failure, beat as failing.

    scope: what the iteration worked on when one loop works on several things in turn (an
    account, an order): a failure in one scope is not undone by a success in another.
    """
    kind = failure_kind(error)
    where = f"{name} [{scope}]" if scope else name
    key = FAILURE_KEY.format(name, hashlib.sha256(f"{scope}|{kind}".encode()).hexdigest()[:16])
    now = time.time()
    reminder = FAILURE_REMINDER.total_seconds()
    with _state.lock:
        kinds = _state.failing.setdefault((name, scope), {})
        seen = kinds.get(kind)
        repeated = seen is not None and now - seen[1] < reminder
        if not repeated:
            kinds[kind] = (key, now)
    _state.last_error[name] = f"{kind}: {error}"[:500]
    beat(name, status="failing", error=_state.last_error[name])
    if repeated:
        # This process logged and alerted of it already (also while the cache is down): no flood per tick.
        logger.debug("background loop %s failed again (%s): %s", where, kind, error)
        return
    logger.error("background loop %s failed (%s): %s", where, kind, error, exc_info=error)
    try:
        # Other processes running the same loop (Celery workers) alert once between them.
        if not cache.add(key, now, timeout=reminder):
            return
    except Exception:
        logger.exception("could not share the failure of %s; alerting from this process", name)
    _record(loop_failed_event, loop=name, kind=kind, error=error, scope=scope, context=context)


def succeeded(name: str, *, scope: str = "") -> None:
    """An iteration of loop `name` went through: beat, and record the recovery if it was failing."""
    if (name, scope) not in _state.failing:  # the usual case: nothing more to do than beat
        beat(name)
        return
    with _state.lock:
        kinds = _state.failing.pop((name, scope), {})
    beat(name, force=True)
    if not kinds:
        return
    try:
        cache.delete_many([key for key, _ in kinds.values()])
    except Exception:
        logger.exception("could not clear the failures of %s", name)
    _record(loop_recovered_event, loop=name, kinds=kinds, scope=scope)


def is_failing(name: str) -> bool:
    """Whether an iteration of loop `name` (in any scope) failed in this process and none has recovered it."""
    return any(loop == name for loop, _ in list(_state.failing))  # a copy: other threads may change it


def _record(record: Callable[..., Any], **fields: Any) -> None:
    # In a transaction of its own: the alert is about something that wrote nothing else.
    try:
        with transaction.atomic():
            record(**fields)
    except Exception:
        # The database is down too: the log has it, and the next iteration tries again.
        logger.exception("could not record %s for loop %s", record.__name__, fields["loop"])


@contextmanager
def iteration(name: str, *, scope: str = "", **context: Any) -> Iterator[None]:
    """Run one iteration of a background loop: any exception is recorded and survived, never raised."""
    try:
        yield
    except Exception as error:
        failed(name, error, scope=scope, **context)
    else:
        succeeded(name, scope=scope)


def loops_status(now: datetime | None = None) -> list[dict[str, Any]]:
    """Each loop's last beat, interval and state: ok, failing, late (no beat for 3 intervals) or not running."""
    now = now or datetime.now(UTC)
    specs = loop_specs()
    shared = [spec for spec in specs.values() if not spec.per_process]
    try:
        stored = cache.get_many([HEARTBEAT_KEY.format(spec.name) for spec in shared])
    except Exception:
        logger.exception("could not read the loops' heartbeats")
        stored = {}
    with _state.lock:
        local = dict(_state.local)
    status = []
    for spec in specs.values():
        record = local.get(spec.name) if spec.per_process else stored.get(HEARTBEAT_KEY.format(spec.name))
        entry: dict[str, Any] = {
            "name": spec.name,
            "label": spec.label,
            "interval_seconds": spec.interval,
            "last_beat_at": None,
            "state": "not running",
            "error": "",
            "process": "",
        }
        if record:
            last = datetime.fromtimestamp(record["at"], UTC)
            late = (now - last).total_seconds() > LATE_AFTER_INTERVALS * spec.interval
            entry.update(
                last_beat_at=last.isoformat(),
                state="late" if late else record.get("status", "ok"),
                error=record.get("error", ""),
                process=record.get("process", ""),
            )
        status.append(entry)
    return status


def loops_forget() -> None:
    """Forget every heartbeat and failure (tests start from a clean slate)."""
    with _state.lock:
        failing = [key for kinds in _state.failing.values() for key, _ in kinds.values()]
        _state.local.clear()
        _state.written.clear()
        _state.failing.clear()
        _state.last_error.clear()
    cache.delete_many([HEARTBEAT_KEY.format(name) for name in loop_specs()] + failing)


def _pusher_report(kind: str, error: BaseException | None) -> None:
    if error is not None:
        failed(EVENT_PUSHER, error)
    else:
        succeeded(EVENT_PUSHER)


# The event pusher lives in trading.bus, below this module: it reports through this observer.
bus.pusher_observe(_pusher_report)
