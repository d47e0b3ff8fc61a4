"""Rate limits: per API key and per user, in the shared cache, answering 429 with Retry-After (issue 15)."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import ApiKey
from accounts.services import api_key_create
from quantumleap import codes


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()  # counters of earlier tests' keys and users (their ids repeat)
    yield
    cache.clear()


def _get(key: str):
    return Client().get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_key_over_its_rate_answers_429_throttled_with_retry_after(demo, settings):
    settings.API_RATE_PER_KEY, settings.API_RATE_PER_USER = 3, 0
    assert [_get(demo.key).status_code for _ in range(3)] == [200, 200, 200]
    refused = _get(demo.key)
    assert refused.status_code == 429
    assert refused.json()["code"] == codes.THROTTLED and refused.json()["message"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Another key of the same user has its own count.
    assert _get(api_key_create(user=demo.trader)).status_code == 200


def test_a_throttled_signal_post_records_nothing(demo, settings):
    from strategies.models import TradingSignal

    settings.API_RATE_PER_KEY, settings.API_RATE_PER_USER = 1, 0
    body = {
        "id": "t-1",
        "symbol": "AAPL",
        "signal_type": "HOLD",
        "confidence_score": "0.5",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
    }
    post = lambda b: Client().post(  # noqa: E731
        "/api/v1/signals/", json.dumps(b), content_type="application/json", **demo.headers()
    )
    assert post(body).status_code == 201
    assert post({**body, "id": "t-2"}).status_code == 429
    assert list(TradingSignal.objects.values_list("external_id", flat=True)) == ["t-1"]


def test_a_keys_own_limit_overrides_the_default_and_lifts_its_users(demo, settings):
    settings.API_RATE_PER_KEY, settings.API_RATE_PER_USER = 2, 2
    ApiKey.objects.filter(user=demo.trader).update(rate_limit_per_minute=5)
    assert [_get(demo.key).status_code for _ in range(6)] == [200] * 5 + [429]


def test_a_user_is_limited_across_sessions_and_keys(demo, settings):
    settings.API_RATE_PER_KEY, settings.API_RATE_PER_USER = 0, 3
    session = demo.session()
    assert session.get("/api/v1/positions/").status_code == 200
    assert _get(demo.key).status_code == 200
    assert session.get("/api/v1/positions/").status_code == 200
    refused = session.get("/api/v1/positions/")
    assert refused.status_code == 429 and "Retry-After" in refused
    assert _get(demo.key).status_code == 429


def test_the_default_rates_are_600_a_key_and_1200_a_user():
    # The suite lifts them (conftest); the module's values are the defaults when no environment sets them.
    import os

    from quantumleap import settings as project_settings

    if "API_RATE_PER_KEY" in os.environ and os.environ["API_RATE_PER_KEY"] != "0":
        pytest.skip("the environment sets its own rates")
    import importlib

    saved = {k: os.environ.pop(k) for k in ("API_RATE_PER_KEY", "API_RATE_PER_USER") if k in os.environ}
    try:
        fresh = importlib.reload(project_settings)
        assert (fresh.API_RATE_PER_KEY, fresh.API_RATE_PER_USER) == (600, 1200)
    finally:
        os.environ.update(saved)
        importlib.reload(project_settings)
