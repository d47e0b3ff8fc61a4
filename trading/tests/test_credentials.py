"""Broker credentials at rest: MultiFernet under keys from the environment, rotatable, never in clear anywhere."""

import io
import json
import logging
import stat

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from trading.brokers.credentials import CredentialError, credential_decrypt, credential_encrypt, credential_rotate
from trading.models import BrokerCredential, Event
from trading.services.credentials import credential_get, credential_set
from trading.tests.test_admin import verified_admin_client

SECRET = "ib-password-Sup3r$ecret"


@pytest.fixture
def keys(settings, tmp_path):
    """Start every test with no key configured and a key file of its own (never the project's)."""
    settings.CREDENTIALS_KEYS = ""
    settings.CREDENTIALS_KEY_FILE = str(tmp_path / "data" / "credentials.key")
    return settings


def test_round_trip(keys):
    keys.CREDENTIALS_KEYS = Fernet.generate_key().decode()

    token = credential_encrypt(SECRET)

    assert SECRET not in token
    assert credential_decrypt(token) == SECRET


def test_the_embedded_default_generates_a_key_file_readable_by_its_owner_only(keys, tmp_path):
    token = credential_encrypt(SECRET)
    key_file = tmp_path / "data" / "credentials.key"

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Fernet(key_file.read_text().strip()).decrypt(token.encode()).decode() == SECRET
    keys.SECRET_KEY = "another-secret-key"  # the key is never derived from SECRET_KEY
    assert credential_decrypt(token) == SECRET


def test_without_a_key_file_production_refuses_with_a_clear_sentence(keys, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_KEYS", raising=False)
    keys.CREDENTIALS_KEY_FILE = ""  # what DJANGO_ENV=production leaves

    with pytest.raises(CredentialError) as raised:
        credential_encrypt(SECRET)

    assert raised.value.code == "credential_key_missing"
    assert "set CREDENTIALS_KEYS" in raised.value.message


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key(keys):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys.CREDENTIALS_KEYS = old_key
    old_token = credential_encrypt(SECRET)

    keys.CREDENTIALS_KEYS = f"{new_key},{old_key}"
    assert credential_decrypt(old_token) == SECRET
    rotated = credential_rotate(old_token)

    assert Fernet(new_key).decrypt(rotated.encode()).decode() == SECRET
    keys.CREDENTIALS_KEYS = new_key  # the old key is retired
    assert credential_decrypt(rotated) == SECRET
    with pytest.raises(CredentialError):
        credential_decrypt(old_token)


def test_tampered_token_raises_with_a_code_and_no_secret(keys):
    key = Fernet.generate_key().decode()
    keys.CREDENTIALS_KEYS = key
    token = credential_encrypt(SECRET)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]

    with pytest.raises(CredentialError) as raised:
        credential_decrypt(tampered)

    assert raised.value.code == "credential_undecryptable"
    assert SECRET not in str(raised.value) and key not in str(raised.value)
    assert raised.value.__cause__ is None


def test_an_invalid_configured_key_is_reported_without_the_key(keys):
    keys.CREDENTIALS_KEYS = "not-a-fernet-key"

    with pytest.raises(CredentialError) as raised:
        credential_encrypt(SECRET)

    assert raised.value.code == "credential_key_invalid"
    assert "not-a-fernet-key" not in raised.value.message


@pytest.mark.django_db
def test_a_stored_credential_is_encrypted_read_back_and_recorded_without_its_value(keys, demo):
    keys.CREDENTIALS_KEYS = Fernet.generate_key().decode()

    credential_set(account=demo.account, broker="ib", name="password", value=SECRET, actor="ops")

    stored = BrokerCredential.objects.get()
    assert SECRET not in stored.token
    assert credential_get(account=demo.account, broker="ib", name="password") == SECRET
    event = Event.objects.get(type="credential.set")
    assert event.payload == {"broker": "ib", "name": "password", "created": True, "credential_id": stored.pk}


@pytest.mark.django_db
def test_credentials_rotate_moves_every_credential_to_the_new_key(keys, demo):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys.CREDENTIALS_KEYS = old_key
    credential_set(account=demo.account, broker="ib", name="password", value=SECRET)
    credential_set(broker="ib", name="gateway", value="gateway-" + SECRET)

    keys.CREDENTIALS_KEYS = f"{new_key},{old_key}"
    out = io.StringIO()
    call_command("credentials_rotate", stdout=out)

    assert "re-encrypted 2 credentials" in out.getvalue()
    keys.CREDENTIALS_KEYS = new_key
    assert credential_get(account=demo.account, broker="ib", name="password") == SECRET
    assert credential_get(broker="ib", name="gateway") == "gateway-" + SECRET
    assert Event.objects.get(type="credentials.rotated").payload == {"credentials": 2}


@pytest.mark.django_db
def test_credentials_rotate_refuses_without_the_old_key_and_changes_nothing(keys, demo):
    keys.CREDENTIALS_KEYS = Fernet.generate_key().decode()
    credential_set(account=demo.account, broker="ib", name="password", value=SECRET)
    token = BrokerCredential.objects.get().token

    keys.CREDENTIALS_KEYS = Fernet.generate_key().decode()  # the old key forgotten
    with pytest.raises(CommandError, match="credential_undecryptable"):
        call_command("credentials_rotate")

    assert BrokerCredential.objects.get().token == token


@pytest.mark.django_db
def test_the_admin_takes_a_secret_and_never_shows_it(keys, demo):
    keys.CREDENTIALS_KEYS = Fernet.generate_key().decode()
    ops = verified_admin_client()

    form = {"account": demo.account.pk, "broker": "ib", "name": "password", "secret": SECRET}
    assert ops.post("/admin/trading/brokercredential/add/", form).status_code == 302

    credential = BrokerCredential.objects.get()
    assert credential_get(account=demo.account, broker="ib", name="password") == SECRET
    page = ops.get(f"/admin/trading/brokercredential/{credential.pk}/change/").content.decode()
    assert SECRET not in page and credential.token not in page
    assert Event.objects.filter(type="credential.set", actor="ops", channel="admin").exists()


@pytest.mark.django_db
def test_no_secret_or_whole_api_key_in_a_database_dump_the_events_or_the_logs(keys, demo, caplog):
    keys.CREDENTIALS_KEYS = Fernet.generate_key().decode()
    caplog.set_level(logging.DEBUG)
    from accounts.services import api_key_create

    raw_key = api_key_create(user=demo.trader, strategy=demo.strategy, name="producer")
    credential_set(account=demo.account, broker="ib", name="password", value=SECRET, actor="ops")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
    assert Client().get("/api/v1/orders/", **headers).status_code == 200
    assert Client().get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Bearer {raw_key}x").status_code == 401

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM trading_event")
        events = json.dumps(cursor.fetchall(), default=str)
    everything = {"dumpdata": dump.getvalue(), "events": events, "logs": caplog.text}

    for where, text in everything.items():
        assert SECRET not in text, where
        assert raw_key not in text and raw_key.split("_", 2)[2] not in text, where
        assert keys.CREDENTIALS_KEYS not in text, where
    assert demo.key not in dump.getvalue()
    assert Event.objects.filter(type="api_key.created", payload__prefix=raw_key.split("_")[1]).exists()
