"""Bearer API keys: who a key authenticates, and when it was last used."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.roles import TRADER, role_add
from accounts.services import api_key_create


@pytest.fixture
def producer(django_user_model):
    user = django_user_model.objects.create_user(username="producer", password="x")
    role_add(user, TRADER)  # a key holds what its user's role gives
    return user


def _get(key: str) -> int:
    client = APIClient()
    return client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code


def test_a_key_records_its_last_use_to_the_minute(db, producer):
    key = api_key_create(user=producer)
    assert ApiKey.objects.get().last_used_at is None

    assert _get(key) == 200
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    assert _get(key) == 200
    assert ApiKey.objects.get().last_used_at == first  # within the minute: no write

    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    assert _get(key) == 200
    assert ApiKey.objects.get().last_used_at > first - timedelta(seconds=1)
    assert ApiKey.objects.get().last_used_at <= timezone.now()


def test_a_revoked_key_is_refused(db, producer):
    key = api_key_create(user=producer)
    ApiKey.objects.update(revoked_at=timezone.now())
    assert _get(key) == 401
