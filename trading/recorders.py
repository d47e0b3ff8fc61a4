"""Events for changes to rows of the apps below trading (accounts' API keys, django-otp's devices), which cannot
import the event log.

Wired as model signal receivers in ``TradingConfig.ready``, so every way a key changes (a service, a
command, the admin) is recorded, in the transaction that saves it: created, revoked, any other field
changed (before and after), deleted. Never the key or its hash: the visible prefix names it.
"""

from typing import Any

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiKey
from trading.events.accounts import (
    api_key_created_event,
    api_key_deleted_event,
    api_key_revoked_event,
    api_key_updated_event,
    otp_device_enrolled_event,
    otp_device_removed_event,
)
from trading.models import Account

# Not recorded: what changes on every use, and anything derived from the key itself (its hash, a secret).
API_KEY_UNRECORDED = frozenset({"last_used_at", "created_at"})
SECRET_WORDS = ("hash", "secret", "raw", "token")


def _recorded(name: str) -> bool:
    return name not in API_KEY_UNRECORDED and not any(word in name for word in SECRET_WORDS)


def _api_key_fields(key: ApiKey) -> dict[str, Any]:
    return {
        field.attname: getattr(key, field.attname)
        for field in ApiKey._meta.concrete_fields
        if _recorded(field.attname) and not field.primary_key
    }


def _api_key_account(key: ApiKey) -> Account | None:
    # The key's strategy's account, else its user's first: the owner sees the event in their stream.
    if key.strategy_id is not None:
        return Account.objects.filter(strategies__pk=key.strategy_id).first()
    return Account.objects.filter(owner_id=key.user_id).order_by("pk").first()


def api_key_before_save(sender, instance: ApiKey, raw: bool = False, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    stored = ApiKey.objects.filter(pk=instance.pk).first()
    instance._audit_before = _api_key_fields(stored) if stored is not None else None


def api_key_saved(sender, instance: ApiKey, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    after = _api_key_fields(instance)
    before = getattr(instance, "_audit_before", None)
    instance._audit_before = after
    if created or before is None:
        api_key_created_event(key=instance, account=_api_key_account(instance))
        return
    changes = {name: {"before": before[name], "after": value} for name, value in after.items() if before[name] != value}
    if not changes:
        return
    revoked = "revoked_at" in changes and changes["revoked_at"]["before"] is None
    record = api_key_revoked_event if revoked else api_key_updated_event
    record(key=instance, account=_api_key_account(instance), changes=changes)


def api_key_deleted(sender, instance: ApiKey, **kwargs) -> None:
    api_key_deleted_event(key=instance, account=_api_key_account(instance))


# ---------- one-time-password devices: enrolled (confirmed) and removed; never a key or a code ----------
OTP_DEVICE_MODELS = (TOTPDevice, StaticDevice)


def _user_account(user_id: int) -> Account | None:
    return Account.objects.filter(owner_id=user_id).order_by("pk").first()


def otp_device_before_save(sender, instance: Any, raw: bool = False, **kwargs) -> None:
    # A device saves itself on every verification: only its confirmation is recorded, once.
    instance._audit_confirmed = (
        None
        if raw or instance.pk is None
        else sender.objects.filter(pk=instance.pk).values_list("confirmed", flat=True).first()
    )


def otp_device_saved(sender, instance: Any, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or not instance.confirmed or getattr(instance, "_audit_confirmed", None):
        return
    instance._audit_confirmed = True
    otp_device_enrolled_event(device=instance, account=_user_account(instance.user_id))


def otp_device_deleted(sender, instance: Any, **kwargs) -> None:
    otp_device_removed_event(device=instance, account=_user_account(instance.user_id))
