"""Signing in: password then code for a user with a device; enrolment; the admin only with a verified session;
operations users sent to enrolment; the idle timeout."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.otp import otp_client, otp_code, otp_device

PASSWORD = "Alice-pw-12345"


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("root", password=PASSWORD, is_staff=True, is_superuser=True)


def password_step(client: Client, username: str, next_url: str = "/"):
    return client.post(f"/accounts/login/?next={next_url}", {"username": username, "password": PASSWORD})


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def test_without_a_device_the_password_signs_in(alice):
    client = Client()
    assert password_step(client, "alice").status_code == 302
    assert signed_in(client)


def test_with_a_device_the_password_only_opens_the_code_step(alice):
    device = otp_device(alice)
    client = Client()
    response = password_step(client, "alice", "/account/security/")
    assert response["Location"] == "/accounts/login/code/"
    assert not signed_in(client)
    page = client.get("/accounts/login/code/")
    assert page.status_code == 200 and b"alice" in page.content
    wrong = str((int(otp_code(device)) + 1) % 1_000_000).zfill(6)
    refused = client.post("/accounts/login/code/", {"otp_token": wrong})
    assert refused.status_code == 200 and b"not right" in refused.content
    assert not signed_in(client)
    done = client.post("/accounts/login/code/", {"otp_token": otp_code(device)})
    assert done["Location"] == "/account/security/"
    assert signed_in(client)
    assert client.get("/account/security/").context["user"].is_verified()


def test_a_backup_code_signs_in_once(alice):
    client = Client()
    client.force_login(alice)
    key_page = client.get("/account/security/")
    key = client.session["otp_enrol_key"]
    assert key_page.context["provisioning_uri"].startswith("otpauth://totp/QuantumLeap%3Aalice?secret=")
    codes = client.post("/account/security/", {"otp": str(TOTP(bytes.fromhex(key)).token()).zfill(6)}).context[
        "backup_codes"
    ]
    for attempt, expected in ((1, True), (2, False)):
        other = Client()
        password_step(other, "alice")
        other.post("/accounts/login/code/", {"otp_token": codes[0]})
        assert signed_in(other) is expected, attempt


def test_five_wrong_codes_end_the_attempt(alice):
    otp_device(alice)
    client = Client()
    password_step(client, "alice")
    for _ in range(5):
        response = client.post("/accounts/login/code/", {"otp_token": "000000"})
    assert response["Location"] == "/accounts/login/"
    assert client.get("/accounts/login/code/")["Location"] == "/accounts/login/"


def test_the_code_step_without_the_password_step_goes_back_to_login(db):
    assert Client().get("/accounts/login/code/")["Location"] == "/accounts/login/"


def test_enrolment_shows_an_inline_qr_code_and_confirms_with_the_first_code(alice):
    client = Client()
    client.force_login(alice)
    page = client.get("/account/security/")
    html = page.content.decode()
    assert re.search(r'<figure class="qr"[^>]*><svg [^>]*viewBox', html)
    assert "otpauth://totp/" in html
    key = client.session["otp_enrol_key"]
    assert client.get("/account/security/").context["secret"] == page.context["secret"]  # the same until confirmed
    bad = client.post("/account/security/", {"otp": "abc"})
    assert bad.status_code == 400 and not TOTPDevice.objects.filter(user=alice).exists()
    done = client.post("/account/security/", {"otp": str(TOTP(bytes.fromhex(key)).token()).zfill(6)})
    assert done.status_code == 200
    assert len(done.context["backup_codes"]) == 10
    assert TOTPDevice.objects.get(user=alice).confirmed
    # The session that enrolled is verified: it stays signed in and sees the codes no more.
    again = client.get("/account/security/")
    assert again.context["enrolled"] and again.context["backup_codes"] is None
    assert "otpauth" not in again.content.decode()


def test_new_backup_codes_need_a_current_code(alice):
    client = otp_client(alice)
    device = otp_device(alice)
    refused = client.post("/account/security/", {"action": "backup_codes", "otp": ""})
    assert refused.status_code == 400 and refused.context["backup_codes"] is None
    made = client.post("/account/security/", {"action": "backup_codes", "otp": otp_code(device)})
    assert len(made.context["backup_codes"]) == 10


def test_a_session_that_was_not_verified_ends_once_the_user_has_a_device(alice):
    client = Client()
    client.force_login(alice)
    assert signed_in(client)
    otp_device(alice)  # e.g. an operator ran otp_enrol meanwhile
    assert not signed_in(client)


def test_operations_users_without_a_device_are_sent_to_enrolment_first(alice):
    alice.groups.add(Group.objects.get_or_create(name="operations")[0])
    client = Client()
    client.force_login(alice)
    assert client.get("/operations/")["Location"] == "/account/security/?next=%2Foperations%2F"
    api = client.get("/api/v1/operations/")
    assert (api.status_code, api.json()["code"]) == (403, "otp_not_enrolled")
    assert client.get("/account/security/").status_code == 200
    verified = otp_client(alice)
    assert verified.get("/operations/").status_code == 200


def test_the_admin_needs_a_verified_session(staff):
    unverified = Client()
    unverified.force_login(staff)
    # A staff user is operations: without a device, enrolment comes first.
    assert unverified.get("/admin/")["Location"].startswith("/account/security/")
    device = otp_device(staff)
    assert unverified.get("/admin/")["Location"] == "/admin/login/?next=/admin/"  # logged out: not verified
    assert unverified.get("/admin/login/?next=/admin/")["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    client = Client()
    password_step(client, "root", "/admin/")
    assert client.get("/admin/").status_code == 302
    assert client.post("/accounts/login/code/", {"otp_token": otp_code(device)})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/trading/order/").status_code == 200
    assert client.get("/admin/risk/killswitch/").status_code == 200


def test_a_verified_non_staff_user_is_not_let_into_the_admin(alice):
    assert otp_client(alice).get("/admin/").status_code == 302


def test_a_lost_phone_is_replaced_with_a_backup_code(alice):
    client = otp_client(alice)
    old = otp_device(alice)
    codes = client.post("/account/security/", {"action": "backup_codes", "otp": otp_code(old)}).context["backup_codes"]
    refused = client.post("/account/security/", {"action": "replace", "otp": "nonsense"})
    assert refused.status_code == 400 and TOTPDevice.objects.filter(pk=old.pk).exists()
    time.sleep(1.1)  # a wrong code makes every device wait a second before the next try
    page = client.post("/account/security/", {"action": "replace", "otp": codes[0]})
    assert page.status_code == 200 and not page.context["enrolled"]
    assert not TOTPDevice.objects.filter(user=alice).exists()
    key = client.session["otp_enrol_key"]
    assert client.post("/account/security/", {"otp": str(TOTP(bytes.fromhex(key)).token()).zfill(6)}).status_code == 200
    assert TOTPDevice.objects.get(user=alice).key == key
