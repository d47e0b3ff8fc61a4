"""Cancel and modify (a person's or the engine's), and the protective orders that follow their entry."""

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from trading.brokers.base import (
    BrokerError,
    broker_get,
)
from trading.core.orders import (
    OPEN_STATUSES,
    WORKING_STATUSES,
    OrderStatus,
    OrderTrigger,
    OrderType,
    Side,
)
from trading.events import EventType
from trading.models import Account, Order, Position
from trading.services.locks import (
    account_and_order_lock,
)
from trading.services.moves import (
    TradingError,
    order_dispatch,
    order_move,
)

logger = logging.getLogger(__name__)


def order_cancel(*, order_id: int, actor: str, reason: str = "", if_open: bool = False) -> Order:
    """OrderExecutor.cancel_order: cancel an open order, at the broker if it was sent, locally if it never left.

    A done order raises IllegalTransition, unless if_open: sweeps (the kill switch) leave it as it is.
    """
    with transaction.atomic():
        _, order = account_and_order_lock(order_id)
        if if_open and order.status not in OPEN_STATUSES:
            return order
        order_cancel_locked(order, actor=actor, reason=reason)
    return order


def order_cancel_locked(order: Order, *, actor: str, reason: str = "") -> None:
    if order.status == OrderStatus.NEW:
        order_move(order, OrderTrigger.CANCEL, event_type=EventType.ORDER_CANCELED, actor=actor, reason=reason)
    else:
        order_move(order, OrderTrigger.CANCEL_REQUEST, event_type=EventType.ORDER_PENDING_CANCEL, actor=actor)
        broker_get().cancel_order(order.client_order_id, now=timezone.now())
        order_move(order, OrderTrigger.CANCEL, event_type=EventType.ORDER_CANCELED, actor=actor, reason=reason)
    # Held exits are canceled with an entry that filled nothing, and released to guard what it did fill.
    children_follow(order, reason="entry canceled", actor=actor)


def order_modify(
    *,
    order_id: int,
    actor: str,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
) -> Order:
    """OrderExecutor.modify_order: change a working order's quantity or prices, at the broker first.

    A change may only lower the order's claim on capital and cash (a smaller
    quantity, or a buy limit lowered / a sell limit raised); anything that would
    raise it must go through the risk checks as a new order.
    """
    with transaction.atomic():
        _, order = account_and_order_lock(order_id)
        if quantity is not None and quantity <= order.filled_quantity:
            raise TradingError(
                "quantity_below_filled", f"{order.filled_quantity} are filled already; ask for more than that."
            )
        if quantity is not None and quantity > order.quantity:
            raise TradingError(
                "modify_increases_exposure", "A larger quantity must be sent as a new order, through the risk checks."
            )
        if price is not None and order.order_type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            raise TradingError("not_a_limit_order", f"A {order.order_type} order has no limit price.")
        if stop_price is not None and order.order_type not in (OrderType.STOP, OrderType.STOP_LIMIT):
            raise TradingError("not_a_stop_order", f"A {order.order_type} order has no stop price.")
        if price is not None and (price - order.price) * Side(order.side).sign > 0:
            raise TradingError(
                "modify_increases_exposure",
                "A less favourable limit price must be sent as a new order, through the risk checks.",
            )
        order_modify_locked(order, actor=actor, quantity=quantity, price=price, stop_price=stop_price)
    return order


def order_modify_locked(
    order: Order,
    *,
    actor: str,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
) -> None:
    working_status = order.status
    order_move(order, OrderTrigger.MODIFY_REQUEST, event_type=EventType.ORDER_PENDING_MODIFY, actor=actor)
    try:
        broker_get().modify_order(
            order.client_order_id, quantity=quantity, limit_price=price, stop_price=stop_price, now=timezone.now()
        )
    except BrokerError as error:
        if error.is_retryable:
            raise
        order_move(order, OrderTrigger.MODIFY_REJECT, event_type=EventType.ORDER_MODIFY_REJECTED, reason=error.message)
        order_restore_fill_status(order, working_status)
        raise
    order.quantity = quantity if quantity is not None else order.quantity
    order.price = price if price is not None else order.price
    order.stop_price = stop_price if stop_price is not None else order.stop_price
    order_move(order, OrderTrigger.MODIFY_ACCEPT, event_type=EventType.ORDER_MODIFIED, actor=actor)
    order_restore_fill_status(order, working_status)


def order_restore_fill_status(order: Order, working_status: str) -> None:
    # The state machine returns a modified order to ACCEPTED; one with fills stays PARTIALLY_FILLED.
    if working_status == OrderStatus.PARTIALLY_FILLED and order.status == OrderStatus.ACCEPTED:
        order.status = OrderStatus.PARTIALLY_FILLED
        order.save(update_fields=["status", "updated_at"])


def entry_has_fills(entry: Order) -> bool:
    """An entry's protective orders go live with its first fill: a partly filled position is guarded too."""
    return entry.filled_quantity > 0


def children_follow(entry: Order, *, reason: str, actor: str = "") -> None:
    """Keep an entry's protective orders guarding exactly what it has filled and not yet exited.

    At the entry's first fill they are released for what filled; each later fill grows
    the live ones; an entry that ends with nothing filled cancels them.
    """
    # Most entries have no protective orders: a plain look-up first, the locking read only when some exist.
    if not Order.objects.filter(parent=entry).exists():
        return
    children = list(
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("instrument", "strategy", "signal", "parent")
        .filter(parent=entry)
        .order_by("pk")
    )
    if entry.filled_quantity == 0:
        if entry.status not in OPEN_STATUSES:
            for child in children:
                if child.status == OrderStatus.NEW:
                    child.account = entry.account
                    order_move(
                        child, OrderTrigger.CANCEL, event_type=EventType.ORDER_CANCELED, actor=actor, reason=reason
                    )
        return
    # What the entry bought (or sold) and its exits have not yet closed.
    open_quantity = entry.filled_quantity - sum(child.filled_quantity for child in children)
    for child in children:
        child.account = entry.account
        guard = child.filled_quantity + open_quantity
        if child.status == OrderStatus.NEW:
            child.quantity = guard
            child.save(update_fields=["quantity", "updated_at"])
            order_dispatch(child)
        elif child.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED) and child.quantity < guard:
            order_modify_locked(child, actor="engine", quantity=guard)


def protective_orders_follow(account: Account, order: Order, position: Position) -> None:
    """Protective orders never guard more than the position: shrink them with it, cancel them when it is flat."""
    guards = (
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("instrument", "strategy", "signal", "parent")
        .filter(
            account=account,
            strategy=order.strategy,
            instrument=order.instrument,
            parent__isnull=False,
            status__in=WORKING_STATUSES,
        )
        .exclude(pk=order.pk)
    )
    for guard in guards:
        guard.account = account
        guarded = -Side(guard.side).sign * position.quantity  # > 0 while the guard would close the position
        remaining = guard.quantity - guard.filled_quantity
        if guarded <= 0:
            order_cancel_locked(guard, actor="engine", reason="the position it guarded is closed")
        elif guarded < remaining:
            order_modify_locked(guard, actor="engine", quantity=guard.filled_quantity + guarded)
