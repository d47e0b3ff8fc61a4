"""Step-ups on the risk endpoints: a kill switch release, a halt's release and a change of limits need the person's
current one-time password in ``otp``; without it nothing changes."""

import json

import pytest

from risk import services
from risk.models import KillSwitch, RiskParameters
from risk.selectors import trading_state_get
from tests.otp import otp_client, otp_code, otp_device, totp_now

API = "/api/v1/risk/"


@pytest.fixture
def trader(demo):
    return otp_client(demo.trader)


@pytest.fixture
def device(demo):
    return otp_device(demo.trader)


def post(client, path, body):
    return client.post(f"{API}{path}", json.dumps(body), content_type="application/json")


def put_parameters(client, body):
    return client.put(f"{API}parameters/", json.dumps(body), content_type="application/json")


def refused(response, code):
    assert response.status_code == 403, response.content
    assert response.json()["code"] == code, response.json()


def wrong(code: str) -> str:
    return str((int(code) + 1) % 1_000_000).zfill(6)


def limit(demo):
    return RiskParameters.objects.filter(account=demo.account).values_list("max_position_size", flat=True).first()


def test_a_change_of_limits_needs_the_current_code(demo, trader, device):
    before = limit(demo)
    refused(put_parameters(trader, {"max_position_size": "0.3"}), "otp_required")
    refused(put_parameters(trader, {"max_position_size": "0.3", "otp": wrong(otp_code(device))}), "otp_invalid")
    assert limit(demo) == before
    code = otp_code(device)
    assert put_parameters(trader, {"max_position_size": "0.3", "otp": code}).status_code == 200
    assert str(limit(demo)) == "0.300000"
    # The same code again: used.
    refused(put_parameters(trader, {"max_position_size": "0.4", "otp": totp_now(device)}), "otp_invalid")
    assert str(limit(demo)) == "0.300000"


def test_a_kill_switch_release_needs_the_code_and_engaging_does_not(demo, trader, device):
    engaged = post(trader, "kill-switch/", {"action": "engage", "scope": "ACCOUNT", "reason": "drill"})
    assert engaged.status_code == 201, engaged.content
    release = {"action": "release", "kill_switch_id": engaged.json()["id"], "reason": "done"}
    refused(post(trader, "kill-switch/", release), "otp_required")
    refused(post(trader, "kill-switch/", {**release, "otp": wrong(otp_code(device))}), "otp_invalid")
    assert KillSwitch.objects.get(pk=release["kill_switch_id"]).is_engaged
    assert post(trader, "kill-switch/", {**release, "otp": otp_code(device)}).status_code == 200
    assert not KillSwitch.objects.get(pk=release["kill_switch_id"]).is_engaged


def test_lifting_a_halt_needs_the_code(demo, trader, device):
    services.trading_state_set(account=demo.account, state="HALTED", reason="loss limit", actor="monitor")
    refused(post(trader, "trading-state/release/", {"reason": "reviewed"}), "otp_required")
    assert trading_state_get(account=demo.account) == "HALTED"
    answer = post(trader, "trading-state/release/", {"reason": "reviewed", "otp": otp_code(device)})
    assert answer.json() == {"trading_state": "ACTIVE"}


def test_without_a_device_the_answer_says_to_enrol(demo):
    client = otp_client(demo.trader)
    otp_device(demo.trader).delete()  # the session stays signed in; the user has no device now
    before = limit(demo)
    answer = put_parameters(client, {"max_position_size": "0.3", "otp": "123456"})
    refused(answer, "otp_not_enrolled")
    assert "/account/security/" in answer.json()["message"]
    assert limit(demo) == before


def test_bad_input_is_a_400_before_any_code_is_asked(demo, trader):
    answer = put_parameters(trader, {"max_position_size": "5"})
    assert answer.status_code == 400 and "max_position_size" in answer.json()["errors"]
    assert put_parameters(trader, {"otp": "x" * 17}).status_code == 400
