"""Users' API keys."""

from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from accounts.models import ApiKey, key_generate, key_hash

if TYPE_CHECKING:
    from strategies.models import Strategy


def api_key_create(*, user: AbstractBaseUser, strategy: "Strategy | None" = None, name: str = "") -> str:
    """Create a key and return it raw: this is the only time it exists outside the caller."""
    if strategy is not None and strategy.owner_id != user.pk:
        raise ValueError(f"Strategy {strategy.name} does not belong to {user.get_username()}.")
    raw_key, prefix = key_generate()
    ApiKey.objects.create(user=user, strategy=strategy, name=name, prefix=prefix, hashed_key=key_hash(raw_key))
    return raw_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once (its next request is refused); a revoked key stays listed, never reused."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])  # recorded as api_key.revoked (trading.recorders)
    return api_key


def api_keys_revoke_for_strategy(*, strategy_id: int) -> int:
    """Revoke every live key scoped to a strategy (it was deleted), each recorded; returns how many. In the
    caller's transaction."""
    keys = list(ApiKey.objects.filter(strategy_id=strategy_id, revoked_at__isnull=True))
    for api_key in keys:
        api_key_revoke(api_key=api_key)
    return len(keys)
