"""Risk's writes: trading states, the portfolio monitor's marks and enforcement, the kill switch, stops,
parameters. Reads (the pre-trade snapshot, the assessment, sizing) are in ``risk.selectors``; the
pre-trade gate trading asks is ``risk.pretrade``.

Lock order, as in trading: the account row first. Enforcement that calls the broker (canceling and
closing under an emergency stop) runs after the transaction that decided it has committed.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from risk.core import states
from risk.core.rules import ACTIVE, RiskValidation
from risk.events import (
    RISK_ENGINE,
    risk_kill_switch_engaged_event,
    risk_kill_switch_released_event,
    risk_limit_breached_event,
    risk_parameters_updated_event,
    risk_stop_triggered_event,
    risk_trading_state_changed_event,
    risk_violation_event,
)
from risk.models import KillSwitch, RiskParameters, RiskState, StopTrigger
from risk.selectors import (
    kill_switch_active,
    marks_observed,
    portfolio_risk_assess,
    risk_parameters_for,
)
from strategies.selectors import strategies_live
from trading.brokers.base import BrokerError
from trading.core.orders import OPEN_STATUSES
from trading.events import Severity
from trading.models import Account, Order, Position
from trading.selectors import book_read
from trading.services import TradingError, account_lock, order_cancel
from trading.services import position_close as trading_position_close
from trading.services.placement import Cause

logger = logging.getLogger(__name__)


# ---- trading states ---------------------------------------------------------------------------------


def _risk_state_for_update(account: Account, strategy=None) -> RiskState:
    if strategy is None:
        state, _ = RiskState.objects.get_or_create(account=account, strategy=None)
    else:
        state, _ = RiskState.objects.get_or_create(strategy=strategy, defaults={"account": account})
    return state


def trading_state_set(
    *,
    account: Account,
    strategy=None,
    state: str,
    reason: str,
    actor: str,
    severity: str = Severity.WARNING,
    risk_state: RiskState | None = None,
) -> str:
    """Move the account (strategy None) or one strategy to ACTIVE / REDUCE_ONLY / HALTED; caller holds the lock.

    risk's own rows hold both scopes' states: no other app writes a trading state.
    risk_state: the scope's RiskState when the caller holds it already (it is updated in place).
    """
    if state not in states.SEVERITY:
        raise ValueError(f"{state} is not a trading state.")
    risk_state = risk_state or _risk_state_for_update(account, strategy)
    previous = risk_state.trading_state
    if previous == state:
        return state
    risk_state.trading_state = state
    risk_state.save(update_fields=["trading_state", "updated_at"])
    risk_trading_state_changed_event(
        account=account,
        strategy=strategy,
        previous=previous,
        state=state,
        reason=reason,
        actor=actor,
        severity=severity,
    )
    return state


def trading_state_release(*, account: Account, strategy=None, actor: str, reason: str) -> str:
    """A person moves the account or strategy back to ACTIVE."""
    with transaction.atomic():
        locked = account_lock(account.pk)
        return trading_state_set(account=locked, strategy=strategy, state=ACTIVE, reason=reason, actor=actor)


# ---- the portfolio monitor: equity marks and loss limits --------------------------------------------------


def _marks_store(state: RiskState, equity: Decimal, now: datetime) -> states.EquityMarks:
    marks = marks_observed(state, equity, now)
    if (marks.trading_day, marks.day_start_equity, marks.high_water_mark) != (
        state.trading_day,
        state.day_start_equity,
        state.high_water_mark,
    ):
        state.trading_day, state.day_start_equity = marks.trading_day, marks.day_start_equity
        state.high_water_mark = marks.high_water_mark
        state.save(update_fields=["trading_day", "day_start_equity", "high_water_mark", "updated_at"])
    return marks


@dataclass(frozen=True)
class EmergencyStop:
    """A loss limit whose action is the emergency stop: engaged once the monitor's transaction commits."""

    code: str
    message: str
    account: Account
    strategy: Any = None


def _loss_limits_enforce(
    account: Account, strategy, parameters: RiskParameters, equity: Decimal, now: datetime
) -> list[EmergencyStop]:
    """Store the scope's marks at this equity and move it to the state a reached loss limit asks for."""
    risk_state = _risk_state_for_update(account, strategy)
    marks = _marks_store(risk_state, equity, now)
    found = states.breaches(
        scope="strategy" if strategy is not None else "account",
        equity=equity,
        marks=marks,
        daily_loss_limit=parameters.daily_loss_limit,
        daily_loss_action=parameters.daily_loss_action,
        max_drawdown=parameters.max_drawdown,
        drawdown_action=parameters.drawdown_action,
    )
    stops = []
    for breach in found:
        current = risk_state.trading_state
        target = states.state_after(current, breach.action)
        if target != current:
            trading_state_set(
                account=account,
                strategy=strategy,
                state=target,
                reason=breach.message,
                actor=RISK_ENGINE,
                severity=Severity.CRITICAL,
                risk_state=risk_state,
            )
            risk_limit_breached_event(account=account, strategy=strategy, breach=breach)
        if breach.action == states.EMERGENCY_STOP:
            stops.append(EmergencyStop(breach.code, breach.message, account, strategy))
    return stops


