"""Broker credentials: set, read and re-encrypt; each change an event that names the secret, never holds it."""

from django.db import transaction
from django.utils import timezone

from trading.brokers.credentials import credential_decrypt, credential_encrypt, credential_rotate
from trading.events.accounts import credential_deleted_event, credential_set_event, credentials_rotated_event
from trading.models import Account, BrokerCredential


def credential_set(
    *, broker: str, name: str, value: str, account: Account | None = None, actor: str = ""
) -> BrokerCredential:
    """Store (or replace) a secret, encrypted under the current key."""
    token = credential_encrypt(value)
    with transaction.atomic():
        credential, created = BrokerCredential.objects.select_for_update().update_or_create(
            account=account, broker=broker, name=name, defaults={"token": token}
        )
        credential_set_event(credential=credential, created=created, actor=actor)
    return credential


def credential_get(*, broker: str, name: str, account: Account | None = None) -> str | None:
    """The secret in clear, for the broker adapter that sends it; None when none is stored."""
    credential = BrokerCredential.objects.filter(account=account, broker=broker, name=name).first()
    return None if credential is None else credential_decrypt(credential.token)


def credential_delete(*, credential_id: int, actor: str = "") -> None:
    with transaction.atomic():
        credential = BrokerCredential.objects.select_for_update().get(pk=credential_id)
        credential_deleted_event(credential=credential, actor=actor)
        credential.delete()


def credentials_rotate(*, actor: str = "") -> int:
    """Re-encrypt every stored credential under the current (first) key; returns how many.

    Each row is re-encrypted under its own lock, in one transaction: either every credential
    moves to the new key or none does, and the old key may be dropped once this has committed.
    """
    with transaction.atomic():
        credentials = list(BrokerCredential.objects.select_for_update().order_by("pk"))
        now = timezone.now()
        for credential in credentials:
            credential.token, credential.updated_at = credential_rotate(credential.token), now
        BrokerCredential.objects.bulk_update(credentials, ["token", "updated_at"])
        credentials_rotated_event(count=len(credentials), actor=actor)
    return len(credentials)
