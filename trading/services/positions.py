"""Closing positions (PositionManager.close_position), by hand, by the kill switch or on a stop breach."""

import logging
from typing import Any

from django.db import transaction

from trading.core.orders import (
    OPEN_STATUSES,
    OrderType,
    Side,
)
from trading.events import EventType, event_record
from trading.marketdata.prices import price_get
from trading.models import Account, Order, Position
from trading.services.amendments import (
    order_cancel_locked,
)
from trading.services.locks import (
    account_lock,
)
from trading.services.moves import (
    TradingError,
    order_dispatch,
    order_payload,
)

logger = logging.getLogger(__name__)


def position_close(*, position_id: int, actor: str, reason: str = "closed by hand") -> Order:
    """PositionManager.close_position: cancel the position's working orders, then one market order for all of it."""
    account_id = Position.objects.values_list("account_id", flat=True).get(pk=position_id)
    with transaction.atomic():
        account = account_lock(account_id)
        position = (
            Position.objects.select_for_update(of=("self",), no_key=True)
            .select_related("instrument", "strategy")
            .get(pk=position_id)
        )
        if position.quantity == 0:
            raise TradingError("position_flat", f"The {position.instrument.symbol} position is already flat.")
        return position_flatten_locked(account, position, actor=actor, reason=reason)


def position_flatten_locked(account: Account, position: Position, *, actor: str, reason: str, **extra: Any) -> Order:
    """Close a non-flat position; the caller holds the account's lock. Closing twice sends one order.

    Every other working order of the position's strategy in the symbol is
    canceled first (protective stops included: the close replaces them).
    """
    closing_side = Side.SELL if position.quantity > 0 else Side.BUY
    working = Order.objects.filter(
        account=account, strategy=position.strategy, instrument=position.instrument, status__in=OPEN_STATUSES
    )
    already = working.filter(
        parent__isnull=True, order_type=OrderType.MARKET, side=closing_side, quantity=abs(position.quantity)
    ).first()
    if already is not None and already.filled_quantity == 0:
        return already  # a close is on its way
    for order_id in list(working.order_by("pk").values_list("pk", flat=True)):
        # Lock and read each afresh: canceling an entry also cancels its held protective orders.
        order = (
            Order.objects.select_for_update(of=("self",), no_key=True)
            .select_related("instrument", "strategy", "signal", "parent")
            .get(pk=order_id)
        )
        if order.status in OPEN_STATUSES:
            order.account = account
            order_cancel_locked(order, actor=actor, reason=reason)
    close = Order.objects.create(
        account=account,
        instrument=position.instrument,
        strategy=position.strategy,
        side=closing_side,
        order_type=OrderType.MARKET,
        quantity=abs(position.quantity),
        reference_price=price_get(position.instrument.symbol) or position.average_price,
    )
    event_record(
        type=EventType.ORDER_CREATED,
        account=account,
        strategy=position.strategy,
        order=close,
        actor=actor,
        payload={**order_payload(close), "reason": reason, **extra},
    )
    order_dispatch(close)
    return close
