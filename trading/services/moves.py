"""An order's moves along the state machine, each with its audit event, and its dispatch to the broker."""

import logging
from typing import Any

from celery import current_app
from django.db import transaction

from trading.core.orders import (
    OrderStatus,
    OrderTrigger,
    next_status,
)
from trading.events import event_record
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
    if order.status == OrderStatus.ACCEPTED and order.filled_quantity > 0:
        # Back from a pending cancel or modification: the table knows only ACCEPTED there; a fill is kept.
        order.status = OrderStatus.PARTIALLY_FILLED
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


# Tasks sit above the services they call (trading.tasks imports trading.services): a service queues one
# by its registered name, the way Celery beat does.
ORDER_SUBMIT_TASK = "trading.tasks.order_submit_task"


def order_dispatch(order: Order) -> None:
    """Queue the order for submission once the current transaction commits."""
    order_id = order.pk
    transaction.on_commit(lambda: current_app.tasks[ORDER_SUBMIT_TASK].delay(order_id))
