"""Events of accounts and of who may act on them: cash, API keys, one-time-password devices, broker credentials.

One constructor each; none carries a secret (a key by its prefix, a credential by its name).
"""

from collections.abc import Mapping
from typing import Any

from django_otp.plugins.otp_static.models import StaticDevice

from accounts.models import ApiKey
from trading.events import EventType, Severity, event_record
from trading.models import Account, BrokerCredential, Event


def account_opened_event(*, account: Account, actor: str) -> Event:
    """The opening cash: the first line of the account's log, where replay starts."""
    return event_record(
        type=EventType.ACCOUNT_OPENED,
        account=account,
        actor=actor,
        payload={"name": account.name, "cash": account.cash, "broker": account.broker},
    )


def account_updated_event(*, account: Account, changes: Mapping[str, Any] | None = None, actor: str = "") -> Event:
    """The account changed: by hand (changes: each field's before and after), or its cash by a fill (no changes)."""
    payload = {"cash": account.cash} if changes is None else {"changes": changes}
    return event_record(type=EventType.ACCOUNT_UPDATED, account=account, actor=actor, payload=payload)


def account_cash_adjusted_event(*, account: Account, change: Mapping[str, Any], actor: str) -> Event:
    """Cash set by hand (change: its before and after); replay takes the new cash from it."""
    return event_record(
        type=EventType.ACCOUNT_CASH_ADJUSTED,
        account=account,
        severity=Severity.WARNING,
        actor=actor,
        payload={"cash": account.cash, "amount": change["after"] - change["before"], "changes": {"cash": change}},
    )


# ---- API keys: named by their prefix and user, never the key or its hash ----
def _api_key_payload(key: ApiKey) -> dict[str, Any]:
    return {"prefix": key.prefix, "user": key.user.get_username()}


def api_key_created_event(*, key: ApiKey, account: Account | None) -> Event:
    payload = {**_api_key_payload(key), "name": key.name, "strategy_id": key.strategy_id}
    return event_record(type=EventType.API_KEY_CREATED, account=account, payload=payload)


def api_key_updated_event(*, key: ApiKey, account: Account | None, changes: Mapping[str, Any]) -> Event:
    payload = {**_api_key_payload(key), "changes": changes}
    return event_record(type=EventType.API_KEY_UPDATED, account=account, payload=payload)


def api_key_revoked_event(*, key: ApiKey, account: Account | None, changes: Mapping[str, Any]) -> Event:
    payload = {**_api_key_payload(key), "changes": changes}
    return event_record(type=EventType.API_KEY_REVOKED, account=account, severity=Severity.WARNING, payload=payload)


def api_key_deleted_event(*, key: ApiKey, account: Account | None) -> Event:
    return event_record(
        type=EventType.API_KEY_DELETED, account=account, severity=Severity.WARNING, payload=_api_key_payload(key)
    )


# ---- one-time-password devices (an authenticator, backup codes): never a key or a code ----
def _otp_device_payload(device: Any) -> dict[str, Any]:
    kind = "backup codes" if isinstance(device, StaticDevice) else "authenticator"
    return {"user": device.user.get_username(), "device": device.name, "kind": kind}


def otp_device_enrolled_event(*, device: Any, account: Account | None) -> Event:
    return event_record(type=EventType.OTP_DEVICE_ENROLLED, account=account, payload=_otp_device_payload(device))


def otp_device_removed_event(*, device: Any, account: Account | None) -> Event:
    return event_record(
        type=EventType.OTP_DEVICE_REMOVED,
        account=account,
        severity=Severity.WARNING,
        payload=_otp_device_payload(device),
    )


# ---- broker credentials: named, never held ----
def credential_set_event(*, credential: BrokerCredential, created: bool, actor: str = "") -> Event:
    return event_record(
        type=EventType.CREDENTIAL_SET,
        account=credential.account,
        severity=Severity.WARNING,
        actor=actor,
        payload={
            "broker": credential.broker,
            "name": credential.name,
            "created": created,
            "credential_id": credential.pk,
        },
    )


def credential_deleted_event(*, credential: BrokerCredential, actor: str = "") -> Event:
    return event_record(
        type=EventType.CREDENTIAL_DELETED,
        account=credential.account,
        severity=Severity.WARNING,
        actor=actor,
        payload={"broker": credential.broker, "name": credential.name, "credential_id": credential.pk},
    )


def credentials_rotated_event(*, count: int, actor: str = "") -> Event:
    """Every stored credential re-encrypted under the current key (count: how many)."""
    return event_record(
        type=EventType.CREDENTIALS_ROTATED, severity=Severity.WARNING, actor=actor, payload={"credentials": count}
    )
