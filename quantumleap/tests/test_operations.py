"""The operations dashboard: only operations see it, and it tells the truth about circuits and alerts."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.otp import otp_client


@pytest.fixture
def ops(demo):
    client = otp_client(get_user_model().objects.get(username="ops"))  # operations users sign in with a code
    return client


def test_only_operations_see_the_operations_dashboard(demo, ops):
    trader = Client()
    trader.force_login(demo.trader)
    assert trader.get("/operations/").status_code == 403
    assert trader.get("/api/v1/operations/").status_code == 403
    assert Client().get("/api/v1/operations/", **demo.headers()).status_code == 403
    assert ops.get("/operations/").status_code == 200


def test_overview_reports_health_an_open_circuit_and_the_alert_it_raised(demo, ops, settings):
    settings.BROKER_CIRCUIT_FAILURES = 1
    cache.delete("circuit:paper")
    from trading.brokers.base import BrokerError, BrokerErrorCategory
    from trading.services.submission import circuit_outcome

    error = BrokerError(BrokerErrorCategory.CONNECTION, "broker_disconnected", "The broker link dropped.")
    circuit_outcome("paper", ok=False, now=timezone.now(), error=error)
    try:
        data = ops.get("/api/v1/operations/").json()
    finally:
        cache.delete("circuit:paper")
    assert data["health"] == {"database": "ok", "cache": "ok"}
    assert data["brokers"] == [
        {"name": "paper", "circuit": "OPEN", "failures": 1, "opened_at": data["brokers"][0]["opened_at"]}
    ]
    assert data["alerts"][0]["type"] == "broker.circuit_opened"
    assert data["alerts"][0]["severity"] == "CRITICAL"
    assert data["events_by_severity"]["CRITICAL"] == 1


def test_overview_measures_signal_to_broker_latency(demo_committed, celery_worker, wait):
    import json

    demo = demo_committed
    ops = otp_client(get_user_model().objects.get(username="ops"))
    body = {
        "id": "lat-1",
        "symbol": "AAPL",
        "signal_type": "BUY",
        "confidence_score": "0.5",
        "position_size": "0.01",
        "expires_at": (timezone.now() + timedelta(minutes=5)).isoformat(),
    }
    Client().post("/api/v1/signals/", json.dumps(body), content_type="application/json", **demo.headers())
    data = wait(lambda: (d := ops.get("/api/v1/operations/").json())["latency_ms"]["signal_to_broker"]["count"] and d)
    latency = data["latency_ms"]["signal_to_broker"]
    assert latency["count"] == 1
    assert 0 <= latency["p50"] <= latency["p99"]
    assert data["rates"]["signals"] == 1 and data["rates"]["orders"] == 1


def test_overview_shows_the_audit_trail_head_and_what_waits_to_be_sealed(demo, ops):
    from trading.audit import audit_seal_all
    from trading.events import EventType, event_record

    audit_seal_all()
    sealed = ops.get("/api/v1/operations/").json()["audit"]
    event_record(type=EventType.ACCOUNT_UPDATED, account=demo.account)
    waiting = ops.get("/api/v1/operations/").json()["audit"]

    assert sealed["head_seq"] > 0 and sealed["unsealed"] == 0 and sealed["oldest_unsealed_at"] is None
    assert waiting["head_seq"] == sealed["head_seq"] and waiting["unsealed"] == 1
    assert waiting["oldest_unsealed_at"] is not None
