"""Users' API keys: create, revoke, rotate. A raw key exists only in the answer that creates it."""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, key_generate, key_hash
from accounts.permissions import TRADE_PERMISSION

if TYPE_CHECKING:
    from strategies.models import Strategy

# How long a rotated key keeps working beside its successor, unless told otherwise.
ROTATION_OVERLAP_DEFAULT = timedelta(hours=24)


class ApiKeyError(ValueError):
    """A key command that cannot be done (a revoked key rotated, a strategy of another user)."""


def api_key_create(
    *,
    user: AbstractBaseUser,
    strategy: "Strategy | None" = None,
    name: str = "",
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
) -> str:
    """Create a key and return it raw: this is the only time it exists outside the caller."""
    return api_key_issue(
        user=user, strategy=strategy, name=name, expires_at=expires_at, rate_limit_per_minute=rate_limit_per_minute
    )[1]


def api_key_issue(
    *,
    user: AbstractBaseUser,
    strategy: "Strategy | None" = None,
    name: str = "",
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key: (its row, the raw key, shown once)."""
    if not user.has_perm(TRADE_PERMISSION):
        raise ApiKeyError(f"{user.get_username()} holds no trader role: a key of theirs could post no signal.")
    if strategy is not None and strategy.owner_id != user.pk:
        raise ApiKeyError(f"Strategy {strategy.name} does not belong to {user.get_username()}.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiKeyError("The expiry must be in the future.")
    raw_key, prefix = key_generate()
    key = ApiKey(
        user=user,
        strategy=strategy,
        name=name,
        prefix=prefix,
        hashed_key=key_hash(raw_key),
        expires_at=expires_at,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    key.full_clean()
    key.save()
    return key, raw_key


def api_key_revoke(*, key_id: int) -> ApiKey:
    """The key is refused from now on (idempotent: a revoked key keeps its first revocation time)."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key_id)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
    return key


def api_key_rotate(*, key_id: int, overlap: timedelta = ROTATION_OVERLAP_DEFAULT) -> tuple[ApiKey, str]:
    """A successor with the same user, strategy, name and limit; the old key keeps working for ``overlap``.

    Returns (the new key's row, the raw new key). The old key's expiry becomes now + overlap, or stays
    if it was sooner.
    """
    if overlap < timedelta(0):
        raise ApiKeyError("The overlap cannot be negative.")
    with transaction.atomic():
        old = ApiKey.objects.select_for_update(of=("self",)).select_related("user", "strategy").get(pk=key_id)
        now = timezone.now()
        if not old.is_usable(now):
            raise ApiKeyError(f"Key {old.display_prefix}… is revoked or expired; create a new one instead.")
        new, raw_key = api_key_issue(
            user=old.user,
            strategy=old.strategy,
            name=old.name,
            expires_at=None,
            rate_limit_per_minute=old.rate_limit_per_minute,
        )
        ends = now + overlap
        if old.expires_at is None or old.expires_at > ends:
            old.expires_at = ends
            old.save(update_fields=["expires_at"])
    return new, raw_key


def api_keys_revoke_for_strategy(*, strategy_id: int) -> int:
    """Revoke every live key scoped to a strategy (it was deleted), each recorded; returns how many. In the
    caller's transaction."""
    key_ids = list(ApiKey.objects.filter(strategy_id=strategy_id, revoked_at__isnull=True).values_list("pk", flat=True))
    for key_id in key_ids:
        api_key_revoke(key_id=key_id)
    return len(key_ids)
