"""Events of the broker connection and of reconciliation with the broker, one constructor each."""

from collections.abc import Mapping
from decimal import Decimal

from trading.events import EventType, Severity, event_record
from trading.events.orders import order_payload
from trading.models import Event, Order


def broker_circuit_opened_event(*, broker: str, failures: int, error: str) -> Event:
    """Calls to the broker stop after repeated failures (failures: how many in a row, error: the last)."""
    return event_record(
        type=EventType.BROKER_CIRCUIT_OPENED,
        severity=Severity.CRITICAL,
        payload={"broker": broker, "failures": failures, "error": error},
    )


def broker_circuit_closed_event(*, broker: str, failures: int, error: str = "") -> Event:
    """The broker answers again."""
    return event_record(
        type=EventType.BROKER_CIRCUIT_CLOSED,
        severity=Severity.INFO,
        payload={"broker": broker, "failures": failures, "error": error},
    )


def broker_reconciled_event(*, broker: str, report: Mapping[str, int]) -> Event:
    """A reconciliation pass ended; report: how many of each repair it made."""
    return event_record(type=EventType.BROKER_RECONCILED, payload={"broker": broker, **report})


def reconcile_resent_event(*, order: Order, request: str = "") -> Event:
    """An order (or, request="cancel", its cancel) left unsent by a crash is sent again."""
    payload = order_payload(order)
    if request:
        payload["request"] = request
    return event_record(
        type=EventType.RECONCILE_RESENT, severity=Severity.WARNING, account=order.account, order=order, payload=payload
    )


def reconcile_unknown_at_broker_event(*, order: Order) -> Event:
    """An order we sent that the broker never heard of."""
    return event_record(
        type=EventType.RECONCILE_UNKNOWN_AT_BROKER,
        severity=Severity.CRITICAL,
        account=order.account,
        order=order,
        payload=order_payload(order),
    )


def reconcile_fills_booked_event(*, order: Order, fills: int) -> Event:
    """Fills the broker made that we had missed, booked now."""
    return event_record(
        type=EventType.RECONCILE_FILLS_BOOKED,
        severity=Severity.WARNING,
        account=order.account,
        order=order,
        payload={"fills": fills},
    )


def reconcile_unknown_order_event(*, client_order_id: str, broker: str) -> Event:
    """An order with our kind of id at the broker that we never sent."""
    return event_record(
        type=EventType.RECONCILE_UNKNOWN_ORDER,
        severity=Severity.CRITICAL,
        payload={"client_order_id": client_order_id, "broker": broker},
    )


def reconcile_position_mismatch_event(*, symbol: str, engine: Decimal | int, broker: Decimal | int) -> Event:
    """Our position in a symbol and the broker's disagree."""
    return event_record(
        type=EventType.RECONCILE_POSITION_MISMATCH,
        severity=Severity.CRITICAL,
        payload={"symbol": symbol, "engine": engine, "broker": broker},
    )
