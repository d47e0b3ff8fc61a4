"""The safety net keeps running: reconciliation, DAY expiry and the risk monitor on schedule, whatever fails."""

import json
import subprocess
import sys
import urllib.request
from datetime import timedelta
from decimal import Decimal

from conftest import REAL_STACK, ROOT, _test_database_env, daphne_start, wait_for
from quantumleap.housekeeping import housekeeping_start_in_background
from trading import loops
from trading.events import EventType
from trading.models import Event, Instrument, Order

FAST = timedelta(milliseconds=50)
SCHEDULE = {
    "broker-reconcile": {"task": "trading.tasks.broker_reconcile_task", "schedule": FAST},
    "portfolio-risk-monitor": {"task": "risk.tasks.portfolio_risk_monitor_all_task", "schedule": FAST},
}


def test_housekeeping_survives_a_failing_job_and_keeps_its_schedule(demo_committed, tasks_in_process, monkeypatch):
    # The defect: a KeyError in the risk monitor ended the thread, and with it reconciliation, for good.
    def broken_monitor(**kwargs):
        raise KeyError("KO")

    monkeypatch.setattr("risk.tasks.portfolio_risk_monitor", broken_monitor)
    stop = housekeeping_start_in_background(schedule=SCHEDULE)
    try:
        wait_for(lambda: Event.objects.filter(type=EventType.BROKER_RECONCILED).count() >= 4)
    finally:
        stop.set()
    (alert,) = Event.objects.filter(type=EventType.LOOP_FAILED)
    assert alert.severity == "CRITICAL"
    assert alert.payload["loop"] == "portfolio-monitor"
    assert alert.payload["scope"] == f"account-{demo_committed.account.pk}"
    assert "KeyError" in alert.payload["kind"]
    states = {loop["name"]: loop["state"] for loop in loops.loops_status()}
    assert states["reconcile"] == "ok"
    assert states["portfolio-monitor"] == "failing"


def _order_left_new(demo) -> Order:
    """An order whose signal committed just before the server was killed: NEW, never dispatched."""
    return Order.objects.create(
        account=demo.account,
        instrument=Instrument.objects.get(symbol="AAPL"),
        strategy=demo.strategy,
        side="BUY",
        order_type="MARKET",
        quantity=Decimal(5),
        reference_price=Decimal("228.50"),
    )


def _json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _scheduler_start(tmp_path) -> tuple[subprocess.Popen, str | None]:
    """What runs the beat schedule after a restart: the web process itself on the embedded default (its
    housekeeping thread), Celery beat on the real stack (the session's worker runs what it sends)."""
    fast = {"RECONCILE_INTERVAL_SECONDS": "1", "RECONCILE_NEW_ORDER_GRACE_SECONDS": "2"}
    if not REAL_STACK:
        server, url = daphne_start(
            tmp_path / "server.log", env={"HOUSEKEEPING_IN_PROCESS": "1", "MARKET_FEED": "", **fast}
        )
        return server, url
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "quantumleap", "beat", "-l", "info", "-s", str(tmp_path / "beat-db")],
        cwd=ROOT,
        env={**_test_database_env(), **fast},
        stdout=(tmp_path / "beat.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    return beat, None


def test_after_a_restart_an_order_left_new_is_sent_on_schedule(demo_committed, celery_worker, tmp_path):
    process, url = _scheduler_start(tmp_path)
    try:
        if url is not None:
            # The restarted server's first round is done (its start-up reconciliation has run) ...
            wait_for(lambda: _loop_states(url).get("housekeeping") == "ok", timeout=30)
        # ... when the order whose signal committed just before the crash shows up: inside its grace period,
        # the next passes leave it, and a later pass on the schedule must send it (the worker's own grace
        # is 10 s on the real stack).
        order = _order_left_new(demo_committed)
        wait_for(lambda: Order.objects.get(pk=order.pk).status == "FILLED", timeout=45)
        if url is not None:
            assert {"housekeeping": "ok", "reconcile": "ok"}.items() <= _loop_states(url).items()
            assert _json(f"{url}/readyz")[0] == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert Event.objects.filter(type=EventType.RECONCILE_RESENT, order=order).count() == 1


def _loop_states(url: str) -> dict[str, str]:
    return {loop["name"]: loop["state"] for loop in _json(f"{url}/readyz")[1]["loops"]}
