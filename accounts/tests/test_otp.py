"""One-time passwords: the step-up check, enrolment with backup codes, the operator's otp_enrol command."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.otp import (
    OTP_INVALID,
    OTP_NOT_ENROLLED,
    OTP_REQUIRED,
    OtpRefused,
    otp_enrolled,
    otp_verify,
    totp_device_confirm,
    totp_key_new,
)
from tests.otp import otp_code, otp_device


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", password="Alice-pw-12345")


def refusal(user, code) -> str:
    with pytest.raises(OtpRefused) as raised:
        otp_verify(user, code)
    assert raised.value.status_code == 403
    return raised.value.get_codes()


def test_the_current_code_passes(user):
    device = otp_device(user)
    otp_verify(user, otp_code(device))  # no exception


def test_a_wrong_code_is_refused(user):
    device = otp_device(user)
    right = otp_code(device)
    wrong = str((int(right) + 1) % 1_000_000).zfill(6)
    assert refusal(user, wrong) == OTP_INVALID


def test_a_used_code_is_refused_the_second_time(user):
    device = otp_device(user)
    code = otp_code(device)
    otp_verify(user, code)
    assert refusal(user, code) == OTP_INVALID


def test_no_code_and_no_device_say_what_to_do(user):
    assert refusal(user, "123456") == OTP_NOT_ENROLLED
    otp_device(user)
    assert refusal(user, None) == OTP_REQUIRED
    assert refusal(user, "") == OTP_REQUIRED
    assert refusal(user, 123456) == OTP_INVALID
    assert refusal(user, "1" * 17) == OTP_INVALID


def test_an_unconfirmed_device_is_no_device(user):
    TOTPDevice.objects.create(user=user, name="half", confirmed=False)
    assert not otp_enrolled(user)
    assert refusal(user, "123456") == OTP_NOT_ENROLLED


def _code_for(key: str) -> str:
    return str(TOTP(bytes.fromhex(key)).token()).zfill(6)


def test_enrolment_needs_the_right_first_code_and_makes_ten_single_use_backup_codes(user):
    key = totp_key_new()
    with pytest.raises(OtpRefused):
        totp_device_confirm(user=user, key=key, code=str((int(_code_for(key)) + 1) % 1_000_000).zfill(6))
    assert not otp_enrolled(user)
    device, codes = totp_device_confirm(user=user, key=key, code=_code_for(key))
    assert device.confirmed and otp_enrolled(user)
    assert len(codes) == 10 == len(set(codes))
    # The confirming code was used: its time step is the device's last, which it never accepts again.
    now = TOTP(device.bin_key).t()
    assert TOTPDevice.objects.get(pk=device.pk).last_t in (now - 1, now)  # (a step may end meanwhile)
    otp_verify(user, codes[0])
    assert refusal(user, codes[0]) == OTP_INVALID
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_a_new_enrolment_replaces_the_old_device(user):
    old = otp_device(user)
    key = totp_key_new()
    new, _ = totp_device_confirm(user=user, key=key, code=_code_for(key))
    assert list(TOTPDevice.objects.filter(user=user)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_otp_enrol_prints_the_uri_a_qr_code_and_backup_codes(user):
    out = StringIO()
    call_command("otp_enrol", "alice", stdout=out)
    text = out.getvalue()
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert device.config_url in text
    assert re.search(r"otpauth://totp/QuantumLeap%3Aalice\?secret=[A-Z2-7]+", text)
    assert "█" in text or "▀" in text  # the terminal QR code
    codes = text.strip().splitlines()[-1].split()
    assert len(codes) == 10
    otp_verify(user, codes[3])
    with pytest.raises(CommandError, match="already has a device"):
        call_command("otp_enrol", "alice", stdout=StringIO())
    call_command("otp_enrol", "alice", "--replace", "--no-qr", stdout=StringIO())
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    with pytest.raises(CommandError, match="No user"):
        call_command("otp_enrol", "nobody", stdout=StringIO())
