"""Cancel and modify (a person's or the engine's), and the protective orders that follow their entry."""

import functools
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
    Canceled,
    CancelRejected,
    CancelRequested,
    ModifyAccepted,
    ModifyRejected,
    ModifyRequested,
    OrderStatus,
    Side,
    transition,
)
from trading.events import events_batched
from trading.events.orders import order_released_event
from trading.models import Account, Order, Position
from trading.services.brokercalls import broker_call_later, broker_calls_after
from trading.services.locks import (
    account_and_order_lock,
    account_lock,
    orders_for_update,
)
from trading.services.moves import (
    TradingError,
    order_dispatch,
    order_move,
    order_state,
)

logger = logging.getLogger(__name__)


def order_cancel(*, order_id: int, actor: str, reason: str = "", if_open: bool = False) -> Order:
    """OrderExecutor.cancel_order: cancel an open order, at the broker if it was sent, locally if it never left.

    Two-phase: PENDING_CANCEL under the lock, the broker's cancel outside it, its answer booked after.
    A done order raises IllegalTransition, unless if_open: sweeps (the kill switch) leave it as it is.
    A refusal at the broker returns the order to where it was and raises the BrokerError.
    """
    with broker_calls_after(), transaction.atomic(), events_batched():
        _, order = account_and_order_lock(order_id)
        if if_open and order.status not in OPEN_STATUSES:
            return order
        order_cancel_locked(order, actor=actor, reason=reason, raises=True)
    order.refresh_from_db()
    return order


def order_cancel_locked(order: Order, *, actor: str, reason: str = "", raises: bool = False) -> None:
    """Cancel a locked open order: at once if it never left, else PENDING_CANCEL and the broker's cancel queued.

    raises: the cancel is a person's request, whose broker error reaches them.
    """
    if order.status == OrderStatus.NEW:
        order_move(order, Canceled(reason=reason), actor=actor, reason=reason)
        # Held exits are canceled with an entry that filled nothing, and released to guard what it did fill.
        children_follow(order, reason="entry canceled", actor=actor)
        return
    if order.status == OrderStatus.PENDING_CANCEL:
        return  # a cancel is on its way
    order_move(order, CancelRequested(), actor=actor)
    broker_call_later(
        functools.partial(_cancel_at_broker, order.pk, order.client_order_id, actor=actor, reason=reason),
        raises=raises,
    )


def cancel_resend(order: Order, *, actor: str = "reconciliation") -> None:
    """Ask the broker again to cancel an order left PENDING_CANCEL (after the lock, like any cancel)."""
    broker_call_later(functools.partial(_cancel_at_broker, order.pk, order.client_order_id, actor=actor, reason=""))


def _cancel_at_broker(order_id: int, client_order_id: str, *, actor: str, reason: str) -> None:
    try:
        broker_get().cancel_order(client_order_id, now=timezone.now())
    except BrokerError as error:
        if not error.is_retryable:
            _cancel_answer(order_id, actor=actor, reason=reason, refused=error)
        # A broker out of reach leaves the order PENDING_CANCEL: reconciliation asks it again.
        raise
    _cancel_answer(order_id, actor=actor, reason=reason)


def _cancel_answer(order_id: int, *, actor: str, reason: str, refused: BrokerError | None = None) -> None:
    with transaction.atomic(), events_batched():
        _, order = account_and_order_lock(order_id)
        if order.status != OrderStatus.PENDING_CANCEL:
            return  # it filled meanwhile, or reconciliation settled it
        if refused is not None:
            order_move(order, CancelRejected(reason=refused.message), reason=refused.message)
            return
        order_move(order, Canceled(reason=reason), actor=actor, reason=reason)
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
    raise it must go through the risk checks as a new order. Two-phase, like a cancel.
    """
    with broker_calls_after(), transaction.atomic(), events_batched():
        _, order = account_and_order_lock(order_id)
        # The state machine says whether the order can take the change at all (an OrderError if not) ...
        transition(order_state(order), ModifyRequested(quantity=quantity, price=price, stop_price=stop_price))
        # ... and risk's rule here, whether it may without new checks: a change may only lower its claim.
        if quantity is not None and quantity > order.quantity:
            raise TradingError(
                "modify_increases_exposure",
                "A larger quantity must be sent as a new order, through the risk checks.",
            )
        if price is not None and (price - order.price) * Side(order.side).sign > 0:
            raise TradingError(
                "modify_increases_exposure",
                "A less favourable limit price must be sent as a new order, through the risk checks.",
            )
        order_modify_locked(order, actor=actor, quantity=quantity, price=price, stop_price=stop_price, raises=True)
    order.refresh_from_db()
    return order


def order_modify_locked(
    order: Order,
    *,
    actor: str,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
    raises: bool = False,
) -> None:
    """PENDING_MODIFY on a locked working order, and the broker's modification queued."""
    order_move(order, ModifyRequested(quantity=quantity, price=price, stop_price=stop_price), actor=actor)
    change = {"quantity": quantity, "price": price, "stop_price": stop_price}
    broker_call_later(
        functools.partial(_modify_at_broker, order.pk, order.client_order_id, change, actor=actor), raises=raises
    )


