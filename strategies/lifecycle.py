"""The strategy manager's writes (the design's StrategyManager): create, modify, delete, deploy, pause, resume, stop.

Each service owns its transaction and takes the account's row lock first (the lock order everywhere:
account, then strategy, then orders), so that

- a capital allocation (create, a larger capital, deploy) is checked against the account's equity with
  no other allocation between the check and the write (two concurrent ones cannot both pass);
- a status change and a signal's validation (``strategies.services``, under the same lock) are
  serialized: a signal validated before a pause commits is taken, any later one sees PAUSED.

Every change writes its event (who, when, why) in the same transaction; the dashboards hear of it
after commit through the live push. ``stop`` cancels the strategy's open orders and, with
``flatten``, closes its positions, after its transaction, through trading's two-phase cancel and
close: no broker call is made under a lock.

Refusals raise ``strategies.core.lifecycle.StrategyLifecycleError`` subclasses (each with its
``code``: ``illegal_strategy_transition``, ``strategy_not_editable``, ``strategy_not_deletable``,
``capital_exceeds_equity``), ``StrategyInvalid`` for input a field names, and
``accounts.otp.OtpRefused`` for a missing or wrong one-time password.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.otp import OTP_REQUIRED, OtpRefused, otp_verify
from accounts.services import api_keys_revoke_for_strategy
from risk.services import position_close
from strategies.core import autopause
from strategies.core.generators import STRATEGY_TYPES
from strategies.core.lifecycle import (
    StrategyAction,
    StrategyLifecycleError,
    StrategyStatus,
    ensure_deletable,
    ensure_editable,
    needs_otp,
    next_status,
)
from strategies.core.params import params_dump, params_validate
from strategies.events import (
    strategy_created_event,
    strategy_deleted_event,
    strategy_deployed_event,
    strategy_paused_event,
    strategy_resumed_event,
    strategy_stopped_event,
    strategy_updated_event,
)
from strategies.models import Strategy, StrategyVersion
from trading.brokers.base import BrokerError
from trading.core.orders import OPEN_STATUSES, OrderError
from trading.models import Account, Instrument, Order, Position
from trading.selectors import book_read
from trading.services import TradingError, account_lock, order_cancel

logger = logging.getLogger(__name__)

CAPITAL_EXCEEDS_EQUITY = "capital_exceeds_equity"
MAX_SYMBOLS = 50
# The event each of a person's actions records (the monitor's auto-pause records its own, with the rules it breached).
TRANSITION_EVENTS = {
    StrategyAction.DEPLOY: strategy_deployed_event,
    StrategyAction.PAUSE: strategy_paused_event,
    StrategyAction.RESUME: strategy_resumed_event,
    StrategyAction.STOP: strategy_stopped_event,
}


class StrategyInvalid(Exception):
    """Input a field names (a parameter out of range, a name already used): the API's 400 ``invalid``."""

    def __init__(self, errors: dict[str, Any]) -> None:
        self.errors = errors
        super().__init__(str(errors))


class CapitalExceedsEquity(StrategyLifecycleError):
    """The strategies' capital would pass the account's equity; ``figures`` says by how much."""

    code = CAPITAL_EXCEEDS_EQUITY

    def __init__(self, *, capital: Decimal, allocated: Decimal, equity: Decimal) -> None:
        self.figures = {"capital": f"{capital:.2f}", "allocated": f"{allocated:.2f}", "equity": f"{equity:.2f}"}
        super().__init__(
            f"The capital ({capital:,.2f}) and what your other strategies hold ({allocated:,.2f}) come to "
            f"{capital + allocated:,.2f}, more than the account's equity ({equity:,.2f})."
        )


@dataclass(frozen=True)
class StrategyChanges:
    """A PATCH: the fields given (None: unchanged). ``parameters`` are merged into the stored ones."""

    name: str | None = None
    capital: Decimal | None = None
    parameters: Mapping[str, Any] | None = None
    symbols: Sequence[str] | None = None
    auto_pause: Mapping[str, Any] | None = None


