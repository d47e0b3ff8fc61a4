"""Broker credentials at rest: Fernet under rotatable keys."""

import pytest
from cryptography.fernet import Fernet

from trading.brokers.credentials import CredentialError, credential_decrypt, credential_encrypt, credential_rotate

SECRET = "ib-password-Sup3r$ecret"


def test_round_trip(settings):
    settings.BROKER_CREDENTIAL_KEYS = Fernet.generate_key().decode()

    token = credential_encrypt(SECRET)

    assert SECRET not in token
    assert credential_decrypt(token) == SECRET


def test_round_trip_with_the_key_derived_from_secret_key(settings, monkeypatch):
    settings.BROKER_CREDENTIAL_KEYS = ""
    monkeypatch.delenv("BROKER_CREDENTIAL_KEYS", raising=False)
    token = credential_encrypt(SECRET)

    assert credential_decrypt(token) == SECRET
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(CredentialError):
        credential_decrypt(token)


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BROKER_CREDENTIAL_KEYS = old_key
    old_token = credential_encrypt(SECRET)

    settings.BROKER_CREDENTIAL_KEYS = f"{new_key},{old_key}"
    assert credential_decrypt(old_token) == SECRET
    rotated = credential_rotate(old_token)

    assert Fernet(new_key).decrypt(rotated.encode()).decode() == SECRET
    settings.BROKER_CREDENTIAL_KEYS = new_key  # the old key is retired
    assert credential_decrypt(rotated) == SECRET
    with pytest.raises(CredentialError):
        credential_decrypt(old_token)


def test_tampered_token_raises_with_a_code_and_no_secret(settings):
    key = Fernet.generate_key().decode()
    settings.BROKER_CREDENTIAL_KEYS = key
    token = credential_encrypt(SECRET)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]

    with pytest.raises(CredentialError) as raised:
        credential_decrypt(tampered)

    assert raised.value.code == "credential_undecryptable"
    assert SECRET not in str(raised.value) and key not in str(raised.value)
    assert raised.value.__cause__ is None


def test_an_invalid_configured_key_is_reported_without_the_key(settings):
    settings.BROKER_CREDENTIAL_KEYS = "not-a-fernet-key"

    with pytest.raises(CredentialError) as raised:
        credential_encrypt(SECRET)

    assert raised.value.code == "credential_key_invalid"
    assert "not-a-fernet-key" not in raised.value.message
