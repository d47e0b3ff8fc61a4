"""Every event says how (session, key, admin, command, engine) and from where (IP, the key's prefix) it was done."""

import json

import pytest
from django.test import Client

from accounts.models import ApiKey
from accounts.origin import Channel, command_origin
from risk import services as risk_services
from trading.models import Account, Event


@pytest.fixture(autouse=True)
def _in_process(tasks_in_process):
    """Tasks queued by a request run in it; their events carry its origin."""


def test_a_signal_posted_with_a_key_records_the_key_prefix_and_the_ip(demo):
    body = {
        "id": "o1",
        "symbol": "AAPL",
        "signal_type": "HOLD",
        "confidence_score": "0.5",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
    }
    client = Client(REMOTE_ADDR="203.0.113.5")
    response = client.post("/api/v1/signals/", json.dumps(body), content_type="application/json", **demo.headers())
    assert response.status_code == 201, response.content

    event = Event.objects.get(type="signal.received")
    prefix = ApiKey.objects.get(user=demo.trader).prefix
    assert (event.actor, event.channel, event.source_ip, event.api_key_prefix) == (
        "trader",
        "key",
        "203.0.113.5",
        prefix,
    )
    assert demo.key not in json.dumps(event.payload)


def test_a_session_request_records_the_user_and_the_ip(demo):
    client = Client(REMOTE_ADDR="2001:db8::1")
    client.force_login(demo.trader)
    body = {"action": "engage", "scope": "STRATEGY", "strategy_id": demo.strategy.pk, "reason": "checking"}

    response = client.post("/api/v1/risk/kill-switch/", json.dumps(body), content_type="application/json")
    assert response.status_code in (200, 201), response.content

    event = Event.objects.get(type="risk.kill_switch_engaged")
    assert (event.actor, event.channel, event.source_ip, event.api_key_prefix) == (
        "trader",
        "session",
        "2001:db8::1",
        "",
    )
    listed = client.get("/api/v1/events/", {"type": "risk.kill_switch_engaged"}).json()["results"]
    assert [(e["channel"], e["api_key_prefix"]) for e in listed] == [("session", "")]


def test_the_engine_records_itself_when_no_request_or_command_is_behind_a_change(demo):
    risk_services.kill_switch_engage(scope="ACCOUNT", account=demo.account, actor="risk-engine", reason="limit")

    event = Event.objects.get(type="risk.kill_switch_engaged")
    assert (event.channel, event.source_ip) == ("engine", None)


def test_a_global_release_reaches_every_account_stream(demo, django_user_model):
    other = django_user_model.objects.create_user("other")
    Account.objects.create(owner=other, name="other", cash=1000)
    switch = risk_services.kill_switch_engage(scope="GLOBAL", actor="ops", reason="market chaos")

    risk_services.kill_switch_release(kill_switch_id=switch.pk, actor="ops", reason="calm again")

    released = Event.objects.filter(type="risk.kill_switch_released")
    assert set(released.values_list("account__owner__username", flat=True)) == {"trader", "other"}


def test_manage_py_commands_are_recorded_as_commands_and_servers_set_their_own():
    origin = command_origin(["manage.py", "kill_switch", "status"])

    assert origin.channel == Channel.COMMAND and "@" in origin.user
    assert command_origin(["manage.py", "runserver"]) is None
    assert command_origin(["manage.py", "market_feed"]) is None  # the engine's feed and stop monitor
    assert command_origin(["manage.py"]) is None


@pytest.mark.parametrize(("remote", "recorded"), [("198.51.100.1", "198.51.100.1"), ("", None), ("unix:/run/x", None)])
def test_only_a_real_ip_address_is_recorded(remote, recorded):
    from django.test import RequestFactory

    from accounts.origin import request_ip

    assert request_ip(RequestFactory().get("/", REMOTE_ADDR=remote)) == recorded