def portfolio_risk_monitor(*, account_id: int, now: datetime | None = None):
    """Mark one account's (and each of its strategies') equity and enforce their loss limits.

    Reached limits move the scope to HALTED or REDUCE_ONLY with a CRITICAL alert, in one transaction
    under the account's lock; an emergency stop is engaged after it commits (its sweep calls the
    broker). Every strategy with a book is watched, paused ones too: pausing stops entries, not losses.
    Returns the account's assessment.
    """
    now = now or timezone.now()
    with transaction.atomic():
        account = account_lock(account_id)
        book = book_read(account=account)
        stops = _loss_limits_enforce(account, None, risk_parameters_for(account=account), book.equity, now)
        for strategy in strategies_live(account_id=account.pk):
            parameters = risk_parameters_for(account=account, strategy=strategy)
            equity = strategy.capital + book.strategy_pnl(strategy.pk)
            stops += _loss_limits_enforce(account, strategy, parameters, equity, now)
    for stop in stops:
        risk_violation_handle(
            violation=RiskViolation(stop.code, stop.message, "CRITICAL"), account=stop.account, strategy=stop.strategy
        )
    return portfolio_risk_assess(account=account, now=now)


# ---- kill switch ------------------------------------------------------------------------------------


def _accounts_in_scope(scope: str, account: Account | None, strategy) -> list[Account]:
    if scope == KillSwitch.Scope.GLOBAL:
        return list(Account.objects.select_for_update(no_key=True).order_by("pk"))
    account_id = strategy.account_id if scope == KillSwitch.Scope.STRATEGY else account.pk
    return [account_lock(account_id)]


def kill_switch_engage(
    *, scope: str, actor: str, reason: str, account: Account | None = None, strategy=None, flatten: bool = False
) -> KillSwitch:
    """Emergency stop: refuse new orders in scope, cancel its open orders, optionally flatten its positions.

    The switch is written under the row lock of every account in scope, so a
    validation either committed before it (and its order is canceled below) or
    sees it and refuses. The sweep runs after that transaction, outside the locks.
    """
    if scope not in KillSwitch.Scope.values:
        raise ValueError(f"{scope} is not a kill-switch scope.")
    if scope == KillSwitch.Scope.ACCOUNT and account is None:
        raise ValueError("An account kill switch needs an account.")
    if scope == KillSwitch.Scope.STRATEGY and strategy is None:
        raise ValueError("A strategy kill switch needs a strategy.")
    if not reason.strip():
        raise ValueError("Say why the emergency stop is engaged.")
    with transaction.atomic():
        accounts = _accounts_in_scope(scope, account, strategy)
        switch = KillSwitch.objects.create(
            scope=scope,
            account=account if scope == KillSwitch.Scope.ACCOUNT else None,
            strategy=strategy if scope == KillSwitch.Scope.STRATEGY else None,
            flatten=flatten,
            engaged_by=actor,
            engaged_at=timezone.now(),
            reason=reason,
        )
        for locked in accounts:
            risk_kill_switch_engaged_event(switch=switch, account=locked)
    _kill_switch_sweep(switch)
    return switch


def _orders_in_scope(switch: KillSwitch):
    orders = Order.objects.filter(status__in=OPEN_STATUSES)
    if switch.scope == KillSwitch.Scope.ACCOUNT:
        orders = orders.filter(account_id=switch.account_id)
    elif switch.scope == KillSwitch.Scope.STRATEGY:
        orders = orders.filter(strategy_id=switch.strategy_id)
    return orders


def _kill_switch_sweep(switch: KillSwitch) -> None:
    actor = f"kill-switch:{switch.engaged_by}"
    for order_id in _orders_in_scope(switch).order_by("pk").values_list("pk", flat=True):
        try:
            # An order that filled or was canceled since the listing is left as it is.
            order_cancel(order_id=order_id, actor=actor, reason="kill switch", if_open=True)
        except BrokerError:
            # The broker refused or is unreachable: the rest must still be canceled; reconciliation settles this one.
            logger.exception("kill switch %s could not cancel order %s", switch.pk, order_id)
    if not switch.flatten:
        return
    positions = Position.objects.exclude(quantity=0)
    if switch.scope == KillSwitch.Scope.ACCOUNT:
        positions = positions.filter(account_id=switch.account_id)
    elif switch.scope == KillSwitch.Scope.STRATEGY:
        positions = positions.filter(strategy_id=switch.strategy_id)
    for position_id in positions.values_list("pk", flat=True):
        position_close(position_id=position_id, actor=actor, reason="kill_switch_flatten", cause=Cause.KILL_SWITCH)


def _accounts_released(switch: KillSwitch) -> list[Account]:
    if switch.scope == KillSwitch.Scope.GLOBAL:
        return list(Account.objects.order_by("pk"))
    return [switch.strategy.account if switch.scope == KillSwitch.Scope.STRATEGY else switch.account]