def _modify_at_broker(order_id: int, client_order_id: str, change: dict, *, actor: str) -> None:
    try:
        broker_get().modify_order(
            client_order_id,
            quantity=change["quantity"],
            limit_price=change["price"],
            stop_price=change["stop_price"],
            now=timezone.now(),
        )
    except BrokerError as error:
        if not error.is_retryable:
            _modify_answer(order_id, change, actor=actor, refused=error)
        # A broker out of reach leaves the order PENDING_MODIFY: reconciliation settles it.
        raise
    _modify_answer(order_id, change, actor=actor)


def _modify_answer(order_id: int, change: dict, *, actor: str, refused: BrokerError | None = None) -> None:
    with transaction.atomic(), events_batched():
        _, order = account_and_order_lock(order_id)
        if order.status != OrderStatus.PENDING_MODIFY:
            return  # it filled or was canceled meanwhile, or reconciliation settled it
        if refused is not None:
            order_move(order, ModifyRejected(reason=refused.message), reason=refused.message)
        else:
            order_move(order, ModifyAccepted(), actor=actor)  # the machine applies what was asked
        if order.parent_id is not None:
            guards_follow_later(order)  # the position may have moved while the modification was out


def entry_has_fills(entry: Order) -> bool:
    """An entry's protective orders go live with its first fill: a partly filled position is guarded too."""
    return entry.filled_quantity > 0


def children_follow(entry: Order, *, reason: str, actor: str = "") -> None:
    """Keep an entry's protective orders guarding exactly what it has filled and not yet exited.

    At the entry's first fill they are released for what filled; each later fill grows
    the live ones (after the lock: ``guards_follow``); an entry that ends with nothing filled
    cancels them.
    """
    # Most entries have no protective orders: a plain look-up first, the locking read only when some exist.
    if not Order.objects.filter(parent=entry).exists():
        return
    children = list(orders_for_update().filter(parent=entry).order_by("pk"))
    if entry.filled_quantity == 0:
        if entry.status not in OPEN_STATUSES:
            for child in children:
                if child.status == OrderStatus.NEW:
                    child.account = entry.account
                    order_move(child, Canceled(reason=reason), actor=actor, reason=reason)
        return
    # What the entry bought (or sold) and its exits have not yet closed.
    open_quantity = entry.filled_quantity - sum(child.filled_quantity for child in children)
    for child in children:
        child.account = entry.account
        if child.status == OrderStatus.NEW and open_quantity <= 0:
            # Its siblings closed all the entry filled: nothing is left for it to guard.
            order_move(child, Canceled(reason="nothing left to guard"), actor=actor, reason="nothing left to guard")
        elif child.status == OrderStatus.NEW:
            child.quantity = child.filled_quantity + open_quantity
            child.save(update_fields=["quantity", "updated_at"])
            order_released_event(order=child, reason=reason, actor=actor)
            order_dispatch(child)
        elif child.status in WORKING_STATUSES:
            guards_follow_later(child)


def guards_follow_later(order: Order) -> None:
    """Check the protective orders of the order's position once the lock is released (they may have to
    grow with an entry's fills, shrink with the position, or go when it is flat)."""
    key = ("guards", order.account_id, order.strategy_id, order.instrument_id)
    broker_call_later(
        functools.partial(guards_follow, order.account_id, order.strategy_id, order.instrument_id), key=key
    )


def protective_orders_follow(account: Account, order: Order, position: Position) -> None:
    """Protective orders never guard more than the position: after a fill shrank or flipped it, check them."""
    guards_follow_later(order)


def guards_follow(account_id: int, strategy_id: int | None, instrument_id: int) -> None:
    """Bring one position's live protective orders to what they must guard, under the account's lock.

    Each guards ``min(what its entry filled and its exits have not closed, what the position holds
    in the direction the guard would close)``, on top of what it has filled itself; nothing left to
    guard cancels it. A guard with a cancel or modification on its way is left to its answer, which
    checks again. Changes go to the broker after the lock (two-phase).
    """
    with transaction.atomic(), events_batched():
        account = account_lock(account_id)
        position = Position.objects.filter(
            account=account, strategy_id=strategy_id, instrument_id=instrument_id
        ).first()
        held = position.quantity if position is not None else Decimal(0)
        guards = list(
            orders_for_update()
            .filter(
                account=account,
                strategy_id=strategy_id,
                instrument_id=instrument_id,
                parent__isnull=False,
                status__in=WORKING_STATUSES,
            )
            .order_by("pk")
        )
        exits_filled: dict[int, Decimal] = {}
        for parent_id, filled in Order.objects.filter(parent_id__in={g.parent_id for g in guards}).values_list(
            "parent_id", "filled_quantity"
        ):
            exits_filled[parent_id] = exits_filled.get(parent_id, Decimal(0)) + filled
        for guard in guards:
            guard.account = account
            entry_open = guard.parent.filled_quantity - exits_filled.get(guard.parent_id, Decimal(0))
            guarded = -Side(guard.side).sign * held  # > 0 while the guard would close the position
            left = min(entry_open, guarded)
            if left <= 0:
                order_cancel_locked(guard, actor="engine", reason="the position it guarded is closed")
            elif guard.filled_quantity + left != guard.quantity:
                order_modify_locked(guard, actor="engine", quantity=guard.filled_quantity + left)
