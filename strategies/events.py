"""Strategies' events, one constructor each: a signal's path (received, decided, executed or failed) and a
strategy's life (created, changed, its lifecycle's moves, deleted). Their types are members of
``trading.events.EventType``."""

from collections.abc import Mapping, Sequence
from typing import Any

from strategies.core.autopause import Breach
from strategies.core.lifecycle import StrategyAction, StrategyStatus
from strategies.models import Strategy, TradingSignal
from trading.events import EventType, Severity, event_record
from trading.models import Account, Event, Order
from trading.pretrade import Verdict


# ---- signals ----
def signal_received_event(*, signal: TradingSignal, account: Account, strategy: Strategy, actor: str) -> Event:
    """A producer's signal, stored before it is decided."""
    return event_record(
        type=EventType.SIGNAL_RECEIVED,
        account=account,
        strategy=strategy,
        signal=signal,
        actor=actor,
        payload={"id": signal.external_id, "symbol": signal.symbol, "signal_type": signal.signal_type},
    )


def signal_recorded_event(*, signal: TradingSignal, account: Account, strategy: Strategy) -> Event:
    """A HOLD: recorded, nothing to trade."""
    return event_record(type=EventType.SIGNAL_RECORDED, account=account, strategy=strategy, signal=signal)


def signal_rejected_event(*, signal: TradingSignal, account: Account, verdict: Verdict | None = None) -> Event:
    """Refused (its violations are on the signal); verdict: the risk gate's, when it was the gate that refused."""
    payload: dict[str, Any] = {"id": signal.external_id, "symbol": signal.symbol, "violations": signal.violations}
    if verdict is not None:
        payload["risk_score"] = str(verdict.risk_score)
        payload["recommended_adjustments"] = verdict.recommended_adjustments
    return event_record(
        type=EventType.SIGNAL_REJECTED,
        account=account,
        strategy=signal.strategy,
        signal=signal,
        severity=Severity.WARNING,
        payload=payload,
    )


def signal_accepted_event(*, signal: TradingSignal, account: Account, strategy: Strategy, order: Order) -> Event:
    """Accepted: its entry order is created."""
    return event_record(
        type=EventType.SIGNAL_ACCEPTED,
        account=account,
        strategy=strategy,
        signal=signal,
        order=order,
        payload={"id": signal.external_id, "symbol": signal.symbol, "quantity": order.quantity},
    )


def signal_executed_event(*, signal: TradingSignal, order: Order) -> Event:
    """Its entry order filled."""
    return _signal_outcome(EventType.SIGNAL_EXECUTED, signal, order)


def signal_failed_event(*, signal: TradingSignal, order: Order) -> Event:
    """Its entry order was refused, before or at the broker."""
    return _signal_outcome(EventType.SIGNAL_FAILED, signal, order)


def _signal_outcome(type: EventType, signal: TradingSignal, order: Order) -> Event:
    return event_record(
        type=type,
        account=order.account,
        strategy=order.strategy,
        signal=signal,
        order=order,
        payload={"id": signal.external_id, "symbol": signal.symbol},
    )


# ---- a strategy's life ----
def strategy_created_event(*, strategy: Strategy, account: Account, actor: str, reason: str) -> Event:
    return event_record(
        type=EventType.STRATEGY_CREATED,
        account=account,
        strategy=strategy,
        actor=actor,
        payload={
            "name": strategy.name,
            "status": strategy.status,
            "version": strategy.version,
            "capital": strategy.capital,
            "reason": reason,
        },
    )


def strategy_updated_event(
    *,
    strategy: Strategy,
    account: Account,
    actor: str,
    source: str,
    changes: Mapping[str, Any],
    reason: str | None = None,
) -> Event:
    """A change (changes: what changed; source: the API or the admin). With a reason, a new version: its number too."""
    payload: dict[str, Any] = {"name": strategy.name, "status": strategy.status}
    if reason is not None:
        payload.update(version=strategy.version, reason=reason)
    payload.update(source=source, changes=changes)
    return event_record(
        type=EventType.STRATEGY_UPDATED, account=account, strategy=strategy, actor=actor, payload=payload
    )


def strategy_deleted_event(
    *, strategy: Strategy, account: Account, actor: str, reason: str, keys_revoked: int
) -> Event:
    """Marked deleted (the row stays: the audit trail points at it); keys_revoked: its API keys revoked."""
    return event_record(
        type=EventType.STRATEGY_DELETED,
        account=account,
        strategy=strategy,
        actor=actor,
        payload={"name": strategy.name, "status": strategy.status, "reason": reason, "keys_revoked": keys_revoked},
    )


def _transition_event(
    type: EventType,
    action: StrategyAction,
    *,
    strategy: Strategy,
    account: Account,
    previous: StrategyStatus,
    actor: str,
    reason: str,
    **extra: Any,
) -> Event:
    return event_record(
        type=type,
        account=account,
        strategy=strategy,
        actor=actor,
        payload={
            "name": strategy.name,
            "status": StrategyStatus(strategy.status).value,
            "previous_status": StrategyStatus(previous).value,
            "action": action.value,
            "version": strategy.version,
            "reason": reason,
            **extra,
        },
    )


def strategy_deployed_event(
    *, strategy: Strategy, account: Account, previous: StrategyStatus, actor: str, reason: str
) -> Event:
    return _transition_event(
        EventType.STRATEGY_DEPLOYED,
        StrategyAction.DEPLOY,
        strategy=strategy,
        account=account,
        previous=previous,
        actor=actor,
        reason=reason,
    )


def strategy_paused_event(
    *, strategy: Strategy, account: Account, previous: StrategyStatus, actor: str, reason: str
) -> Event:
    return _transition_event(
        EventType.STRATEGY_PAUSED,
        StrategyAction.PAUSE,
        strategy=strategy,
        account=account,
        previous=previous,
        actor=actor,
        reason=reason,
    )


def strategy_resumed_event(
    *, strategy: Strategy, account: Account, previous: StrategyStatus, actor: str, reason: str
) -> Event:
    return _transition_event(
        EventType.STRATEGY_RESUMED,
        StrategyAction.RESUME,
        strategy=strategy,
        account=account,
        previous=previous,
        actor=actor,
        reason=reason,
    )


def strategy_stopped_event(
    *, strategy: Strategy, account: Account, previous: StrategyStatus, actor: str, reason: str, flatten: bool
) -> Event:
    """Stopped; flatten: its positions are closed too."""
    return _transition_event(
        EventType.STRATEGY_STOPPED,
        StrategyAction.STOP,
        strategy=strategy,
        account=account,
        previous=previous,
        actor=actor,
        reason=reason,
        flatten=flatten,
    )


def strategy_auto_paused_event(*, strategy: Strategy, previous: str, breaches: Sequence[Breach], actor: str) -> Event:
    """The auto-pause monitor paused it: the rules it breached and why."""
    return event_record(
        type=EventType.STRATEGY_AUTO_PAUSED,
        account=strategy.account,
        strategy=strategy,
        severity=Severity.WARNING,
        actor=actor,
        payload={
            "name": strategy.name,
            "status": strategy.status,
            "previous_status": previous,
            "rules": [breach.rule for breach in breaches],
            "breaches": [breach.as_dict() for breach in breaches],
            "message": " ".join(breach.message for breach in breaches),
        },
    )
