"""Trading use cases: orders to the broker, fills into positions and cash, the audit log.

Lock order, everywhere: the account row first, then the order row. Every state
change writes its Event in the same transaction; publishing and task dispatch
happen only after commit.
"""

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from trading import bus
from trading.brokers.base import BrokerError, BrokerFill, BrokerOrderRequest, broker_get
from trading.brokers.paper import PaperBroker
from trading.core.orders import OPEN_STATUSES, OrderStatus, OrderTrigger, OrderType, Side, next_status
from trading.core.positions import PositionState, apply_fill, cash_delta, unrealized_pnl
from trading.models import Account, Event, Execution, Order, Position

logger = logging.getLogger(__name__)


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def event_serialize(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "type": event.type,
        "severity": event.severity,
        "occurred_at": event.occurred_at.isoformat(),
        "account_id": event.account_id,
        "strategy_id": event.strategy_id,
        "order_id": event.order_id,
        "signal_id": event.signal_id,
        "actor": event.actor,
        "payload": event.payload,
    }


def event_record(
    *,
    type: str,
    account: Account | None = None,
    strategy: Any = None,
    order: Order | None = None,
    signal: Any = None,
    payload: dict[str, Any] | None = None,
    severity: str = Event.Severity.INFO,
    actor: str = "",
) -> Event:
    """Write one audit event in the caller's transaction; it is published only if that commits."""
    event = Event.objects.create(
        type=type,
        severity=severity,
        occurred_at=timezone.now(),
        account=account,
        strategy=strategy,
        order=order,
        signal=signal,
        actor=actor,
        payload={k: _json_value(v) for k, v in (payload or {}).items()},
    )
    message = event_serialize(event)
    transaction.on_commit(lambda: bus.publish(message))
    return event


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


def _order_move(order: Order, trigger: OrderTrigger, *, event_type: str, actor: str = "", **extra: Any) -> None:
    """Apply one state-machine transition and record it; an illegal move raises IllegalTransition."""
    order.status = next_status(OrderStatus(order.status), trigger)
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


def _lock_account_and_order(order_id: int) -> tuple[Account, Order]:
    account_id = Order.objects.values_list("account_id", flat=True).get(pk=order_id)
    account = Account.objects.select_for_update().get(pk=account_id)
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("instrument", "strategy", "signal", "parent")
        .get(pk=order_id)
    )
    order.account = account
    return account, order


def order_submit(*, order_id: int) -> Order:
    """Send a NEW order to the broker, exactly once.

    Runs again harmlessly: an order that has left NEW is not sent twice, and the
    broker answers a client order id it already holds with that order.
    """
    with transaction.atomic():
        account, order = _lock_account_and_order(order_id)
        if order.status != OrderStatus.NEW:
            return order
        if order.parent_id and order.parent.status != OrderStatus.FILLED:
            return order  # a protective order waits for its entry to fill
        now = timezone.now()
        request = BrokerOrderRequest(
            client_order_id=order.client_order_id,
            symbol=order.instrument.symbol,
            side=Side(order.side),
            order_type=OrderType(order.order_type),
            quantity=order.quantity,
            limit_price=order.price,
            stop_price=order.stop_price,
            time_in_force=order.time_in_force,
        )
        try:
            result = broker_get().place_order(request, now=now)
        except BrokerError as error:
            if error.is_retryable:
                raise
            order.reject_code, order.reject_reason = error.code, error.message
            _order_move(order, OrderTrigger.REJECT, event_type="order.rejected", reason=error.message)
            _signal_mark(order, "failed")
            return order
        order.submitted_at = now
        order.broker_order_id = result.state.broker_order_id
        _order_move(order, OrderTrigger.SUBMIT, event_type="order.submitted", already_held=result.already_held)
        if not result.state.accepted:
            order.reject_code, order.reject_reason = result.state.reject_code, result.state.reject_message
            _order_move(order, OrderTrigger.REJECT, event_type="order.rejected", reason=result.state.reject_message)
            _signal_mark(order, "failed")
            return order
        _order_move(order, OrderTrigger.ACCEPT, event_type="order.accepted")
        for fill in result.fills:
            _execution_apply_locked(account, order, fill)
    return order


