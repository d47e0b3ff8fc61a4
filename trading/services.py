"""Trading use cases: orders to the broker, fills into positions and cash, the audit log.

Lock order, everywhere: the account row first, then the order row. Every state
change writes its Event in the same transaction; publishing and task dispatch
happen only after commit.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trading import loops
from trading.brokers.base import (
    Broker,
    BrokerError,
    BrokerFill,
    BrokerOrderRequest,
    BrokerOrderState,
    PlaceResult,
    broker_get,
)
from trading.brokers.circuit import circuit_check, circuit_record
from trading.brokers.paper import PaperBroker, volume_per_interval
from trading.core.circuit import CircuitState
from trading.core.orders import (
    OPEN_STATUSES,
    TRANSITIONS,
    WORKING_STATUSES,
    OrderStatus,
    OrderTrigger,
    OrderType,
    Side,
    next_status,
)
from trading.core.positions import PositionState, apply_fill, cash_delta, unrealized_pnl
from trading.events import EventType, event_record, events_batched
from trading.marketdata import price_get
from trading.models import Account, Event, Execution, Order, Position

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


def _order_move(
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


def account_lock(account_id: int) -> Account:
    """Lock an account row: whoever holds it may change the account's book (orders, fills, cash, state).

    FOR NO KEY UPDATE, not FOR UPDATE: the rows other transactions insert that point at
    the account (events, orders, executions) check their foreign key with FOR KEY SHARE,
    which FOR UPDATE would block until this transaction ends.
    """
    return Account.objects.select_for_update(no_key=True).get(pk=account_id)


def _lock_account_and_order(
    order_id: int, account_id: int | None = None, *, account: Account | None = None
) -> tuple[Account, Order]:
    """Lock the order's account (unless the caller passes the account it has locked), then the order."""
    if account is None:
        if account_id is None:
            account_id = Order.objects.values_list("account_id", flat=True).get(pk=order_id)
        account = account_lock(account_id)
    order = (
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("instrument", "strategy", "signal", "parent")
        .get(pk=order_id)
    )
    order.account = account
    return account, order


def _lock_order(order_id: int) -> Order:
    """Lock one order row alone (its account row stays free for other orders' fills and intake)."""
    return (
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account", "instrument", "strategy", "signal", "parent")
        .get(pk=order_id)
    )


def order_submit(*, order_id: int) -> Order:
    """OrderExecutor.place_order: send a NEW order to the broker, exactly once.

    Runs again harmlessly: an order that has left NEW is not sent twice, and the
    broker is asked first whether it already holds the client order id (a worker
    killed between sending and recording), in which case that order is adopted
    with its fills instead of placing a twin. Retryable broker errors propagate
    (the task retries them) and count against the broker's circuit breaker.

    The broker round trip holds only the order's row lock; the fills it brings
    back are booked afterwards under the account lock, so a slow broker never
    stalls the account's other orders. A crash between the two leaves fills at
    the broker that reconciliation books.
    """
    broker = broker_get()
    now = timezone.now()
    circuit_check(broker.name, now)
    try:
        with transaction.atomic(), events_batched():
            order = _lock_order(order_id)
            if order.status != OrderStatus.NEW:
                return order
            if order.parent_id and not _entry_has_fills(order.parent):
                return order  # a protective order waits for its entry's first fill
            result = _order_send(broker, order, now=now)
    except BrokerError as error:
        if error.is_retryable and error.code != "circuit_open":
            _circuit_outcome(broker.name, ok=False, now=now, error=error)
        raise
    _circuit_outcome(broker.name, ok=True, now=now)
    if result is not None and (result.fills or not result.state.is_open):
        if result.already_held:
            reason = "already held by the broker"
        else:
            # Only IOC and FOK orders come back closed without filling in full: their remainder never rests.
            reason = f"{order.time_in_force} remainder canceled at the venue"
        order = _placement_book(broker, order, result, reason=reason)
    return order


