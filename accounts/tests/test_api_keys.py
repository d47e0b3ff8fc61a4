"""API keys: expiry, revocation, rotation with an overlap, a strategy of the key's own user; from the
keys page, the admin and manage.py (issue 15)."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey
from accounts.roles import TRADER, VIEWER, role_add
from accounts.services import ApiKeyError, api_key_create, api_key_issue, api_key_revoke, api_key_rotate
from strategies.models import Strategy
from tests.otp import otp_client
from trading.models import Account

KEY = re.compile(r"ql_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _status(key: str) -> int:
    return Client().get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code


def _code(key: str) -> str:
    return Client().get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Bearer {key}").json()["code"]


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def other_strategy(demo):
    bob = get_user_model().objects.create_user("bob", password="not-used-here-42")
    role_add(bob, TRADER)
    account = Account.objects.create(owner=bob, name="bob's", cash=1000)
    return Strategy.objects.create(owner=bob, account=account, name="bob-ai", strategy_type="EXTERNAL_AI", capital=1000)


# Expiry, revocation, rotation -------------------------------------------------------------------------
def test_a_key_works_until_it_expires(demo):
    key, raw = api_key_issue(user=demo.trader, strategy=demo.strategy, expires_at=timezone.now() + timedelta(days=1))
    assert _status(raw) == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _status(raw) == 401
    assert _code(raw) == "invalid_key"


def test_an_expiry_in_the_past_is_refused(demo):
    with pytest.raises(ApiKeyError, match="future"):
        api_key_create(user=demo.trader, expires_at=timezone.now() - timedelta(minutes=1))
    assert not ApiKey.objects.filter(user=demo.trader, strategy=None).exists()


def test_a_revoked_key_is_refused_and_revoking_again_keeps_the_first_time(demo):
    key = ApiKey.objects.get(user=demo.trader)
    assert _status(demo.key) == 200
    first = api_key_revoke(key_id=key.pk).revoked_at
    assert _status(demo.key) == 401
    assert api_key_revoke(key_id=key.pk).revoked_at == first


def test_rotation_gives_a_successor_and_the_old_key_works_for_the_overlap_only(demo):
    old = ApiKey.objects.get(user=demo.trader)
    ApiKey.objects.filter(pk=old.pk).update(rate_limit_per_minute=900, name="model-7")
    before = timezone.now()
    new, raw = api_key_rotate(key_id=old.pk, overlap=timedelta(hours=2))
    old.refresh_from_db()
    assert before + timedelta(hours=2) <= old.expires_at <= timezone.now() + timedelta(hours=2)
    assert (new.user, new.strategy, new.name, new.rate_limit_per_minute) == (
        demo.trader,
        demo.strategy,
        "model-7",
        900,
    )
    assert new.expires_at is None and new.prefix != old.prefix
    assert _status(demo.key) == 200 and _status(raw) == 200  # both during the overlap
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))  # the overlap ends
    assert _status(demo.key) == 401 and _status(raw) == 200


def test_rotation_with_no_overlap_stops_the_old_key_at_once_and_a_revoked_key_cannot_rotate(demo):
    old = ApiKey.objects.get(user=demo.trader)
    _, raw = api_key_rotate(key_id=old.pk, overlap=timedelta(0))
    assert _status(demo.key) == 401 and _status(raw) == 200
    with pytest.raises(ApiKeyError, match="revoked or expired"):
        api_key_rotate(key_id=old.pk)


def test_rotation_never_lengthens_an_expiry_that_was_sooner(demo):
    old = ApiKey.objects.get(user=demo.trader)
    soon = timezone.now() + timedelta(minutes=5)
    ApiKey.objects.filter(pk=old.pk).update(expires_at=soon)
    api_key_rotate(key_id=old.pk, overlap=timedelta(days=1))
    old.refresh_from_db()
    assert old.expires_at == soon


# A key's strategy is its user's ----------------------------------------------------------------------------
def test_a_key_for_another_users_strategy_is_refused_when_saved(demo, other_strategy):
    with pytest.raises(ApiKeyError):
        api_key_create(user=demo.trader, strategy=other_strategy)
    key = ApiKey.objects.get(user=demo.trader)
    key.strategy = other_strategy
    with pytest.raises(ValidationError) as refused:
        key.full_clean()
    assert "strategy" in refused.value.message_dict


def test_the_admin_refuses_to_scope_a_key_to_another_users_strategy(demo, other_strategy):
    admin = otp_client(get_user_model().objects.get(username="ops"))  # a superuser, signed in with the code
    key = ApiKey.objects.get(user=demo.trader)
    response = admin.post(
        f"/admin/accounts/apikey/{key.pk}/change/",
        {"user": demo.trader.pk, "strategy": other_strategy.pk, "name": "x"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "strategy of its own user" in response.content.decode()
    key.refresh_from_db()
    assert key.strategy == demo.strategy


def test_a_key_whose_strategy_is_no_longer_its_users_is_refused_when_used(demo, other_strategy):
    assert _status(demo.key) == 200
    Strategy.objects.filter(pk=demo.strategy.pk).update(owner=other_strategy.owner)
    assert _status(demo.key) == 401


def test_last_use_is_recorded_at_most_once_a_minute(demo):
    key = ApiKey.objects.get(user=demo.trader)
    assert _status(demo.key) == 200
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    assert _status(demo.key) == 200
    key.refresh_from_db()
    assert key.last_used_at == first


# manage.py -------------------------------------------------------------------------------------------
def test_commands_list_rotate_and_revoke_a_key_by_its_prefix(demo):
    key = ApiKey.objects.get(user=demo.trader)
    listing = run("list_signal_keys", "--username", "trader")
    assert f"ql_{key.prefix}_" in listing and "demo-ai" in listing
    assert demo.key not in listing and key.hashed_key not in listing

    raw = run("rotate_signal_key", f"ql_{key.prefix}_", "--overlap-hours", "1").strip()
    assert KEY.fullmatch(raw)
    assert _status(raw) == 200 and _status(demo.key) == 200

    run("revoke_signal_key", key.prefix)
    assert _status(demo.key) == 401 and _status(raw) == 200
    assert f"ql_{key.prefix}_" not in run("list_signal_keys")  # revoked keys only with --all
    assert "revoked" in run("list_signal_keys", "--all")


def test_create_signal_key_takes_an_expiry_and_a_rate_limit(demo):
    raw = run("create_signal_key", "--username", "trader", "--expires-days", "30", "--rate-limit", "2000").strip()
    key = ApiKey.objects.get(prefix=raw.split("_")[1])
    assert key.rate_limit_per_minute == 2000
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)


def test_key_commands_refuse_an_unknown_prefix(demo):
    with pytest.raises(CommandError, match="No API key"):
        run("revoke_signal_key", "ql_00000000_")
    with pytest.raises(CommandError, match="No API key"):
        run("rotate_signal_key", "00000000")


# The keys page --------------------------------------------------------------------------------------------
def test_the_keys_page_lists_creates_rotates_and_revokes_the_traders_own_keys(demo):
    page = demo.session()
    key = ApiKey.objects.get(user=demo.trader)
    listing = page.get("/account/keys/")
    assert listing.status_code == 200 and listing["Cache-Control"] == "no-store"
    assert f"ql_{key.prefix}_" in listing.content.decode()
    assert demo.key not in listing.content.decode()

    created = page.post(
        "/account/keys/", {"action": "create", "name": "model-9", "strategy": demo.strategy.pk, "expires_days": "7"}
    )
    assert created.status_code == 201
    raw = KEY.search(created.content.decode()).group()
    assert _status(raw) == 200
    new = ApiKey.objects.get(name="model-9")
    assert new.strategy == demo.strategy and new.expires_at is not None
    assert raw not in page.get("/account/keys/").content.decode()  # shown once

    rotated = page.post("/account/keys/", {"action": "rotate", "key_id": new.pk, "overlap_hours": "1"})
    assert rotated.status_code == 201
    successor = KEY.search(rotated.content.decode()).group()
    assert successor != raw and _status(successor) == 200 and _status(raw) == 200

    revoked = page.post("/account/keys/", {"action": "revoke", "key_id": key.pk})
    assert revoked.status_code == 200
    assert _status(demo.key) == 401


def test_the_keys_page_refuses_another_users_key_and_a_strategy_not_theirs(demo, other_strategy):
    theirs = api_key_create(user=other_strategy.owner)
    their_key = ApiKey.objects.get(user=other_strategy.owner)
    page = demo.session()
    assert page.post("/account/keys/", {"action": "revoke", "key_id": their_key.pk}).status_code == 404
    assert page.post("/account/keys/", {"action": "rotate", "key_id": their_key.pk}).status_code == 404
    assert _status(theirs) == 200
    refused = page.post("/account/keys/", {"action": "create", "strategy": other_strategy.pk})
    assert refused.status_code == 400
    assert not ApiKey.objects.filter(strategy=other_strategy).exists()


def test_the_keys_page_is_for_roles_that_hold_keys(demo):
    viewer = get_user_model().objects.create_user("vera", password="not-used-here-42")
    role_add(viewer, VIEWER)
    client = Client()
    client.force_login(viewer)
    assert client.get("/account/keys/").status_code == 403
    assert Client().get("/account/keys/").status_code == 302  # to the login page


# A key acts for its user: it holds no more than the user's role gives -----------------------------------
def test_a_key_stops_posting_and_reading_when_its_user_loses_the_trader_role(demo):
    from django.contrib.auth.models import Group

    _, raw = api_key_issue(user=demo.trader, strategy=demo.strategy)
    signal = {"symbol": "AAPL", "action": "BUY", "confidence": "0.9", "position_size": "0.01"}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert _status(raw) == 200
    demo.trader.groups.remove(Group.objects.get(name="trader"))
    posted = Client().post("/api/v1/signals/", signal, content_type="application/json", **headers)
    assert posted.status_code == 403
    assert posted.json() == {"code": "permission_denied", "message": "A signal key may not post signals here."}
    assert _status(raw) == 403  # reading its orders too
    # A viewer may read but never trade: the key reads its signals again, and still posts none.
    role_add(demo.trader, VIEWER)
    assert _status(raw) == 200
    assert Client().post("/api/v1/signals/", signal, content_type="application/json", **headers).status_code == 403


def test_no_key_is_issued_to_a_user_without_the_trader_role(demo):
    viewer = get_user_model().objects.create_user("vera", password="not-used-here-42")
    role_add(viewer, VIEWER)
    with pytest.raises(ApiKeyError) as refused:
        api_key_create(user=viewer)
    assert str(refused.value) == "vera holds no trader role: a key of theirs could post no signal."
    with pytest.raises(CommandError, match="vera holds no trader role"):
        run("create_signal_key", "--username", "vera")
    assert not ApiKey.objects.filter(user=viewer).exists()
