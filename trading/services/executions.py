"""Fills into orders, positions and cash (PositionManager.update_position)."""

import logging

from django.db import transaction

from trading.brokers.base import (
    BrokerFill,
)
from trading.core.orders import (
    Filled,
    OrderStatus,
    Side,
)
from trading.core.positions import PositionState, apply_fill, cash_delta, unrealized_pnl
from trading.events import events_batched
from trading.events.accounts import account_updated_event
from trading.events.orders import (
    execution_created_event,
    order_late_fill_event,
    order_overfilled_event,
    position_updated_event,
)
from trading.models import Account, Execution, Order
from trading.services.amendments import (
    children_follow,
    protective_orders_follow,
)
from trading.services.brokercalls import broker_calls_run
from trading.services.locks import (
    account_and_order_lock,
    position_lock,
)
from trading.services.moves import (
    order_move,
)

logger = logging.getLogger(__name__)


@broker_calls_run
def execution_apply(*, fill: BrokerFill) -> Execution | None:
    """PositionManager.update_position: book one broker fill; one already booked (same exec_id) changes nothing."""
    order_id, account_id = Order.objects.values_list("pk", "account_id").get(client_order_id=fill.client_order_id)
    with transaction.atomic(), events_batched():
        account, order = account_and_order_lock(order_id, account_id)
        return execution_apply_locked(account, order, fill)


def execution_apply_locked(account: Account, order: Order, fill: BrokerFill) -> Execution | None:
    if Execution.objects.filter(exec_id=fill.exec_id).exists():
        return None
    side = Side(order.side)
    execution = Execution.objects.create(
        exec_id=fill.exec_id,
        order=order,
        account=account,
        instrument=order.instrument,
        strategy=order.strategy,
        side=side,
        quantity=fill.quantity,
        price=fill.price,
        commission=fill.commission,
        executed_at=fill.executed_at,
    )
    late = order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED)
    execution_created_event(execution=execution)
    if late:
        order_late_fill_event(order=order, execution=execution)
    # The state machine books the fill on the order: partial or full, the exact average price.
    overfill = fill.quantity - order.remaining_quantity
    if overfill > 0:
        # The broker filled more than we asked: the money moved all the same, so the position and cash take
        # all of it, the order what it was for, and a person must look.
        order_overfilled_event(order=order, execution=execution, overfill=overfill)
    if order.remaining_quantity > 0:
        order_move(order, Filled(min(fill.quantity, order.remaining_quantity), fill.price))

    position = position_lock(account, order)
    was_flat = position.quantity == 0
    before = position.quantity
    state = apply_fill(
        PositionState(position.quantity, position.average_price, position.realized_pnl, position.commissions),
        side=side,
        quantity=fill.quantity,
        price=fill.price,
        commission=fill.commission,
    )
    position.quantity, position.average_price = state.quantity, state.average_price
    position.realized_pnl, position.commissions = state.realized_pnl, state.commissions
    position.current_price = fill.price
    position.unrealized_pnl = unrealized_pnl(state, fill.price)
    if was_flat and state.quantity != 0:
        position.opened_at, position.closed_at = fill.executed_at, None
    elif state.quantity == 0:
        position.closed_at = fill.executed_at
    position.save()
    position_updated_event(position=position, order=order)

    if abs(position.quantity) < abs(before) or position.quantity * before < 0:
        # Only a position that shrank or flipped can leave its protective orders guarding too much.
        protective_orders_follow(account, order, position)

    account.cash += cash_delta(side=side, quantity=fill.quantity, price=fill.price, commission=fill.commission)
    account.save(update_fields=["cash", "updated_at"])
    account_updated_event(account=account)

    if order.parent_id is None:
        children_follow(order, reason="entry filled")
    return execution