# ---------- configuration ----------
def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _configuration_build(
    strategy_type: str,
    *,
    parameters: Mapping[str, Any] | None,
    symbols: Sequence[str] | None,
    auto_pause: Mapping[str, Any] | None,
    base: Mapping[str, Any],
) -> dict[str, Any]:
    """The configuration to store: ``base`` (other cores' parts, e.g. ``sizing``, are kept) with the
    parameters validated per type (defaults filled), the symbols and the auto-pause rules; or StrategyInvalid."""
    errors: dict[str, Any] = {}
    params, param_errors = params_validate(strategy_type, parameters)
    if param_errors:
        if "strategy_type" in param_errors:
            errors["strategy_type"] = param_errors["strategy_type"]
        else:
            errors["parameters"] = param_errors
    configuration = dict(base)
    if params is not None:
        configuration["parameters"] = params_dump(params)
    info = STRATEGY_TYPES.get(strategy_type)
    if symbols is not None and info is not None:
        symbol_errors = _symbols_errors(symbols, generator=info.generator is not None)
        if symbol_errors:
            errors["symbols"] = symbol_errors
        elif info.generator is not None:
            configuration["symbols"] = list(dict.fromkeys(s.upper() for s in symbols))
    elif info is not None and info.generator is not None and not configuration.get("symbols"):
        errors["symbols"] = ["Name at least one symbol for the generator to watch."]
    if auto_pause is not None:
        config, rule_errors = autopause.config_validate(auto_pause)
        if rule_errors:
            errors["auto_pause"] = rule_errors
        else:
            configuration["auto_pause"] = {f.name: _json(getattr(config, f.name)) for f in fields(config)}
    if errors:
        raise StrategyInvalid(errors)
    return configuration


def _symbols_errors(symbols: Sequence[str], *, generator: bool) -> dict[str, list[str]] | list[str]:
    if not generator:
        return ["An external producer names the symbol in each signal: send no symbols for this type."]
    if not symbols:
        return ["Name at least one symbol for the generator to watch."]
    if len(symbols) > MAX_SYMBOLS:
        return [f"Name at most {MAX_SYMBOLS} symbols."]
    wanted = [s.upper() for s in symbols]
    known = set(Instrument.objects.filter(symbol__in=wanted, is_active=True).values_list("symbol", flat=True))
    return {str(i): [f"{s} is not a tradable instrument."] for i, s in enumerate(wanted) if s not in known}


def _diff(before: Strategy, name: str, capital: Decimal, configuration: Mapping[str, Any]) -> dict[str, Any]:
    """What changed: ``{field: [before, after]}`` for name, capital and symbols,
    ``{"parameters": {name: {"before", "after"}}}`` (and likewise ``auto_pause``) for the parameters."""
    diff: dict[str, Any] = {}
    if name != before.name:
        diff["name"] = [before.name, name]
    if capital != before.capital:
        diff["capital"] = [f"{before.capital:.6f}", f"{capital:.6f}"]  # as the API shows money
    old = before.configuration or {}
    if (old.get("symbols") or []) != (configuration.get("symbols") or []):
        diff["symbols"] = [", ".join(old.get("symbols") or []), ", ".join(configuration.get("symbols") or [])]
    for part in ("parameters", "auto_pause"):
        was, now = old.get(part) or {}, configuration.get(part) or {}
        changed = {
            key: {"before": was.get(key), "after": now.get(key)}
            for key in sorted(set(was) | set(now))
            if was.get(key) != now.get(key)
        }
        if changed:
            diff[part] = changed
    return diff


# ---------- capital allocation ----------
def capital_allocated(*, account: Account, excluding: int | None = None) -> Decimal:
    """The capital the account's strategies hold: every one not STOPPED and not deleted (DRAFT included)."""
    strategies = Strategy.objects.filter(account=account, deleted_at__isnull=True).exclude(
        status=Strategy.Status.STOPPED
    )
    if excluding is not None:
        strategies = strategies.exclude(pk=excluding)
    return strategies.aggregate(total=Sum("capital"))["total"] or Decimal(0)


def _capital_check(account: Account, *, strategy_id: int | None, capital: Decimal) -> None:
    """Under the account's lock: this capital and the others' together within the account's equity now."""
    allocated = capital_allocated(account=account, excluding=strategy_id)
    equity = book_read(account=account).equity
    if allocated + capital > equity:
        raise CapitalExceedsEquity(capital=capital, allocated=allocated, equity=equity)


def _name_check(owner: AbstractBaseUser, name: str, *, excluding: int | None = None) -> None:
    taken = Strategy.objects.filter(owner=owner, name=name, deleted_at__isnull=True)
    if excluding is not None:
        taken = taken.exclude(pk=excluding)
    if taken.exists():
        raise StrategyInvalid({"name": ["You already have a strategy so named."]})


def _locked(strategy_id: int, owner: AbstractBaseUser | None) -> tuple[Account, Strategy]:
    """The account's lock, then the strategy's row; Strategy.DoesNotExist when it is not the owner's or deleted."""
    live = Strategy.objects.filter(pk=strategy_id, deleted_at__isnull=True)
    if owner is not None:
        live = live.filter(owner=owner)
    account = account_lock(live.values_list("account_id", flat=True).get())
    strategy = live.select_for_update().get()
    strategy.account = account
    return account, strategy


