"""Closing positions (PositionManager.close_position), by hand, by the kill switch or on a stop breach."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from trading.core.orders import OPEN_STATUSES, OrderType, Side
from trading.events import events_batched
from trading.marketdata.prices import price_get
from trading.models import Account, Order, Position
from trading.services.amendments import order_cancel_locked
from trading.services.brokercalls import broker_calls_after
from trading.services.locks import account_and_order_lock, account_lock, position_lock_by_id
from trading.services.moves import TradingError
from trading.services.placement import Cause, OrderRequest, order_place


def position_close(
    *, position_id: int, actor: str, reason: str = "closed by hand", cause: Cause = Cause.CLOSE, **extra: Any
) -> Order:
    """PositionManager.close_position: cancel the position's working orders, then one market order for all of it.

    Two-phase, like every cancel: the working orders (protective stops included: the close
    replaces them) go PENDING_CANCEL under the account's lock and are canceled at the broker
    outside it; only once every cancel is answered is the close created, for what the position
    holds then. A cancel the broker refuses raises, and no close is sent (both could fill).
    Closing twice sends one order.
    """
    account_id = Position.objects.values_list("account_id", flat=True).get(pk=position_id)
    with broker_calls_after(), transaction.atomic(), events_batched():
        account, position = _position_locked(account_id, position_id)
        already = _close_on_its_way(account, position)
        if already is not None:
            return already
        working = Order.objects.filter(
            account=account, strategy=position.strategy, instrument=position.instrument, status__in=OPEN_STATUSES
        )
        for order_id in list(working.order_by("pk").values_list("pk", flat=True)):
            # Lock and read each afresh: canceling an entry also cancels its held protective orders.
            _, order = account_and_order_lock(order_id, account=account)
            if order.status in OPEN_STATUSES:
                order_cancel_locked(order, actor=actor, reason=reason, raises=True)
    with transaction.atomic(), events_batched():
        account, position = _position_locked(account_id, position_id)
        already = _close_on_its_way(account, position)
        if already is not None:
            return already
        request = OrderRequest(
            symbol=position.instrument.symbol,
            side=_closing_side(position),
            quantity=abs(position.quantity),
            reference_price=price_get(position.instrument.symbol) or position.average_price,
            cause=cause,
            strategy=position.strategy,
            actor=actor,
            reason=reason,
            payload=extra,
        )
        return order_place(request, account=account, instrument=position.instrument, now=timezone.now()).entry


def _position_locked(account_id: int, position_id: int) -> tuple[Account, Position]:
    account = account_lock(account_id)
    position = position_lock_by_id(position_id)
    if position.quantity == 0:
        raise TradingError("position_flat", f"The {position.instrument.symbol} position is already flat.")
    return account, position


def _closing_side(position: Position) -> Side:
    return Side.SELL if position.quantity > 0 else Side.BUY


def _close_on_its_way(account: Account, position: Position) -> Order | None:
    """A market order closing all of the position that has not filled yet: closing twice sends one order."""
    return Order.objects.filter(
        account=account,
        strategy=position.strategy,
        instrument=position.instrument,
        status__in=OPEN_STATUSES,
        parent__isnull=True,
        order_type=OrderType.MARKET,
        side=_closing_side(position),
        quantity=abs(position.quantity),
        filled_quantity=0,
    ).first()
