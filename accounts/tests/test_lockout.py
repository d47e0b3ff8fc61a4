"""Sign-in lockout (django-axes): N wrong passwords for one username from one address lock that pair (issue 15)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client


def _login(client: Client, password: str, username: str = "trader", ip: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return settings


def test_the_right_password_signs_in(demo):
    response = _login(Client(), "ql-trader-demo")
    assert response.status_code == 302 and response["Location"] == "/"


def test_after_the_limit_even_the_right_password_is_refused_and_the_page_says_so(demo, lockout):
    client = Client()
    for _ in range(2):
        wrong = _login(client, "wrong")
        assert wrong.status_code == 200 and "login-locked" not in wrong.content.decode()
    locked = _login(client, "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert 'id="login-locked"' in page and "15 minutes" in page
    right = _login(client, "ql-trader-demo")
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    assert client.get("/api/v1/portfolio/").status_code in (401, 403)


def test_the_lock_is_per_username_and_address(demo, lockout):
    for _ in range(3):
        _login(Client(), "wrong")
    assert _login(Client(), "ql-trader-demo", ip="10.0.0.2").status_code == 302  # another address
    assert _login(Client(), "ql-ops-demo", username="ops").status_code == 302  # another username


def test_the_lock_lifts_after_the_cool_off(demo, lockout):
    for _ in range(3):
        _login(Client(), "wrong")
    assert _login(Client(), "ql-trader-demo").status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert _login(Client(), "ql-trader-demo").status_code == 302


def test_a_success_forgets_earlier_failures(demo, lockout):
    for _ in range(2):
        _login(Client(), "wrong")
    assert _login(Client(), "ql-trader-demo").status_code == 302
    for _ in range(2):
        _login(Client(), "wrong")
    assert _login(Client(), "ql-trader-demo").status_code == 302


def test_the_defaults_are_ten_failures_and_fifteen_minutes(settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AUTHENTICATION_BACKENDS[0] == "accounts.backends.LoginLockoutBackend"


def test_authenticate_without_a_request_still_works(demo):
    from django.contrib.auth import authenticate

    assert authenticate(username="trader", password="ql-trader-demo") is not None
