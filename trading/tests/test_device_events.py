"""A person's one-time-password devices are part of the audit trail: enrolled once, removed, never their key."""

import json

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.otp import totp_now
from trading.models import Event

pytestmark = pytest.mark.django_db


def _events(kind: str) -> list[Event]:
    return list(Event.objects.filter(type=kind).order_by("id"))


def test_an_authenticator_is_recorded_when_confirmed_once_and_when_removed(demo):
    device = TOTPDevice.objects.create(user=demo.trader, name="phone", confirmed=False)
    assert _events("otp_device.enrolled") == []  # not yet: the first code confirms it

    device.confirmed = True
    device.save()
    assert device.verify_token(totp_now(device))  # a verification saves the device again: not a new enrolment
    device.save()

    [enrolled] = _events("otp_device.enrolled")
    assert enrolled.account_id == demo.account.pk
    assert enrolled.payload == {"user": demo.trader.get_username(), "device": "phone", "kind": "authenticator"}
    assert device.key not in json.dumps(enrolled.payload)

    device.delete()
    [removed] = _events("otp_device.removed")
    assert (removed.severity, removed.payload["device"]) == ("WARNING", "phone")


def test_backup_codes_are_recorded_without_a_code(demo):
    device = StaticDevice.objects.create(user=demo.trader, name="backup", confirmed=True)
    token = device.token_set.create(token="a1b2c3d4").token

    [enrolled] = _events("otp_device.enrolled")
    assert enrolled.payload["kind"] == "backup codes"
    assert token not in json.dumps(enrolled.payload)
