"""Broker credentials encrypted at rest with Fernet, under keys that can be rotated.

Keys come from the ``BROKER_CREDENTIAL_KEYS`` setting or environment variable:
comma-separated Fernet keys (``Fernet.generate_key()``), newest first. The first
key encrypts; every key decrypts, so a new key is prepended, stored tokens are
moved over with ``credential_rotate``, and only then the old key is dropped.

When no key is configured (the embedded demo), one key is derived from
``SECRET_KEY`` with HKDF-SHA256 (fixed salt and info below). Tokens made that way
are unreadable once SECRET_KEY changes, so production must set
BROKER_CREDENTIAL_KEYS.

Errors carry a code and a sentence and never the credential or a key.
"""

import base64
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

HKDF_SALT = b"quantumleap.broker-credentials"
HKDF_INFO = b"fernet key v1"


class CredentialError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _configured_keys() -> list[str]:
    configured = getattr(settings, "BROKER_CREDENTIAL_KEYS", None) or os.environ.get("BROKER_CREDENTIAL_KEYS", "")
    if isinstance(configured, str):
        configured = configured.split(",")
    return [key.strip() for key in configured if key and key.strip()]


def _derived_key() -> bytes:
    secret = settings.SECRET_KEY
    if not secret:
        raise CredentialError("credential_key_missing", "Neither BROKER_CREDENTIAL_KEYS nor SECRET_KEY is set.")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


def _fernet() -> MultiFernet:
    keys = _configured_keys() or [_derived_key()]
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise CredentialError(
                "credential_key_invalid",
                f"Key number {position} in BROKER_CREDENTIAL_KEYS is not a Fernet key (32 url-safe base64 bytes).",
            ) from None
    return MultiFernet(fernets)


def _token_bytes(token: str) -> bytes:
    if not isinstance(token, str) or not token:
        raise CredentialError("credential_invalid", "The stored broker credential is empty or not text.")
    return token.encode()


def credential_encrypt(plaintext: str) -> str:
    """A token for the credential, made under the newest key."""
    if not isinstance(plaintext, str):
        raise CredentialError("credential_invalid", "A broker credential must be text.")
    return _fernet().encrypt(plaintext.encode()).decode()


def credential_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(_token_bytes(token)).decode()
    except InvalidToken:
        raise CredentialError(
            "credential_undecryptable",
            "The stored broker credential could not be decrypted: it was altered or made under a key "
            "no longer configured.",
        ) from None


def credential_rotate(token: str) -> str:
    """The same credential re-encrypted under the newest key."""
    try:
        return _fernet().rotate(_token_bytes(token)).decode()
    except InvalidToken:
        raise CredentialError(
            "credential_undecryptable",
            "The stored broker credential could not be re-encrypted: it was altered or made under a key "
            "no longer configured.",
        ) from None