def kill_switch_release(*, kill_switch_id: int, actor: str, reason: str) -> KillSwitch:
    """A person releases an engaged switch; the release is recorded beside the engagement."""
    if not reason.strip():
        raise ValueError("Say why the emergency stop is released.")
    with transaction.atomic():
        switch = KillSwitch.objects.select_for_update().get(pk=kill_switch_id)
        if switch.released_at is not None:
            return switch
        switch.released_by, switch.released_at, switch.release_reason = actor, timezone.now(), reason
        switch.save(update_fields=["released_by", "released_at", "release_reason"])
        # One event per account in scope, as at engagement: a strategy's owner sees its release in their stream.
        for account in _accounts_released(switch):
            risk_kill_switch_released_event(switch=switch, account=account)
    return switch


# ---- handle_risk_violation -------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskViolation:
    code: str
    message: str
    severity: str = "WARNING"
    limit: Decimal | None = None
    actual: Decimal | None = None


@dataclass(frozen=True)
class RiskResponse:
    action: str  # "emergency_stop" | "adjust_and_continue"
    kill_switch_id: int | None = None
    adjustments: dict[str, str] = field(default_factory=dict)


def risk_violation_handle(
    *, violation: RiskViolation, account: Account, strategy=None, validation: RiskValidation | None = None
) -> RiskResponse:
    """ErrorHandler.handle_risk_violation: CRITICAL → emergency stop of the scope; otherwise adjust and continue."""
    if violation.severity == "CRITICAL":
        scope = KillSwitch.Scope.STRATEGY if strategy is not None else KillSwitch.Scope.ACCOUNT
        active = [s for s in kill_switch_active(account=account) if s.scope in (scope, KillSwitch.Scope.GLOBAL)]
        if active:
            return RiskResponse(action="emergency_stop", kill_switch_id=active[0].pk)
        switch = kill_switch_engage(
            scope=scope, account=account, strategy=strategy, actor=RISK_ENGINE, reason=violation.message
        )
        return RiskResponse(action="emergency_stop", kill_switch_id=switch.pk)
    adjustments = dict(validation.recommended_adjustments) if validation is not None else {}
    with transaction.atomic():
        risk_violation_event(
            account=account,
            strategy=strategy,
            code=violation.code,
            message=violation.message,
            adjustments=adjustments,
        )
    return RiskResponse(action="adjust_and_continue", adjustments=adjustments)


# ---- closing orders (stops, flatten) --------------------------------------------------------------


def position_close(*, position_id: int, actor: str, reason: str, cause: Cause = Cause.CLOSE) -> Order | None:
    """Flatten a position (kill switch, manual); None when it is already flat."""
    try:
        return trading_position_close(position_id=position_id, actor=actor, reason=reason, cause=cause)
    except TradingError as error:
        if error.code != "position_flat":
            raise
        return None


def stop_breach_close(
    *, position_id: int, opened_at: datetime, kind: str, trigger_price: Decimal, price: Decimal, now: datetime
) -> Order | None:
    """RiskEngine.enforce_stop_loss: close a position whose stop, target or trailing stop was crossed, once.

    The StopTrigger row is unique per position life, so a repeated breach (the next tick, another
    process) sends nothing more. If the close cannot be sent (a cancel the broker refused), the trigger
    is forgotten, so the next tick tries again.
    """
    with transaction.atomic():
        account_id = Position.objects.values_list("account_id", flat=True).get(pk=position_id)
        account_lock(account_id)
        position = Position.objects.select_related("instrument", "strategy").get(pk=position_id)
        if position.quantity == 0 or position.opened_at != opened_at:
            return None  # closed or reopened since the monitor last loaded it
        try:
            with transaction.atomic():
                trigger = StopTrigger.objects.create(
                    position=position,
                    position_opened_at=opened_at,
                    kind=kind,
                    trigger_price=trigger_price,
                    price=price,
                    triggered_at=now,
                )
        except IntegrityError:
            return None
    try:
        order = trading_position_close(
            position_id=position_id,
            actor=RISK_ENGINE,
            reason=kind.lower(),
            cause=Cause.STOP_BREACH,
            trigger_price=trigger_price,
        )
    except Exception:
        StopTrigger.objects.filter(pk=trigger.pk, order__isnull=True).delete()
        raise
    with transaction.atomic():
        trigger.order = order
        trigger.save(update_fields=["order"])
        risk_stop_triggered_event(trigger=trigger)
    return order


# ---- parameters ---------------------------------------------------------------------------------------


def parameters_update(*, account: Account, strategy=None, data: dict[str, Any], actor: str) -> RiskParameters:
    """Set risk parameters for the account or one strategy (creates the row), recording who changed what."""
    with transaction.atomic():
        account_lock(account.pk)
        if strategy is not None:
            parameters, _ = RiskParameters.objects.get_or_create(strategy=strategy)
        else:
            parameters, _ = RiskParameters.objects.get_or_create(account=account)
        before = {name: getattr(parameters, name) for name in data}
        for name, value in data.items():
            setattr(parameters, name, value)
        parameters.full_clean()
        parameters.save()
        after = {name: getattr(parameters, name) for name in data}
        risk_parameters_updated_event(
            account=account, strategy=strategy, data=data, before=before, after=after, actor=actor
        )
    return parameters
