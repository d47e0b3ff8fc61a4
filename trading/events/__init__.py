"""The event log and transactional outbox: every event type, defined once, and the one writer.

An event is written in the same transaction as the change it records and
published (to in-process subscribers and browsers) only after that transaction
commits, so nobody ever sees a change that later rolls back. Every event type
the engine records is a member of ``EventType``; no other module spells one.

Each type has one constructor, named after it (``order_filled_event`` for
``ORDER_FILLED``), in the events module of the app that owns it: trading's in
``trading.events.orders``, ``.accounts``, ``.brokers`` and ``.health``; then
``risk.events``, ``strategies.events`` and ``backtests.events``. It takes what the
event is about, builds the payload there, once, and calls ``event_record``; no
other code calls ``event_record`` (``trading/tests/test_events.py``).
"""

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.origin import origin_get
from trading import bus
from trading.models import Account, Event, Order

Severity = Event.Severity


class EventType(StrEnum):
    # Signals (strategies)
    SIGNAL_RECEIVED = "signal.received"
    SIGNAL_ACCEPTED = "signal.accepted"
    SIGNAL_REJECTED = "signal.rejected"
    SIGNAL_RECORDED = "signal.recorded"
    SIGNAL_EXECUTED = "signal.executed"
    SIGNAL_FAILED = "signal.failed"
    # Orders
    ORDER_CREATED = "order.created"
    ORDER_RELEASED = "order.released"  # a protective order goes live for what its entry filled
    ORDER_SUBMITTED = "order.submitted"
    ORDER_ACCEPTED = "order.accepted"
    ORDER_REJECTED = "order.rejected"
    ORDER_PARTIALLY_FILLED = "order.partially_filled"
    ORDER_FILLED = "order.filled"
    ORDER_PENDING_CANCEL = "order.pending_cancel"
    ORDER_CANCELED = "order.canceled"
    ORDER_CANCEL_REJECTED = "order.cancel_rejected"
    ORDER_PENDING_MODIFY = "order.pending_modify"
    ORDER_MODIFIED = "order.modified"
    ORDER_MODIFY_REJECTED = "order.modify_rejected"
    ORDER_EXPIRED = "order.expired"
    ORDER_LATE_FILL = "order.late_fill"
    ORDER_OVERFILLED = "order.overfilled"
    ORDER_SUBMISSION_FAILED = "order.submission_failed"
    # Fills, positions, cash
    EXECUTION_CREATED = "execution.created"
    POSITION_UPDATED = "position.updated"
    ACCOUNT_OPENED = "account.opened"
    ACCOUNT_UPDATED = "account.updated"
    ACCOUNT_CASH_ADJUSTED = "account.cash_adjusted"  # cash set by hand: replay takes the new cash from it
    # Brokers and reconciliation
    BROKER_CIRCUIT_OPENED = "broker.circuit_opened"
    BROKER_CIRCUIT_CLOSED = "broker.circuit_closed"
    BROKER_RECONCILED = "broker.reconciled"
    RECONCILE_RESENT = "reconcile.resent"
    RECONCILE_FILLS_BOOKED = "reconcile.fills_booked"
    RECONCILE_UNKNOWN_AT_BROKER = "reconcile.unknown_at_broker"
    RECONCILE_UNKNOWN_ORDER = "reconcile.unknown_order"
    RECONCILE_POSITION_MISMATCH = "reconcile.position_mismatch"
    # Market data
    MARKET_STALE = "market.stale"
    MARKET_RECOVERED = "market.recovered"
    # Risk
    RISK_TRADING_STATE_CHANGED = "risk.trading_state_changed"
    RISK_LIMIT_BREACHED = "risk.limit_breached"
    RISK_VIOLATION = "risk.violation"
    RISK_KILL_SWITCH_ENGAGED = "risk.kill_switch_engaged"
    RISK_KILL_SWITCH_RELEASED = "risk.kill_switch_released"
    RISK_STOP_TRIGGERED = "risk.stop_triggered"
    RISK_PARAMETERS_UPDATED = "risk.parameters_updated"
    # Strategies
    STRATEGY_CREATED = "strategy.created"
    STRATEGY_UPDATED = "strategy.updated"  # a new version (configuration, capital, name), or a change in the admin
    STRATEGY_DEPLOYED = "strategy.deployed"
    STRATEGY_PAUSED = "strategy.paused"
    STRATEGY_AUTO_PAUSED = "strategy.auto_paused"
    STRATEGY_RESUMED = "strategy.resumed"
    STRATEGY_STOPPED = "strategy.stopped"
    STRATEGY_DELETED = "strategy.deleted"
    # Backtests (the backtests app): a run or an optimization asked for and finished, a dataset uploaded
    BACKTEST_REQUESTED = "backtest.requested"
    BACKTEST_FINISHED = "backtest.finished"
    BACKTEST_OPTIMIZATION_REQUESTED = "backtest.optimization_requested"
    BACKTEST_OPTIMIZATION_FINISHED = "backtest.optimization_finished"
    BACKTEST_DATASET_UPLOADED = "backtest.dataset_uploaded"
    # API keys and broker credentials (never the key or the secret: the key's prefix, the credential's name)
    API_KEY_CREATED = "api_key.created"
    API_KEY_UPDATED = "api_key.updated"
    API_KEY_REVOKED = "api_key.revoked"
    API_KEY_DELETED = "api_key.deleted"
    # A person's one-time-password devices (an authenticator, backup codes): enrolled, removed
    OTP_DEVICE_ENROLLED = "otp_device.enrolled"
    OTP_DEVICE_REMOVED = "otp_device.removed"
    CREDENTIAL_SET = "credential.set"
    CREDENTIAL_DELETED = "credential.deleted"
    CREDENTIALS_ROTATED = "credentials.rotated"
    # Background loops
    LOOP_FAILED = "loop.failed"
    LOOP_RECOVERED = "loop.recovered"