def _placement_book(broker: Broker, order: Order, result: PlaceResult, *, reason: str) -> Order:
    """Book what a placement brought back, under the account's lock, as a group commit under load.

    A worker that had to wait for the lock books, in the same transaction, every fill at the
    broker that the account's other sent orders have not booked yet (their workers are most
    likely queued behind it). A worker whose fills were booked that way leaves without the lock.
    """
    exec_ids = [fill.exec_id for fill in result.fills]
    if result.state.is_open and Execution.objects.filter(exec_id__in=exec_ids).count() == len(exec_ids):
        order.refresh_from_db()
        return order
    with transaction.atomic(), events_batched():
        asked = time.monotonic()
        account = account_lock(order.account_id)
        # Waited longer than FILL_GROUP_COMMIT_WAIT_MS: other workers' fills are most likely waiting too.
        contended = time.monotonic() - asked > settings.FILL_GROUP_COMMIT_WAIT_MS / 1000
        order = _order_relock(order, account)
        _order_adopt_broker_state(account, order, result.state, result.fills, reason=reason)
        if contended:
            _account_fills_book(broker, account, exclude=order.pk)
    return order


def _order_relock(sent: Order, account: Account) -> Order:
    """Lock an order read earlier, afresh with its signal; its instrument, strategy and parent have not changed."""
    order = Order.objects.select_for_update(of=("self",), no_key=True).select_related("signal").get(pk=sent.pk)
    order.account, order.instrument, order.strategy, order.parent = account, sent.instrument, sent.strategy, sent.parent
    return order


def _account_fills_book(broker: Broker, account: Account, *, exclude: int) -> int:
    """Book every fill the broker holds for the account's sent orders that we have not booked; caller holds the lock."""
    sent = dict(
        Order.objects.filter(account=account, status__in=WORKING_STATUSES)
        .exclude(pk=exclude)
        .values_list("client_order_id", "pk")
    )
    if not sent:
        return 0
    fills = broker.fills_for_orders(list(sent))
    exec_ids = [fill.exec_id for order_fills in fills.values() for fill in order_fills]
    booked = set(Execution.objects.filter(exec_id__in=exec_ids).values_list("exec_id", flat=True))
    count = 0
    for client_order_id in sorted(fills, key=sent.__getitem__):  # order rows locked in key order
        pending = [fill for fill in fills[client_order_id] if fill.exec_id not in booked]
        if pending:
            _, order = _lock_account_and_order(sent[client_order_id], account=account)
            count += sum(_execution_apply_locked(account, order, fill) is not None for fill in pending)
    return count


def _order_send(broker: Broker, order: Order, *, now: datetime) -> PlaceResult | None:
    """Place (or adopt) the locked NEW order and record the broker's answer; None when it was rejected.

    Every broker's place_order first asks whether it already holds the client order id (a worker
    killed between sending and recording) and then answers with that order, already_held.
    """
    try:
        result = broker.place_order(_broker_request(order), now=now)
    except BrokerError as error:
        if error.is_retryable:
            raise
        order.reject_code, order.reject_reason = error.code, error.message
        _order_move(order, OrderTrigger.REJECT, event_type=EventType.ORDER_REJECTED, reason=error.message)
        _signal_mark(order, "failed")
        return None
    order.submitted_at = now
    order.broker_order_id = result.state.broker_order_id
    accepted = result.state.accepted
    _order_move(
        order,
        OrderTrigger.SUBMIT,
        event_type=EventType.ORDER_SUBMITTED,
        save=not accepted,
        already_held=result.already_held,
    )
    if not accepted:
        order.reject_code, order.reject_reason = result.state.reject_code, result.state.reject_message
        _order_move(order, OrderTrigger.REJECT, event_type=EventType.ORDER_REJECTED, reason=result.state.reject_message)
        _signal_mark(order, "failed")
        return None
    _order_move(order, OrderTrigger.ACCEPT, event_type=EventType.ORDER_ACCEPTED)
    return result


def _broker_request(order: Order) -> BrokerOrderRequest:
    return BrokerOrderRequest(
        client_order_id=order.client_order_id,
        symbol=order.instrument.symbol,
        side=Side(order.side),
        order_type=OrderType(order.order_type),
        quantity=order.quantity,
        limit_price=order.price,
        stop_price=order.stop_price,
        time_in_force=order.time_in_force,
        trail_amount=order.trail_amount,
        trail_percent=order.trail_percent,
    )


