"""Broker credentials encrypted at rest with MultiFernet, under keys from the environment that can be rotated.

Keys come from ``CREDENTIALS_KEYS`` (setting or environment variable): comma-separated Fernet keys
(``Fernet.generate_key()``), the first one current. The first key encrypts; every key decrypts, so
a new key is put first, ``manage.py credentials_rotate`` re-encrypts every stored credential under
it (``MultiFernet.rotate``), and only then the old key is dropped.

Keys are never derived from SECRET_KEY (a session key's leak must not open the broker account).
With no key configured, the embedded default generates one into ``CREDENTIALS_KEY_FILE`` (under the
data directory, ignored by git, created 0600) and uses it from then on; in production that setting
is empty, and storing or reading a credential is refused with ``credential_key_missing``.

Errors carry a code and a sentence and never the credential or a key.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _configured_keys() -> list[str]:
    configured = getattr(settings, "CREDENTIALS_KEYS", None) or os.environ.get("CREDENTIALS_KEYS", "")
    if isinstance(configured, str):
        configured = configured.split(",")
    return [key.strip() for key in configured if key and key.strip()]


def _key_file_read_or_create(path: Path) -> str:
    """The embedded default's own key: made once, readable by this user only."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(descriptor, "wb") as file:
        file.write(key + b"\n")
    return key.decode()


def credential_keys() -> list[str]:
    """The Fernet keys in use, current first."""
    keys = _configured_keys()
    if keys:
        return keys
    key_file = getattr(settings, "CREDENTIALS_KEY_FILE", "")
    if not key_file:
        raise CredentialError(
            "credential_key_missing",
            "No key to encrypt broker credentials: set CREDENTIALS_KEYS to one or more Fernet keys "
            '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").',
        )
    return [_key_file_read_or_create(Path(key_file))]


def _fernet() -> MultiFernet:
    fernets = []
    for position, key in enumerate(credential_keys(), start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise CredentialError(
                "credential_key_invalid",
                f"Key number {position} in CREDENTIALS_KEYS is not a Fernet key (32 url-safe base64 bytes).",
            ) from None
    return MultiFernet(fernets)


def _token_bytes(token: str) -> bytes:
    if not isinstance(token, str) or not token:
        raise CredentialError("credential_invalid", "The stored broker credential is empty or not text.")
    return token.encode()


def credential_encrypt(plaintext: str) -> str:
    """A token for the credential, made under the current key."""
    if not isinstance(plaintext, str) or not plaintext:
        raise CredentialError("credential_invalid", "A broker credential must be non-empty text.")
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
    """The same credential re-encrypted under the current key."""
    try:
        return _fernet().rotate(_token_bytes(token)).decode()
    except InvalidToken:
        raise CredentialError(
            "credential_undecryptable",
            "The stored broker credential could not be re-encrypted: it was altered or made under a key "
            "no longer configured.",
        ) from None
