"""The risk engine's events, one constructor each: trading states, loss limits, emergency stops, stops acted on,
refusals and parameter changes. Their types are members of ``trading.events.EventType``."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from risk.core.states import Breach
from risk.models import KillSwitch, StopTrigger
from strategies.models import Strategy
from trading.events import EventType, Severity, event_record
from trading.models import Account, Event

RISK_ENGINE = "risk-engine"


def risk_trading_state_changed_event(
    *,
    account: Account,
    strategy: Strategy | None,
    previous: str,
    state: str,
    reason: str,
    actor: str,
    severity: str = Severity.WARNING,
) -> Event:
    """The account (strategy None) or one strategy moved from one trading state to another."""
    return event_record(
        type=EventType.RISK_TRADING_STATE_CHANGED,
        account=account,
        strategy=strategy,
        severity=severity,
        actor=actor,
        payload={"scope": "strategy" if strategy else "account", "from": previous, "to": state, "reason": reason},
    )


def risk_limit_breached_event(*, account: Account, strategy: Strategy | None, breach: Breach) -> Event:
    """A loss limit reached, and acted on by the monitor."""
    return event_record(
        type=EventType.RISK_LIMIT_BREACHED,
        account=account,
        strategy=strategy,
        severity=Severity.CRITICAL,
        actor=RISK_ENGINE,
        payload={"code": breach.code, "limit": breach.limit, "actual": breach.actual, "message": breach.message},
    )


def risk_kill_switch_engaged_event(*, switch: KillSwitch, account: Account) -> Event:
    """An emergency stop engaged, recorded on each account in its scope."""
    return event_record(
        type=EventType.RISK_KILL_SWITCH_ENGAGED,
        account=account,
        strategy=switch.strategy,
        severity=Severity.CRITICAL,
        actor=switch.engaged_by,
        payload={
            "kill_switch_id": switch.pk,
            "scope": switch.scope,
            "reason": switch.reason,
            "flatten": switch.flatten,
        },
    )


def risk_kill_switch_released_event(*, switch: KillSwitch, account: Account) -> Event:
    """An emergency stop released, recorded on each account in its scope as at its engagement."""
    return event_record(
        type=EventType.RISK_KILL_SWITCH_RELEASED,
        account=account,
        strategy=switch.strategy,
        severity=Severity.WARNING,
        actor=switch.released_by,
        payload={"kill_switch_id": switch.pk, "scope": switch.scope, "reason": switch.release_reason},
    )


def risk_violation_event(
    *, account: Account, strategy: Strategy | None, code: str, message: str, adjustments: Mapping[str, Any]
) -> Event:
    """A violation short of an emergency stop: the engine adjusts and goes on."""
    return event_record(
        type=EventType.RISK_VIOLATION,
        account=account,
        strategy=strategy,
        severity=Severity.WARNING,
        actor=RISK_ENGINE,
        payload={"code": code, "message": message, "adjustments": adjustments},
    )


def risk_stop_triggered_event(*, trigger: StopTrigger) -> Event:
    """A position's stop, target or trailing stop crossed, and the order that closes it."""
    position, order = trigger.position, trigger.order
    return event_record(
        type=EventType.RISK_STOP_TRIGGERED,
        account=order.account,
        strategy=position.strategy,
        order=order,
        severity=Severity.WARNING,
        actor=RISK_ENGINE,
        payload={
            "symbol": position.instrument.symbol,
            "kind": trigger.kind,
            "trigger_price": trigger.trigger_price,
            "price": trigger.price,
            "quantity": order.quantity,
        },
    )


def risk_parameters_updated_event(
    *,
    account: Account,
    strategy: Strategy | None,
    data: Mapping[str, Any],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    actor: str,
) -> Event:
    """Risk parameters set (data: as asked), with each field's value before and after, as stored."""
    payload: dict[str, Any] = {k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()}
    payload["changes"] = {name: {"before": before[name], "after": after[name]} for name in data}
    return event_record(
        type=EventType.RISK_PARAMETERS_UPDATED, account=account, strategy=strategy, actor=actor, payload=payload
    )