# ---------- create, modify, delete ----------
def strategy_create(
    *,
    owner: AbstractBaseUser,
    account: Account,
    name: str,
    strategy_type: str,
    capital: Decimal,
    parameters: Mapping[str, Any] | None = None,
    symbols: Sequence[str] | None = None,
    auto_pause: Mapping[str, Any] | None = None,
    reason: str = "",
    deployed: bool = False,
) -> Strategy:
    """A new DRAFT strategy with its version 1, its parameters validated per type and its capital within
    the account's equity (with every other strategy's not STOPPED).

    ``deployed`` creates it RUNNING at once, for seed data and tests only (no one-time password: the
    API never passes it).
    """
    configuration = _configuration_build(
        strategy_type, parameters=parameters, symbols=symbols, auto_pause=auto_pause, base={}
    )
    actor = owner.get_username()
    now = timezone.now()
    try:
        with transaction.atomic():
            account = account_lock(account.pk)
            _name_check(owner, name)
            _capital_check(account, strategy_id=None, capital=capital)
            strategy = Strategy.objects.create(
                owner=owner,
                account=account,
                name=name,
                strategy_type=strategy_type,
                configuration=configuration,
                capital=capital,
                status=Strategy.Status.RUNNING if deployed else Strategy.Status.DRAFT,
                version=1,
                deployed_at=now if deployed else None,
                status_changed_at=now,
            )
            StrategyVersion.objects.create(
                strategy=strategy,
                number=1,
                configuration=configuration,
                capital=capital,
                created_by=owner,
                reason=reason or "created",
                diff={},
            )
            strategy_created_event(strategy=strategy, account=account, actor=actor, reason=reason)
    except IntegrityError as error:
        # The same name created concurrently: the unique constraint decided.
        if Strategy.objects.filter(owner=owner, name=name, deleted_at__isnull=True).exists():
            raise StrategyInvalid({"name": ["You already have a strategy so named."]}) from error
        raise
    return strategy


def strategy_update(
    *, strategy_id: int, user: AbstractBaseUser, changes: StrategyChanges, reason: str = ""
) -> Strategy:
    """A modification: a new version (number, who, when, why, the diff) when anything changes.

    Parameters, symbols and auto-pause rules change only while the strategy takes no entries (not
    RUNNING: ``strategy_not_editable``); the name and the capital at any time, a larger capital within
    the account's equity (a STOPPED strategy's is checked when it is deployed again). The parameters
    given are merged into the stored ones and the whole set validated again.
    """
    with transaction.atomic():
        account, strategy = _locked(strategy_id, user)
        stored = strategy.configuration or {}
        parameters = None
        if changes.parameters is not None:
            parameters = {**(stored.get("parameters") or {}), **changes.parameters}
        elif "parameters" in stored:
            parameters = stored["parameters"]
        configuration = _configuration_build(
            strategy.strategy_type,
            parameters=parameters,
            symbols=changes.symbols,
            auto_pause=changes.auto_pause,
            base=stored,
        )
        name = changes.name if changes.name is not None else strategy.name
        capital = changes.capital if changes.capital is not None else strategy.capital
        diff = _diff(strategy, name, capital, configuration)
        if not diff:
            return strategy
        if set(diff) & {"parameters", "symbols", "auto_pause"}:
            ensure_editable(strategy.status)
        if "name" in diff:
            _name_check(user, name, excluding=strategy.pk)
        if capital > strategy.capital and strategy.status != Strategy.Status.STOPPED:
            _capital_check(account, strategy_id=strategy.pk, capital=capital)
        strategy.name, strategy.capital, strategy.configuration = name, capital, configuration
        strategy_version_add(strategy=strategy, user=user, reason=reason, diff=diff)
        strategy_updated_event(
            strategy=strategy, account=account, actor=user.get_username(), source="api", changes=diff, reason=reason
        )
    return strategy


def strategy_version_add(
    *, strategy: Strategy, user: AbstractBaseUser | None, reason: str, diff: Mapping[str, Any]
) -> StrategyVersion:
    """Record the strategy's configuration now as its next version, in the caller's transaction (which holds
    the strategy's row): the API's modifications, and the admin's."""
    strategy.version += 1
    strategy.save(update_fields=["name", "capital", "configuration", "version"])
    return StrategyVersion.objects.create(
        strategy=strategy,
        number=strategy.version,
        configuration=strategy.configuration,
        capital=strategy.capital,
        created_by=user,
        reason=reason,
        diff=dict(diff),
    )


def strategy_diff(before: Strategy, after: Strategy) -> dict[str, Any]:
    """What changed between two states of a strategy (name, capital, configuration), as versions record it."""
    return _diff(before, after.name, after.capital, after.configuration or {})


