"""The pages and endpoints a person or a monitor opens first."""

import re

import pytest
from django.contrib.admin.sites import site
from django.test import Client

from strategies.models import Strategy, TradingSignal
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

    client = Client()
    client.force_login(get_user_model().objects.get(username="ops"))
    assert model in site._registry
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "AAPL"}).status_code == 200


def test_events_are_read_only_in_admin(demo):
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username="ops"))
    event = Event.objects.create(type="test.event", occurred_at="2026-01-01T00:00:00Z")
    assert client.get("/admin/trading/event/add/").status_code == 403
    assert client.post(f"/admin/trading/event/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()