def execution_apply(*, fill: BrokerFill) -> Execution | None:
    """Book one broker fill; a fill already booked (same exec_id) changes nothing."""
    order_id = Order.objects.values_list("pk", flat=True).get(client_order_id=fill.client_order_id)
    with transaction.atomic():
        account, order = _lock_account_and_order(order_id)
        return _execution_apply_locked(account, order, fill)


def _position_lock(account: Account, order: Order) -> Position:
    position, _ = Position.objects.select_for_update().get_or_create(
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
    previous_fill_value = (order.average_fill_price or Decimal(0)) * order.filled_quantity
    order.filled_quantity += fill.quantity
    order.average_fill_price = (previous_fill_value + fill.quantity * fill.price) / order.filled_quantity
    filled = order.filled_quantity >= order.quantity
    event_record(
        type="execution.created",
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
    if filled:
        _order_move(order, OrderTrigger.FILL, event_type="order.filled")
    else:
        _order_move(order, OrderTrigger.PARTIAL_FILL, event_type="order.partially_filled")

    position = _position_lock(account, order)
    was_flat = position.quantity == 0
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
        type="position.updated",
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

    account.cash += cash_delta(side=side, quantity=fill.quantity, price=fill.price, commission=fill.commission)
    account.save(update_fields=["cash", "updated_at"])
    event_record(type="account.updated", account=account, payload={"cash": account.cash})

    if filled:
        for child in order.children.filter(status=OrderStatus.NEW):
            child.quantity = order.filled_quantity
            child.save(update_fields=["quantity", "updated_at"])
            order_dispatch(child)
        if order.parent_id is None:
            _signal_mark(order, "executed")
    return execution


def _signal_mark(order: Order, status: str) -> None:
    signal = order.signal
    if signal is None or order.parent_id is not None or signal.status == status:
        return
    signal.status = status
    signal.save(update_fields=["status", "updated_at"])
    event_record(
        type=f"signal.{status}",
        account=order.account,
        strategy=order.strategy,
        signal=signal,
        order=order,
        payload={"id": signal.external_id, "symbol": signal.symbol},
    )


def order_cancel(*, order_id: int, actor: str) -> Order:
    """Cancel an open order: at the broker if it was sent, locally if it never left."""
    with transaction.atomic():
        _, order = _lock_account_and_order(order_id)
        if order.status == OrderStatus.NEW:
            _order_move(order, OrderTrigger.CANCEL, event_type="order.canceled", actor=actor)
            return order
        _order_move(order, OrderTrigger.CANCEL_REQUEST, event_type="order.pending_cancel", actor=actor)
        broker_get().cancel_order(order.client_order_id, now=timezone.now())
        _order_move(order, OrderTrigger.CANCEL, event_type="order.canceled", actor=actor)
        for child in order.children.filter(status=OrderStatus.NEW):
            _order_move(child, OrderTrigger.CANCEL, event_type="order.canceled", actor=actor)
    return order


def orders_trigger_on_prices(prices: dict[str, Decimal], *, now: datetime) -> int:
    """Let new prices fill the paper venue's resting orders; returns the number of fills booked."""
    broker = broker_get()
    if not isinstance(broker, PaperBroker):
        return 0  # a real broker reports its own fills
    booked = 0
    for client_order_id in broker.resting_triggered(prices):
        order_id = Order.objects.values_list("pk", flat=True).get(client_order_id=client_order_id)
        with transaction.atomic():
            account, order = _lock_account_and_order(order_id)
            if order.status not in OPEN_STATUSES:
                continue
            for fill in broker.trigger(client_order_id, prices[order.instrument.symbol], now=now):
                booked += _execution_apply_locked(account, order, fill) is not None
    return booked
