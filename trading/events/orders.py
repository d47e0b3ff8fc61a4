"""An order's events, one constructor each: created, released, every move of the state machine, its fills.

Each names what the event is about and builds its payload here, once; ``event_record`` writes it.
"""

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from trading.core.orders import OrderTrigger
from trading.events import EventType, Severity, event_record
from trading.models import Event, Execution, Order, Position


def order_payload(order: Order) -> dict[str, Any]:
    """What every order event says of the order: its terms, status and fills as they are now."""
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.instrument.symbol,
        "side": order.side,
        "order_type": order.order_type,
        "quantity": order.quantity,
        "price": order.price,
        "stop_price": order.stop_price,
        "status": order.status,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": order.average_fill_price,
    }


def _order_event(type: EventType, order: Order, *, actor: str = "", **extra: Any) -> Event:
    return event_record(
        type=type,
        account=order.account,
        strategy=order.strategy,
        order=order,
        signal=order.signal,
        actor=actor,
        payload={**order_payload(order), **extra},
    )


def order_created_event(
    *,
    order: Order,
    actor: str = "",
    details: Mapping[str, Any] | None = None,
    risk_score: Decimal | None = None,
    reason: str = "",
) -> Event:
    """A new order; details: what its request adds (a stop's trigger price), risk_score: the gate's, if asked."""
    extra = dict(details or {})
    if risk_score is not None:
        extra["risk_score"] = risk_score
    if reason:
        extra["reason"] = reason
    return _order_event(EventType.ORDER_CREATED, order, actor=actor, **extra)


def order_released_event(*, order: Order, reason: str, actor: str = "") -> Event:
    """A protective order goes live for what its entry filled."""
    return _order_event(EventType.ORDER_RELEASED, order, actor=actor, reason=reason)


# ---- the state machine's moves (``trading.services.moves.order_move`` records the one it made) ----
def order_submitted_event(*, order: Order, already_held: bool, actor: str = "") -> Event:
    """Sent to the broker; already_held: the broker had it already (a worker died between sending and booking)."""
    return _order_event(EventType.ORDER_SUBMITTED, order, actor=actor, already_held=already_held)


def order_accepted_event(*, order: Order, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_ACCEPTED, order, actor=actor)


def order_rejected_event(*, order: Order, reason: str, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_REJECTED, order, actor=actor, reason=reason)


def order_partially_filled_event(*, order: Order, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_PARTIALLY_FILLED, order, actor=actor)


def order_filled_event(*, order: Order, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_FILLED, order, actor=actor)


def order_pending_cancel_event(*, order: Order, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_PENDING_CANCEL, order, actor=actor)


def order_canceled_event(*, order: Order, reason: str, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_CANCELED, order, actor=actor, reason=reason)


def order_cancel_rejected_event(*, order: Order, reason: str, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_CANCEL_REJECTED, order, actor=actor, reason=reason)


def order_pending_modify_event(*, order: Order, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_PENDING_MODIFY, order, actor=actor)


def order_modified_event(*, order: Order, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_MODIFIED, order, actor=actor)


def order_modify_rejected_event(*, order: Order, reason: str, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_MODIFY_REJECTED, order, actor=actor, reason=reason)


def order_expired_event(*, order: Order, reason: str, actor: str = "") -> Event:
    return _order_event(EventType.ORDER_EXPIRED, order, actor=actor, reason=reason)


# The event each move of the state machine records.
ORDER_MOVE_EVENTS: dict[OrderTrigger, Callable[..., Event]] = {
    OrderTrigger.SUBMIT: order_submitted_event,
    OrderTrigger.ACCEPT: order_accepted_event,
    OrderTrigger.REJECT: order_rejected_event,
    OrderTrigger.PARTIAL_FILL: order_partially_filled_event,
    OrderTrigger.FILL: order_filled_event,
    OrderTrigger.CANCEL_REQUEST: order_pending_cancel_event,
    OrderTrigger.CANCEL: order_canceled_event,
    OrderTrigger.CANCEL_REJECT: order_cancel_rejected_event,
    OrderTrigger.MODIFY_REQUEST: order_pending_modify_event,
    OrderTrigger.MODIFY_ACCEPT: order_modified_event,
    OrderTrigger.MODIFY_REJECT: order_modify_rejected_event,
    OrderTrigger.EXPIRE: order_expired_event,
}


# ---- what befell an order outside the state machine ----
def order_late_fill_event(*, order: Order, execution: Execution) -> Event:
    """A fill for an order already canceled or expired: the money moved all the same."""
    return event_record(
        type=EventType.ORDER_LATE_FILL,
        severity=Severity.WARNING,
        account=order.account,
        strategy=order.strategy,
        order=order,
        payload={"exec_id": execution.exec_id, "status": order.status, "quantity": execution.quantity},
    )


def order_overfilled_event(*, order: Order, execution: Execution, overfill: Decimal) -> Event:
    """The broker filled more than the order asked for: a person must look."""
    return event_record(
        type=EventType.ORDER_OVERFILLED,
        severity=Severity.CRITICAL,
        account=order.account,
        strategy=order.strategy,
        order=order,
        payload={**order_payload(order), "exec_id": execution.exec_id, "overfill": overfill},
    )


def order_submission_failed_event(*, order: Order, error_category: str, error_code: str, error: str) -> Event:
    """The last try to place the order failed: it waits as NEW, with this alert."""
    return event_record(
        type=EventType.ORDER_SUBMISSION_FAILED,
        severity=Severity.CRITICAL,
        account=order.account,
        strategy=order.strategy,
        order=order,
        signal=order.signal,
        payload={**order_payload(order), "error_category": error_category, "error_code": error_code, "error": error},
    )


# ---- fills and the position they move ----
def execution_created_event(*, execution: Execution) -> Event:
    """A broker fill booked (replay rebuilds positions and cash from these)."""
    order = execution.order
    return event_record(
        type=EventType.EXECUTION_CREATED,
        account=execution.account,
        strategy=order.strategy,
        order=order,
        signal=order.signal,
        payload={
            "exec_id": execution.exec_id,
            "symbol": order.instrument.symbol,
            "side": execution.side,
            "quantity": execution.quantity,
            "price": execution.price,
            "commission": execution.commission,
        },
    )


def position_updated_event(*, position: Position, order: Order) -> Event:
    """The position after a fill of the order."""
    return event_record(
        type=EventType.POSITION_UPDATED,
        account=order.account,
        strategy=order.strategy,
        order=order,
        payload={
            "symbol": order.instrument.symbol,
            "quantity": position.quantity,
            "average_price": position.average_price,
            "realized_pnl": position.realized_pnl,
        },
    )
