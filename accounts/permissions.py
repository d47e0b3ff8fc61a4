"""The one permission layer of the API.

Every API view states, per HTTP method, the capability it needs in ``access``; a view that states
none is refused to everyone (``RolePermission`` is DRF's default permission class). People get
capabilities from their role groups' permissions (``accounts.roles``); a signal producer's API key
has a fixed few: post signals to its strategy (or its user's, unscoped), read those signals and
their orders, and each only while its user's role holds the same capability (a key of a user who is
no longer a trader posts nothing). Which rows a request may read or change is its ``Scope``: the selectors filter by it.

| capability | trader | operations | viewer | producer key |
|---|---|---|---|---|
| READ (own or granted; operations: all) | yes | yes | yes | no |
| READ_SIGNALS, READ_ORDERS | yes | yes | yes | its signals and their orders |
| READ_STRATEGY (a strategy, its signals, figures) | yes | yes | yes | the strategy it is scoped to |
| POST_SIGNALS | yes | no | no | yes |
| TRADE (own strategies, orders, positions, limits) | yes | no | no | no |
| KILL_SWITCH (own account; operations: any, global) | yes | yes | no | no |
| OPERATE (the operations overview) | no | yes | no | no |
| MANAGE_KEYS (own API keys) | yes | no | no | no |
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from rest_framework.permissions import BasePermission

from accounts.models import AccountGrant, ApiKey

VIEW_OWN = "accounts.view_own"
VIEW_ALL = "accounts.view_all"
TRADE_PERMISSION = "accounts.trade"
KILL_SWITCH_PERMISSION = "accounts.kill_switch"
OPERATIONS_PERMISSION = "accounts.operations"
MANAGE_KEYS_PERMISSION = "accounts.manage_keys"


@dataclass(frozen=True)
class Access:
    """A capability: held by a person with any of ``permissions``, and by a producer key if ``producer``."""

    name: str
    permissions: tuple[str, ...]
    producer: bool = False

    def allows(self, request: Any) -> bool:
        if is_producer(request) and not self.producer:
            return False
        # A producer key acts for its user: it holds a capability only while the user's role gives it too.
        user = request.user
        return bool(user and user.is_authenticated and any(user.has_perm(p) for p in self.permissions))


READ = Access("read", (VIEW_OWN, VIEW_ALL))
READ_SIGNALS = Access("read signals", (VIEW_OWN, VIEW_ALL), producer=True)
# A producer's key reads the strategy it is scoped to, never another (an unscoped key reads none).
READ_STRATEGY = Access("read strategies", (VIEW_OWN, VIEW_ALL), producer=True)
READ_ORDERS = Access("read orders", (VIEW_OWN, VIEW_ALL), producer=True)
POST_SIGNALS = Access("post signals", (TRADE_PERMISSION,), producer=True)
TRADE = Access("trade", (TRADE_PERMISSION,))
KILL_SWITCH = Access("use the kill switch", (TRADE_PERMISSION, KILL_SWITCH_PERMISSION))
OPERATE = Access("see operations", (OPERATIONS_PERMISSION,))
MANAGE_KEYS = Access("manage API keys", (MANAGE_KEYS_PERMISSION,))


def is_producer(request: Any) -> bool:
    return isinstance(getattr(request, "auth", None), ApiKey)


def is_operations(user: AbstractBaseUser) -> bool:
    return bool(user.is_authenticated and user.has_perm(OPERATIONS_PERMISSION))


def may_operate_kill_switches(user: AbstractBaseUser) -> bool:
    """Engage or release any kill switch, the global one included."""
    return bool(user.is_authenticated and user.has_perm(KILL_SWITCH_PERMISSION))


class RolePermission(BasePermission):
    """DRF's default permission class: the view's ``access[method]`` decides; no entry, no access."""

    message = "You may not do this."
    code = "permission_denied"

    def has_permission(self, request, view) -> bool:
        method = request.method.upper()
        if method != "OPTIONS" and not hasattr(view, method.lower()):
            return True  # the view answers 405 itself
        access_map: dict[str, Access] = getattr(view, "access", None) or {}
        if method in ("HEAD", "OPTIONS"):
            candidates = [access_map["GET"]] if "GET" in access_map else list(access_map.values())
        else:
            candidates = [access_map[method]] if method in access_map else []
        if any(access.allows(request) for access in candidates):
            return True
        if candidates and request.user and request.user.is_authenticated:
            who = "A signal key" if is_producer(request) else "Your role"
            self.message = f"{who} may not {candidates[0].name} here."
        return False


@dataclass(frozen=True)
class Scope:
    """The rows a request may see: its own accounts' (and granted ones'), every account's, or a producer's."""

    user_id: int | None
    every_account: bool = False
    granted_account_ids: frozenset[int] = field(default_factory=frozenset)
    producer: bool = False
    strategy_id: int | None = None  # a producer key scoped to one strategy

    @classmethod
    def own(cls, user: AbstractBaseUser) -> "Scope":
        """Only the user's own accounts: what anyone may change."""
        return cls(user_id=user.pk)

    def accounts(self, account: str = "account") -> Q:
        """Rows whose account (at the path ``account``) is readable. Producers read no account's rows."""
        if self.producer:
            return Q(pk__in=[])
        if self.every_account:
            return Q()
        rows = Q(**{f"{account}__owner_id": self.user_id})
        if self.granted_account_ids:
            rows |= Q(**{f"{account}_id__in": self.granted_account_ids})
        return rows

    def account_rows(self) -> Q:
        """Trading accounts themselves that are readable."""
        if self.producer:
            return Q(pk__in=[])
        if self.every_account:
            return Q()
        return Q(owner_id=self.user_id) | Q(pk__in=self.granted_account_ids)

    def signals(self, producer: str = "producer", strategy: str = "strategy") -> Q:
        """Signals: a producer's own (its strategy's, if scoped); a person's accounts' (``strategy``'s account)."""
        if not self.producer:
            return self.accounts(f"{strategy}__account")
        rows = Q(**{f"{producer}_id": self.user_id})
        if self.strategy_id is not None:
            rows &= Q(**{f"{strategy}_id": self.strategy_id})
        return rows

    def orders(self, account: str = "account", signal: str = "signal") -> Q:
        """Orders: a producer's are those of its signals on its user's accounts; a person's by account."""
        if not self.producer:
            return self.accounts(account)
        return self.signals(f"{signal}__producer", f"{signal}__strategy") & Q(**{f"{account}__owner_id": self.user_id})


def read_scope(request: Any) -> Scope:
    """What this request may read."""
    user = request.user
    if is_producer(request):
        return Scope(user_id=user.pk, producer=True, strategy_id=request.auth.strategy_id)
    if user.has_perm(VIEW_ALL):
        return Scope(user_id=user.pk, every_account=True)
    granted = frozenset(AccountGrant.objects.filter(viewer=user).values_list("account_id", flat=True))
    return Scope(user_id=user.pk, granted_account_ids=granted)


def write_scope(request: Any) -> Scope:
    """What this request may change: only the user's own accounts' rows (the view's access said whether at all)."""
    return Scope.own(request.user)


class IsOperations(BasePermission):
    """Only operations (a view may name it beside its ``access``)."""

    message = "Only operations may see this."

    def has_permission(self, request, view) -> bool:
        return not is_producer(request) and is_operations(request.user)
