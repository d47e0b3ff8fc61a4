"""Background loops survive any failure, alert once per kind of failure, and show their heartbeat."""

import time
from datetime import timedelta

import pytest
from django.test import Client

from tests.otp import otp_client
from trading import loops
from trading.events import EventType
from trading.models import Event


def _fail(message: str = "boom") -> None:
    raise KeyError(message)


def _fail_elsewhere() -> None:
    raise ValueError("another kind")


def failures() -> list[Event]:
    return list(Event.objects.filter(type=EventType.LOOP_FAILED).order_by("pk"))


def test_a_failed_iteration_is_survived_and_alerted_once_per_kind(db):
    for _ in range(5):
        with loops.iteration(loops.RECONCILE):
            _fail()
    (alert,) = failures()
    assert (alert.severity, alert.payload["loop"]) == ("CRITICAL", "reconcile")
    assert alert.payload["kind"].startswith("builtins.KeyError at test_loops.py:")
    assert "boom" in alert.payload["error"]

    with loops.iteration(loops.RECONCILE):
        _fail_elsewhere()
    assert [e.payload["kind"].split(" at ")[0] for e in failures()] == ["builtins.KeyError", "builtins.ValueError"]
    (state,) = [loop for loop in loops.loops_status() if loop["name"] == "reconcile"]
    assert state["state"] == "failing"
    assert "ValueError" in state["error"]

    with loops.iteration(loops.RECONCILE):
        pass
    (recovered,) = Event.objects.filter(type=EventType.LOOP_RECOVERED)
    assert recovered.payload["loop"] == "reconcile" and len(recovered.payload["kinds"]) == 2
    (state,) = [loop for loop in loops.loops_status() if loop["name"] == "reconcile"]
    assert state["state"] == "ok"

    # After a recovery the same failure is news again.
    with loops.iteration(loops.RECONCILE):
        _fail()
    assert len(failures()) == 3


def test_a_failure_in_one_scope_is_not_undone_by_a_success_in_another(db):
    for _ in range(3):
        with loops.iteration(loops.PORTFOLIO_MONITOR, scope="account-1"):
            _fail()
        with loops.iteration(loops.PORTFOLIO_MONITOR, scope="account-2"):
            pass
    assert len(failures()) == 1
    assert not Event.objects.filter(type=EventType.LOOP_RECOVERED).exists()
    (state,) = [loop for loop in loops.loops_status() if loop["name"] == "portfolio-monitor"]
    assert state["state"] == "failing"


def test_a_late_loop_turns_readyz_red_and_a_loop_never_started_does_not(db, settings):
    ready = Client().get("/readyz")
    assert ready.status_code == 200
    assert {loop["name"]: loop["state"] for loop in ready.json()["loops"]}["reconcile"] == "not running"

    settings.RECONCILE_INTERVAL = timedelta(milliseconds=20)
    loops.succeeded(loops.RECONCILE)
    assert Client().get("/readyz").status_code == 200
    time.sleep(0.1)  # more than 3 intervals without a beat
    late = Client().get("/readyz")
    assert late.status_code == 503
    assert late.json()["late"] == ["reconcile"]
    loops.stopped(loops.RECONCILE)  # a loop that stops cleanly is not late
    assert Client().get("/readyz").status_code == 200


def test_the_operations_overview_lists_every_loop(demo):
    from django.contrib.auth import get_user_model

    loops.succeeded(loops.HOUSEKEEPING)
    client = otp_client(get_user_model().objects.get(username="ops"))  # operations users sign in with a code
    overview = client.get("/api/v1/operations/").json()
    names = {loop["name"]: loop for loop in overview["loops"]}
    assert set(names) == set(loops.loop_specs())
    assert names["housekeeping"]["state"] == "ok"
    assert names["housekeeping"]["last_beat_at"].endswith("+00:00")


@pytest.mark.parametrize("error", [RuntimeError("redis down"), OSError("connection reset")])
def test_the_event_pusher_reports_its_rounds(db, error):
    loops.bus._pusher_observers[0]("round", error)
    loops.bus._pusher_observers[0]("round", error)
    assert len(failures()) == 1
    loops.bus._pusher_observers[0]("round", None)
    (state,) = [loop for loop in loops.loops_status() if loop["name"] == "event-pusher"]
    assert state["state"] == "ok"


def test_an_event_payload_holds_nested_decimals_and_times(db):
    # A strategy's capital changed in the admin answered 500: a Decimal nested in the payload.
    from datetime import UTC, datetime
    from decimal import Decimal

    from trading.events import event_record

    event = event_record(
        type=EventType.STRATEGY_UPDATED,
        payload={"changes": {"capital": Decimal("5000.5"), "at": datetime(2026, 1, 2, tzinfo=UTC)}, "n": [Decimal(1)]},
    )
    event.refresh_from_db()
    assert event.payload == {"changes": {"capital": "5000.5", "at": "2026-01-02T00:00:00+00:00"}, "n": ["1"]}
