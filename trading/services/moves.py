"""An order's moves along the state machine, each with its audit event, and its dispatch to the broker."""

import logging
from typing import Any

from django.db import transaction

from trading.core.orders import (
    OrderStatus,
    OrderTrigger,
    next_status,
)
from trading.events import EventType, event_record
from trading.models import Order

logger = logging.getLogger(__name__)


class TradingError(Exception):
    """A refused trading request: a machine code and a sentence for the person who asked."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def order_payload(order: Order) -> dict[str, Any]:
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


def order_move(
    order: Order, trigger: OrderTrigger, *, event_type: str, actor: str = "", save: bool = True, **extra: Any
) -> None:
    """Apply one state-machine transition and record it; an illegal move raises IllegalTransition.

    save=False leaves the row to the caller's next save in the same transaction (two moves, one write).
    """
    order.status = next_status(OrderStatus(order.status), trigger)
    if save:
        order.save()
    event_record(
        type=event_type,
        account=order.account,
        strategy=order.strategy,
        order=order,
        signal=order.signal,
        actor=actor,
        payload={**order_payload(order), **extra},
    )


def order_dispatch(order: Order) -> None:
    """Queue the order for submission once the current transaction commits."""
    from trading.tasks import order_submit_task

    order_id = order.pk
    transaction.on_commit(lambda: order_submit_task.delay(order_id))


def signal_mark(order: Order, status: str) -> None:
    signal = order.signal
    if signal is None or order.parent_id is not None or signal.status == status:
        return
    signal.status = status
    signal.save(update_fields=["status", "updated_at"])
    event_record(
        type=EventType(f"signal.{status}"),
        account=order.account,
        strategy=order.strategy,
        signal=signal,
        order=order,
        payload={"id": signal.external_id, "symbol": signal.symbol},
    )