def _json_value(value: Any) -> Any:
    """A payload value as JSON keeps it: Decimals as exact strings and times in ISO 8601, at any depth."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def event_serialize(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "type": event.type,
        "severity": event.severity,
        "occurred_at": event.occurred_at.isoformat(),
        "account_id": event.account_id,
        "strategy_id": event.strategy_id,
        "order_id": event.order_id,
        "signal_id": event.signal_id,
        "actor": event.actor,
        "payload": event.payload,
    }


_pending_events = threading.local()
EventHook = Callable[[Event], None]
_hooks: dict[str, list[EventHook]] = {}


def event_hook(types: Iterable[EventType], handler: EventHook) -> None:
    """Call handler(event) whenever an event of these types is recorded, in the transaction recording it.

    How another app keeps its own rows in step with trading's (a signal's status follows its order's
    events) without trading writing them: the hook's writes commit or roll back with the event. Inside
    ``events_batched`` hooks run when the block ends, in the order the events were recorded. Hooks are
    registered once, from an AppConfig.ready(); they must be quick and may record events themselves.
    """
    for event_type in types:
        _hooks.setdefault(EventType(event_type), []).append(handler)


@contextmanager
def events_batched() -> Iterator[None]:
    """Write the events recorded inside this block in one INSERT when it ends.

    Use it inside the transaction that records them, around code with no inner
    savepoint that rolls back after recording: events are held until the block
    ends, then inserted (still in the transaction) and published after commit.
    """
    outermost = getattr(_pending_events, "events", None) is None
    if outermost:
        _pending_events.events = []
    try:
        yield
        if outermost:
            pending = _pending_events.events
            # Hooks see the block's events in order, once it is done; what they record joins the batch.
            position = 0
            while position < len(pending):
                _hooks_run(pending[position])
                position += 1
            if pending:
                for event in Event.objects.bulk_create(pending):
                    _publish_on_commit(event)
    finally:
        if outermost:
            _pending_events.events = None


def _publish_on_commit(event: Event) -> None:
    message = event_serialize(event)
    transaction.on_commit(lambda: bus.publish(message))


def event_record(
    *,
    type: EventType,
    account: Account | None = None,
    strategy: Any = None,
    order: Order | None = None,
    signal: Any = None,
    payload: dict[str, Any] | None = None,
    severity: str = Severity.INFO,
    actor: str = "",
) -> Event:
    """Write one audit event in the caller's transaction; it is published only if that commits.

    How and from where come from the request, task or command doing it (``accounts.origin``); the
    actor defaults to the origin's user. The event is sealed into the hash chain after it commits
    (``trading.audit``).
    """
    origin = origin_get()
    event = Event(
        type=EventType(type),
        severity=severity,
        occurred_at=timezone.now(),
        account=account,
        strategy=strategy,
        order=order,
        signal=signal,
        actor=actor or origin.user,
        channel=origin.channel,
        source_ip=origin.ip,
        api_key_prefix=origin.api_key_prefix,
        payload={k: _json_value(v) for k, v in (payload or {}).items()},
    )
    pending = getattr(_pending_events, "events", None)
    if pending is not None:
        pending.append(event)  # its hooks run when the batch ends
        return event
    event.save()
    _publish_on_commit(event)
    _hooks_run(event)
    return event


def _hooks_run(event: Event) -> None:
    for hook in _hooks.get(event.type, ()):
        hook(event)
