"""Production settings, the Content-Security-Policy, /metrics behind a token, the idle session timeout."""

import os
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from conftest import ROOT

REAL_LOOKING_KEY = "k3Jv9-xq2!Lr8@pZt6#Wm1$Nc4%Hb7^Gd0&Fy5*Es2(Aq9)Ux3_Io8+Rw1=Tz6"


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_is_clean_in_production():
    done = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": REAL_LOOKING_KEY},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize("key", [None, "", "quantumleap-embedded-demo-key-not-for-production", "short-key"])
def test_production_refuses_to_start_without_a_key_of_its_own(key):
    env = {"DJANGO_ENV": "production"}
    if key is not None:
        env["DJANGO_SECRET_KEY"] = key
    done = _manage("check", env=env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "DJANGO_SECRET_KEY" in done.stderr


def test_production_sets_https_only_cookies_hsts_and_the_redirect():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, "
        "s.SESSION_COOKIE_AGE, s.METRICS_ALLOWED_IPS)"
    )
    done = _manage("shell", "-v0", "-c", code, env={"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": REAL_LOOKING_KEY})
    assert done.stdout.split() == ["True", "True", "True", "True", "1800", "[]"], done.stderr[-2000:]


def test_every_page_carries_a_content_security_policy_with_no_inline_script(db):
    for path in ("/accounts/login/", "/api/docs/", "/healthz"):
        policy = Client().get(path)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'", path
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy


def test_metrics_need_the_token_or_an_allowed_address(db, settings):
    settings.METRICS_TOKEN = "scrape-me-4f1c"
    settings.METRICS_ALLOWED_IPS = []
    client = Client()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="scrape-me-4f1c").status_code == 403
    answer = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-4f1c")
    assert answer.status_code == 200 and b"# TYPE" in answer.content
    settings.METRICS_ALLOWED_IPS = ["10.0.0.9"]
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.10").status_code == 403
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_a_session_in_use_is_renewed_and_an_idle_one_ends(db, settings):
    settings.SESSION_COOKIE_AGE = 1800
    settings.SESSION_RENEW_SECONDS = 0
    user = get_user_model().objects.create_user("idle", password="Idle-pw-12345")
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200
    session = Session.objects.get()
    first = session.expire_date
    time.sleep(1.1)
    assert client.get("/").status_code == 200
    assert Session.objects.get().expire_date > first  # use moves the expiry ahead
    Session.objects.update(expire_date="2000-01-01T00:00:00Z")  # idle past the timeout
    assert client.get("/").status_code == 302
