"""The pages and endpoints a person or a monitor opens first."""

import os
import re
import subprocess
import sys

import pytest
from django.contrib.admin.sites import site
from django.test import Client

from conftest import ROOT
from strategies.models import Strategy, TradingSignal
from tests.otp import otp_client
from trading.models import Account, Event, Execution, Instrument, Order, Position


def test_health_and_readiness(db):
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "cache": "ok"}


def test_metrics_are_prometheus_text(db):
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert b"# TYPE" in response.content


def test_openapi_schema_lists_the_v1_contract(db):
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ["/api/v1/signals/", "/api/v1/orders/", "/api/v1/positions/", "/api/v1/executions/", "/api/v1/events/"]:
        assert path in schema["paths"], path


def test_swagger_ui_loads_nothing_from_a_cdn(db):
    page = Client().get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    external = [src for src in re.findall(r'(?:src|href)="([^"]+)"', page) if src.startswith("http")]
    assert external == []


def test_dashboard_requires_login(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("model", [Instrument, Account, Order, Execution, Position, Event, Strategy, TradingSignal])
def test_admin_lists_every_model(demo, model):
    from django.contrib.auth import get_user_model

    client = otp_client(get_user_model().objects.get(username="ops"))  # the admin needs a verified session
    assert model in site._registry
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "AAPL"}).status_code == 200


def test_events_are_read_only_in_admin(demo):
    from django.contrib.auth import get_user_model

    client = otp_client(get_user_model().objects.get(username="ops"))  # the admin needs a verified session
    event = Event.objects.create(type="risk.violation", occurred_at="2026-01-01T00:00:00Z")
    assert client.get("/admin/trading/event/add/").status_code == 403
    assert client.post(f"/admin/trading/event/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()


def test_database_url_may_name_a_sqlite_file(tmp_path):
    # The psycopg pool options were applied to every engine: sqlite:/// crashed `make run`.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'engine.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "engine.sqlite3").stat().st_size > 0


def test_every_script_the_makefile_runs_exists():
    # make bench called bench/run.py, which did not exist.
    makefile = (ROOT / "Makefile").read_text()
    scripts = set(re.findall(r"\b((?:bench|scripts|tools)/[\w./-]+\.(?:py|sh|js))", makefile))
    assert "bench/run.py" in scripts
    assert [script for script in sorted(scripts) if not (ROOT / script).is_file()] == []
    done = subprocess.run([sys.executable, "bench/run.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "--full" in done.stdout