def _order_adopt_broker_state(
    account: Account, order: Order, state: BrokerOrderState, fills: Iterable[BrokerFill], *, reason: str
) -> int:
    """Bring an open order to what the broker says: book fills we lack, close what it closed."""
    booked = sum(_execution_apply_locked(account, order, fill) is not None for fill in fills)
    if not state.is_open and order.status in OPEN_STATUSES:
        _order_move(
            order, OrderTrigger.CANCEL, event_type=EventType.ORDER_CANCELED, reason=f"closed at the broker: {reason}"
        )
        _children_follow(order, reason="entry closed at the broker")
    return booked


def _entry_has_fills(entry: Order) -> bool:
    """An entry's protective orders go live with its first fill: a partly filled position is guarded too."""
    return entry.filled_quantity > 0


def _children_follow(entry: Order, *, reason: str, actor: str = "") -> None:
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
                    _order_move(
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
            _order_modify_locked(child, actor="engine", quantity=guard)


def _circuit_outcome(broker_name: str, *, ok: bool, now: datetime, error: BrokerError | None = None) -> None:
    before, after = circuit_record(broker_name, ok=ok, now=now)
    if before.state == after.state:
        return
    opened = after.state == CircuitState.OPEN
    with transaction.atomic():
        event_record(
            type=EventType.BROKER_CIRCUIT_OPENED if opened else EventType.BROKER_CIRCUIT_CLOSED,
            severity=Event.Severity.CRITICAL if opened else Event.Severity.INFO,
            payload={
                "broker": broker_name,
                "failures": before.failures + (0 if ok else 1),
                "error": error.message if error else "",
            },
        )


def order_submission_failed(*, order_id: int, error: BrokerError) -> Order:
    """The last placement try failed: the order waits as NEW (pending) with an alert, never dropped."""
    with transaction.atomic():
        account, order = _lock_account_and_order(order_id)
        if order.status == OrderStatus.NEW:
            event_record(
                type=EventType.ORDER_SUBMISSION_FAILED,
                severity=Event.Severity.CRITICAL,
                account=account,
                strategy=order.strategy,
                order=order,
                signal=order.signal,
                payload={
                    **order_payload(order),
                    "error_category": error.category,
                    "error_code": error.code,
                    "error": error.message,
                },
            )
    return order


def execution_apply(*, fill: BrokerFill) -> Execution | None:
    """PositionManager.update_position: book one broker fill; one already booked (same exec_id) changes nothing."""
    order_id, account_id = Order.objects.values_list("pk", "account_id").get(client_order_id=fill.client_order_id)
    with transaction.atomic(), events_batched():
        account, order = _lock_account_and_order(order_id, account_id)
        return _execution_apply_locked(account, order, fill)


def _position_lock(account: Account, order: Order) -> Position:
    position, _ = Position.objects.select_for_update(no_key=True).get_or_create(
        account=account, strategy=order.strategy, instrument=order.instrument
    )
    return position


def _execution_apply_locked(account: Account, order: Order, fill: BrokerFill) -> Execution | None:
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
    previous_fill_value = (order.average_fill_price or Decimal(0)) * order.filled_quantity
    order.filled_quantity += fill.quantity
    order.average_fill_price = (previous_fill_value + fill.quantity * fill.price) / order.filled_quantity
    filled = order.filled_quantity >= order.quantity
    event_record(
        type=EventType.EXECUTION_CREATED,
        account=account,
        strategy=order.strategy,
        order=order,
        signal=order.signal,
        payload={
            "exec_id": fill.exec_id,
            "symbol": order.instrument.symbol,
            "side": side,
            "quantity": fill.quantity,
            "price": fill.price,
            "commission": fill.commission,
        },
    )
    if late:
        event_record(
            type=EventType.ORDER_LATE_FILL,
            severity=Event.Severity.WARNING,
            account=account,
            strategy=order.strategy,
            order=order,
            payload={"exec_id": fill.exec_id, "status": order.status, "quantity": fill.quantity},
        )
    if filled:
        _order_move(order, OrderTrigger.FILL, event_type=EventType.ORDER_FILLED)
    else:
        _order_move(order, OrderTrigger.PARTIAL_FILL, event_type=EventType.ORDER_PARTIALLY_FILLED)

    position = _position_lock(account, order)
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
    event_record(
        type=EventType.POSITION_UPDATED,
        account=account,
        strategy=order.strategy,
        order=order,
        payload={
            "symbol": order.instrument.symbol,
            "quantity": position.quantity,
            "average_price": position.average_price,
            "realized_pnl": position.realized_pnl,
        },
    )

    if abs(position.quantity) < abs(before) or position.quantity * before < 0:
        # Only a position that shrank or flipped can leave its protective orders guarding too much.
        _protective_orders_follow(account, order, position)

    account.cash += cash_delta(side=side, quantity=fill.quantity, price=fill.price, commission=fill.commission)
    account.save(update_fields=["cash", "updated_at"])
    event_record(type=EventType.ACCOUNT_UPDATED, account=account, payload={"cash": account.cash})

    if order.parent_id is None:
        _children_follow(order, reason="entry filled")
        if filled:
            _signal_mark(order, "executed")
    return execution


def _signal_mark(order: Order, status: str) -> None:
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


def order_cancel(*, order_id: int, actor: str, reason: str = "", if_open: bool = False) -> Order:
    """OrderExecutor.cancel_order: cancel an open order, at the broker if it was sent, locally if it never left.

    A done order raises IllegalTransition, unless if_open: sweeps (the kill switch) leave it as it is.
    """
    with transaction.atomic():
        _, order = _lock_account_and_order(order_id)
        if if_open and order.status not in OPEN_STATUSES:
            return order
        _order_cancel_locked(order, actor=actor, reason=reason)
    return order


def _order_cancel_locked(order: Order, *, actor: str, reason: str = "") -> None:
    if order.status == OrderStatus.NEW:
        _order_move(order, OrderTrigger.CANCEL, event_type=EventType.ORDER_CANCELED, actor=actor, reason=reason)
    else:
        _order_move(order, OrderTrigger.CANCEL_REQUEST, event_type=EventType.ORDER_PENDING_CANCEL, actor=actor)
        broker_get().cancel_order(order.client_order_id, now=timezone.now())
        _order_move(order, OrderTrigger.CANCEL, event_type=EventType.ORDER_CANCELED, actor=actor, reason=reason)
    # Held exits are canceled with an entry that filled nothing, and released to guard what it did fill.
    _children_follow(order, reason="entry canceled", actor=actor)


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
        _, order = _lock_account_and_order(order_id)
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
        _order_modify_locked(order, actor=actor, quantity=quantity, price=price, stop_price=stop_price)
    return order


def _order_modify_locked(
    order: Order,
    *,
    actor: str,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
) -> None:
    working_status = order.status
    _order_move(order, OrderTrigger.MODIFY_REQUEST, event_type=EventType.ORDER_PENDING_MODIFY, actor=actor)
    try:
        broker_get().modify_order(
            order.client_order_id, quantity=quantity, limit_price=price, stop_price=stop_price, now=timezone.now()
        )
    except BrokerError as error:
        if error.is_retryable:
            raise
        _order_move(order, OrderTrigger.MODIFY_REJECT, event_type=EventType.ORDER_MODIFY_REJECTED, reason=error.message)
        _order_restore_fill_status(order, working_status)
        raise
    order.quantity = quantity if quantity is not None else order.quantity
    order.price = price if price is not None else order.price
    order.stop_price = stop_price if stop_price is not None else order.stop_price
    _order_move(order, OrderTrigger.MODIFY_ACCEPT, event_type=EventType.ORDER_MODIFIED, actor=actor)
    _order_restore_fill_status(order, working_status)


def _order_restore_fill_status(order: Order, working_status: str) -> None:
    # The state machine returns a modified order to ACCEPTED; one with fills stays PARTIALLY_FILLED.
    if working_status == OrderStatus.PARTIALLY_FILLED and order.status == OrderStatus.ACCEPTED:
        order.status = OrderStatus.PARTIALLY_FILLED
        order.save(update_fields=["status", "updated_at"])


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
            _order_cancel_locked(order, actor=actor, reason=reason)
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


def _protective_orders_follow(account: Account, order: Order, position: Position) -> None:
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
            _order_cancel_locked(guard, actor="engine", reason="the position it guarded is closed")
        elif guarded < remaining:
            _order_modify_locked(guard, actor="engine", quantity=guard.filled_quantity + guarded)


def orders_trigger_on_prices(
    prices: dict[str, Decimal], *, now: datetime, volumes: dict[str, Decimal] | None = None
) -> int:
    """Let new prices fill the paper venue's resting orders; returns the number of fills booked.

    volumes: shares traded per symbol since the last call; without them the venue assumes the
    symbol's average volume per feed interval. Orders in one symbol share that volume, oldest first.
    """
    broker = broker_get()
    if not isinstance(broker, PaperBroker):
        return 0  # a real broker reports its own fills
    booked = 0
    available: dict[str, Decimal] = {}
    for client_order_id in broker.resting_triggered(prices):
        order_id, account_id = Order.objects.values_list("pk", "account_id").get(client_order_id=client_order_id)
        with transaction.atomic(), events_batched():
            account, order = _lock_account_and_order(order_id, account_id)
            if order.status not in OPEN_STATUSES:
                continue
            symbol, price = order.instrument.symbol, prices[order.instrument.symbol]
            volume = None
            if broker.model.liquidity_limited:
                if symbol not in available:
                    available[symbol] = (volumes or {}).get(symbol, volume_per_interval(symbol, price))
                volume = available[symbol]
            for fill in broker.trigger(client_order_id, price, now=now, available=volume):
                booked += _execution_apply_locked(account, order, fill) is not None
                if volume is not None:
                    available[symbol] -= fill.quantity / broker.model.max_participation
    return booked


def orders_expire_day(*, now: datetime) -> int:
    """Expire DAY orders at their exchange's session close: the venue closes them, the engine moves them EXPIRED."""
    broker = broker_get()
    if not isinstance(broker, PaperBroker):
        return 0  # a real broker expires its own orders; reconciliation closes ours
    expired = 0
    for client_order_id in broker.day_orders_due(now):
        order_id = Order.objects.filter(client_order_id=client_order_id).values_list("pk", flat=True).first()
        with transaction.atomic():
            if order_id is None:
                broker.expire(client_order_id, now=now)  # not ours: the venue closes it all the same
                continue
            _, order = _lock_account_and_order(order_id)
            if not broker.expire(client_order_id, now=now):
                continue
            if (OrderStatus(order.status), OrderTrigger.EXPIRE) not in TRANSITIONS:
                continue  # closed meanwhile, or mid-modification: reconciliation settles it
            _order_move(order, OrderTrigger.EXPIRE, event_type=EventType.ORDER_EXPIRED, reason="session closed")
            _children_follow(order, reason="entry expired")
            expired += 1
    return expired


@dataclass
class ReconcileReport:
    resent: int = 0
    expired: int = 0
    canceled: int = 0  # protective orders whose entry ended unfilled
    fills_booked: int = 0
    closed_at_broker: int = 0
    unknown_at_broker: int = 0
    unknown_at_engine: int = 0
    position_mismatches: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def broker_reconcile(*, now: datetime) -> ReconcileReport:
    """Compare our orders, fills and positions with the broker's and repair what can be repaired.

    Every difference is recorded as an event; those with no explanation (an order
    the broker never heard of, one we never sent, positions that disagree) are
    CRITICAL alerts.
    """
    broker = broker_get()
    report = ReconcileReport()
    grace = now - settings.RECONCILE_NEW_ORDER_GRACE
    for order_id in Order.objects.filter(status=OrderStatus.NEW, created_at__lt=grace).values_list("pk", flat=True):
        # One order that cannot be settled (a bug, a broker that refuses to answer) never stops the pass.
        with loops.iteration(loops.RECONCILE, scope=f"order-{order_id}", order_id=order_id):
            _reconcile_new_order(order_id, now=now, report=report)
    live = [s for s in OPEN_STATUSES if s != OrderStatus.NEW]
    for order_id in Order.objects.filter(status__in=live).values_list("pk", flat=True):
        with loops.iteration(loops.RECONCILE, scope=f"order-{order_id}", order_id=order_id):
            _reconcile_live_order(broker, order_id, report=report)
    _reconcile_unknown_orders(broker, report=report)
    _reconcile_positions(broker, report=report)
    with transaction.atomic():
        event_record(type=EventType.BROKER_RECONCILED, payload={"broker": broker.name, **report.as_dict()})
    return report


def _reconcile_new_order(order_id: int, *, now: datetime, report: ReconcileReport) -> None:
    with transaction.atomic():
        account, order = _lock_account_and_order(order_id)
        if order.status != OrderStatus.NEW:
            return
        if order.parent_id and not _entry_has_fills(order.parent):
            if order.parent.status not in OPEN_STATUSES:
                # Its entry ended with nothing filled (a crash came between the two): nothing to guard.
                _order_move(
                    order, OrderTrigger.CANCEL, event_type=EventType.ORDER_CANCELED, reason="entry ended unfilled"
                )
                report.canceled += 1
            return  # a live entry's protective order waits for its first fill
        if order.signal is not None and order.signal.expires_at <= now and order.parent_id is None:
            # Too late to act on the signal: sending it now would trade on stale advice.
            order.reject_code, order.reject_reason = "signal_expired", "The signal expired before the broker took it."
            _order_move(order, OrderTrigger.CANCEL, event_type=EventType.ORDER_CANCELED, reason=order.reject_reason)
            _signal_mark(order, "failed")
            report.expired += 1
            return
        event_record(
            type=EventType.RECONCILE_RESENT,
            severity=Event.Severity.WARNING,
            account=account,
            order=order,
            payload=order_payload(order),
        )
        order_dispatch(order)
        report.resent += 1


def _reconcile_live_order(broker: Broker, order_id: int, *, report: ReconcileReport) -> None:
    with transaction.atomic():
        account, order = _lock_account_and_order(order_id)
        if order.status not in OPEN_STATUSES:
            return
        state = broker.find_order(order.client_order_id)
        if state is None:
            order.reject_code = "unknown_at_broker"
            order.reject_reason = "The broker does not know this order."
            event_record(
                type=EventType.RECONCILE_UNKNOWN_AT_BROKER,
                severity=Event.Severity.CRITICAL,
                account=account,
                order=order,
                payload=order_payload(order),
            )
            _order_move(order, OrderTrigger.REJECT, event_type=EventType.ORDER_REJECTED, reason=order.reject_reason)
            report.unknown_at_broker += 1
            return
        was_open = order.status in OPEN_STATUSES
        booked = _order_adopt_broker_state(
            account, order, state, broker.fills_for(order.client_order_id), reason="reconciliation"
        )
        if booked:
            event_record(
                type=EventType.RECONCILE_FILLS_BOOKED,
                severity=Event.Severity.WARNING,
                account=account,
                order=order,
                payload={"fills": booked},
            )
        report.fills_booked += booked
        report.closed_at_broker += was_open and order.status == OrderStatus.CANCELED


def _reconcile_unknown_orders(broker: Broker, *, report: ReconcileReport) -> None:
    # Orders placed outside the engine carry no client order id: they are not ours to account for.
    held = {state.client_order_id for state in broker.open_orders() if state.client_order_id}
    known = set(Order.objects.filter(client_order_id__in=held).values_list("client_order_id", flat=True))
    for client_order_id in sorted(held - known):
        with transaction.atomic():
            event_record(
                type=EventType.RECONCILE_UNKNOWN_ORDER,
                severity=Event.Severity.CRITICAL,
                payload={"client_order_id": client_order_id, "broker": broker.name},
            )
        report.unknown_at_engine += 1


def _reconcile_positions(broker: Broker, *, report: ReconcileReport) -> None:
    ours: dict[str, Decimal] = {}
    for symbol, quantity in Position.objects.filter(account__broker=broker.name).values_list(
        "instrument__symbol", "quantity"
    ):
        ours[symbol] = ours.get(symbol, Decimal(0)) + quantity
    theirs = {p.symbol: p.quantity for p in broker.positions()}
    for symbol in sorted(set(ours) | set(theirs)):
        if ours.get(symbol, Decimal(0)) != theirs.get(symbol, Decimal(0)):
            with transaction.atomic():
                event_record(
                    type=EventType.RECONCILE_POSITION_MISMATCH,
                    severity=Event.Severity.CRITICAL,
                    payload={"symbol": symbol, "engine": ours.get(symbol, 0), "broker": theirs.get(symbol, 0)},
                )
            report.position_mismatches += 1
