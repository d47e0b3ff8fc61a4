"""An order's moves along the state machine, each with its audit event, and its dispatch to the broker."""

import logging
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from celery import current_app
from django.db import transaction

from trading.core.orders import (
    ModifyRequested,
    OrderEvent,
    OrderState,
    OrderStatus,
    Transition,
    transition,
)
from trading.events.orders import ORDER_MOVE_EVENTS
from trading.models import Order

logger = logging.getLogger(__name__)


class TradingError(Exception):
    """A refused trading request: a machine code and a sentence for the person who asked."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_STORED_AVERAGE = Decimal("0.000001")  # the row keeps the average to 6 places; the machine keeps the exact notional


def order_state(order: Order) -> OrderState:
    """The state machine's view of an order row."""
    change = order.pending_change if order.status == OrderStatus.PENDING_MODIFY else None
    return OrderState(
        quantity=order.quantity,
        status=order.status,
        filled_quantity=order.filled_quantity,
        filled_notional=order.filled_notional,
        price=order.price,
        stop_price=order.stop_price,
        previous_status=order.previous_status or None,
        modification=None if change is None else ModifyRequested(**{k: _decimal(v) for k, v in change.items()}),
    )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _state_write(order: Order, state: OrderState) -> None:
    order.status = state.status
    order.quantity, order.price, order.stop_price = state.quantity, state.price, state.stop_price
    order.filled_quantity, order.filled_notional = state.filled_quantity, state.filled_notional
    average = state.average_fill_price
    order.average_fill_price = None if average is None else average.quantize(_STORED_AVERAGE, ROUND_HALF_EVEN)
    order.previous_status = state.previous_status or ""
    change = state.modification
    order.pending_change = (
        None
        if change is None
        else {
            "quantity": None if change.quantity is None else str(change.quantity),
            "price": None if change.price is None else str(change.price),
            "stop_price": None if change.stop_price is None else str(change.stop_price),
        }
    )


def order_move(order: Order, event: OrderEvent, *, actor: str = "", save: bool = True, **extra: Any) -> Transition:
    """Move an order along the state machine (the authority on its status, fills and terms) and record it.

    An event the order cannot take raises an OrderError and changes nothing. save=False leaves the
    row to the caller's next save in the same transaction (two moves, one write). extra: what the
    move's event constructor takes besides the order (a rejection's or cancel's reason ...).
    """
    move = transition(order_state(order), event)
    _state_write(order, move.state)
    if save:
        order.save()
    ORDER_MOVE_EVENTS[move.trigger](order=order, actor=actor, **extra)
    return move


# Tasks sit above the services they call (trading.tasks imports trading.services): a service queues one
# by its registered name, the way Celery beat does.
ORDER_SUBMIT_TASK = "trading.tasks.order_submit_task"


def order_dispatch(order: Order) -> None:
    """Queue the order for submission once the current transaction commits."""
    order_id = order.pk
    transaction.on_commit(lambda: current_app.tasks[ORDER_SUBMIT_TASK].delay(order_id))