def strategy_delete(*, strategy_id: int, user: AbstractBaseUser, reason: str = "") -> None:
    """Delete a DRAFT or STOPPED strategy (``strategy_not_deletable`` otherwise).

    Its signals, orders, fills and events point at it and are the audit trail, so the row stays,
    marked deleted: it leaves every list and page (404 from then on), frees its name for a new
    strategy, holds no capital, and the API keys scoped to it are revoked.
    """
    with transaction.atomic():
        account, strategy = _locked(strategy_id, user)
        ensure_deletable(strategy.status)
        strategy.deleted_at = timezone.now()
        strategy.save(update_fields=["deleted_at"])
        revoked = api_keys_revoke_for_strategy(strategy_id=strategy.pk)
        strategy_deleted_event(
            strategy=strategy, account=account, actor=user.get_username(), reason=reason, keys_revoked=revoked
        )


# ---------- the lifecycle ----------
def strategy_transition(
    *,
    strategy_id: int,
    user: AbstractBaseUser,
    action: StrategyAction | str,
    otp: str | None = None,
    reason: str = "",
    flatten: bool = False,
) -> Strategy:
    """StrategyManager.deploy_strategy / pause_strategy / resume_strategy / stop_strategy: a person's action.

    The lifecycle table decides (``illegal_strategy_transition``); deploy, and resume after an
    auto-pause, need the person's one-time password (``otp``), checked before the transaction so a
    wrong code is counted by django-otp's throttling even though nothing else is written. Deploy
    checks the capital against the account's equity again. Stop cancels the strategy's open entry
    orders (protective orders stay with what they protect) and, with ``flatten``, closes its
    positions at market, after commit.
    """
    action = StrategyAction(action)
    if action == StrategyAction.AUTO_PAUSE:
        raise StrategyLifecycleError("Only the auto-pause monitor auto-pauses a strategy; pause it instead.")
    seen = Strategy.objects.get(pk=strategy_id, owner=user, deleted_at__isnull=True)
    next_status(seen.status, action)  # an illegal action is refused before any password is asked for
    verified = False
    if needs_otp(seen.status, action):
        otp_verify(user, otp)
        verified = True
    with transaction.atomic():
        account, strategy = _locked(strategy_id, user)
        if needs_otp(strategy.status, action) and not verified:
            # The status changed since it was read, to one whose action needs the password.
            raise OtpRefused(OTP_REQUIRED, "This needs your one-time password in the `otp` field.")
        extra = {"flatten": flatten} if action == StrategyAction.STOP else {}
        _transition_locked(account, strategy, action, actor=user.get_username(), reason=reason, **extra)
    if action == StrategyAction.STOP:
        _stop_sweep(strategy, flatten=flatten, actor=user.get_username())
    strategy.refresh_from_db()
    return strategy


def _transition_locked(
    account: Account, strategy: Strategy, action: StrategyAction, *, actor: str, reason: str, **extra: Any
) -> None:
    previous = StrategyStatus(strategy.status)
    status = next_status(previous, action)
    if action == StrategyAction.DEPLOY:
        _capital_check(account, strategy_id=strategy.pk, capital=strategy.capital)
    now = timezone.now()
    strategy.status, strategy.status_changed_at = status.value, now
    update = ["status", "status_changed_at"]
    if action == StrategyAction.DEPLOY:
        strategy.deployed_at = now
        update.append("deployed_at")
    strategy.save(update_fields=update)
    TRANSITION_EVENTS[action](
        strategy=strategy, account=account, previous=previous, actor=actor, reason=reason, **extra
    )


def _stop_sweep(strategy: Strategy, *, flatten: bool, actor: str) -> None:
    """After a stop's commit, no lock held: cancel the open orders its signals made (entries, and their held
    exits with them; an exit guarding a filled entry stays with its position), then close its positions when
    asked (each close cancels that position's exits first). A broker that refuses or cannot be reached
    leaves that order to reconciliation; the others are still swept."""
    open_entries = Order.objects.filter(
        strategy=strategy, status__in=OPEN_STATUSES, parent__isnull=True, signal__isnull=False
    )
    for order_id in open_entries.order_by("pk").values_list("pk", flat=True):
        try:
            order_cancel(order_id=order_id, actor=actor, reason="strategy stopped", if_open=True)
        except (BrokerError, OrderError, TradingError):
            logger.exception("stopping strategy %s: order %s could not be canceled", strategy.pk, order_id)
    if not flatten:
        return
    positions = Position.objects.filter(strategy=strategy).exclude(quantity=0)
    for position_id in positions.order_by("pk").values_list("pk", flat=True):
        try:
            position_close(position_id=position_id, actor=actor, reason="strategy stopped: flatten")
        except (BrokerError, OrderError, TradingError):
            logger.exception("stopping strategy %s: position %s could not be closed", strategy.pk, position_id)
