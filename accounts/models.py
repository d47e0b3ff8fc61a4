"""API keys for signal producers (only a key's hash is stored), and viewers' grants to read an account."""

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

KEY_PREFIX = "ql"


def key_hash(raw_key: str) -> str:
    # Keys carry 256 random bits, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def key_generate() -> tuple[str, str]:
    """A new (raw key, lookup prefix) pair."""
    prefix = secrets.token_hex(4)
    return f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}", prefix


class ApiKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    strategy = models.ForeignKey(
        "strategies.Strategy",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text="When set, the key may only post signals for this strategy (one of the key's user's)",
    )
    name = models.CharField(max_length=64, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    hashed_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="The key is refused from this time on")
    revoked_at = models.DateTimeField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests a minute this key may make; empty: the API_RATE_PER_KEY setting",
    )

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.display_prefix}… ({self.user})"

    @property
    def display_prefix(self) -> str:
        """What the key starts with: enough to recognise it, nothing to use it."""
        return f"{KEY_PREFIX}_{self.prefix}_"

    def clean(self) -> None:
        if self.strategy_id is not None and self.user_id is not None and self.strategy.owner_id != self.user_id:
            raise ValidationError({"strategy": "A key may only be scoped to a strategy of its own user."})

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AccountGrant(models.Model):
    """A viewer may read this account (its strategies, orders, positions, executions, events)."""

    account = models.ForeignKey("trading.Account", on_delete=models.CASCADE, related_name="grants")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_grants")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "viewer"], name="account_grant_unique")]
        # The roles' capabilities: the groups trader, operations and viewer hold them (accounts.roles).
        permissions = [
            ("view_own", "Read own and granted accounts"),
            ("view_all", "Read every account"),
            ("trade", "Change own strategies, orders, positions, risk limits; post signals"),
            ("manage_keys", "Create, rotate and revoke own API keys"),
            ("kill_switch", "Engage and release any kill switch, the global one included"),
            ("operations", "See the operations overview"),
        ]

    def __str__(self) -> str:
        return f"{self.viewer} reads {self.account}"
