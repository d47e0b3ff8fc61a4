"""Orders to the broker, exactly once (OrderExecutor.place_order), and what the broker answers."""

import logging
import time
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

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
from trading.core.circuit import CircuitState
from trading.core.orders import (
    OPEN_STATUSES,
    WORKING_STATUSES,
    Accepted,
    Canceled,
    OrderStatus,
    OrderType,
    Rejected,
    Side,
    Submitted,
)
from trading.events import events_batched
from trading.events.brokers import broker_circuit_closed_event, broker_circuit_opened_event
from trading.events.orders import order_submission_failed_event
from trading.models import Account, Execution, Order
from trading.services.amendments import (
    children_follow,
    entry_has_fills,
)
from trading.services.brokercalls import broker_calls_run
from trading.services.executions import (
    execution_apply_locked,
)
from trading.services.locks import (
    account_and_order_lock,
    account_lock,
    order_lock,
    order_relock,
)
from trading.services.moves import (
    order_move,
)

logger = logging.getLogger(__name__)


@broker_calls_run
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
            order = order_lock(order_id)
            if order.status != OrderStatus.NEW:
                return order
            if order.parent_id and not entry_has_fills(order.parent):
                return order  # a protective order waits for its entry's first fill
            result = order_send(broker, order, now=now)
    except BrokerError as error:
        if error.is_retryable and error.code != "circuit_open":
            circuit_outcome(broker.name, ok=False, now=now, error=error)
        raise
    circuit_outcome(broker.name, ok=True, now=now)
    if result is not None and (result.fills or not result.state.is_open):
        if result.already_held:
            reason = "already held by the broker"
        else:
            # Only IOC and FOK orders come back closed without filling in full: their remainder never rests.
            reason = f"{order.time_in_force} remainder canceled at the venue"
        order = placement_book(broker, order, result, reason=reason)
    return order


def placement_book(broker: Broker, order: Order, result: PlaceResult, *, reason: str) -> Order:
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
        order = order_relock(order, account)
        order_adopt_broker_state(account, order, result.state, result.fills, reason=reason)
        if contended:
            account_fills_book(broker, account, exclude=order.pk)
    return order


def account_fills_book(broker: Broker, account: Account, *, exclude: int) -> int:
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
            _, order = account_and_order_lock(sent[client_order_id], account=account)
            count += sum(execution_apply_locked(account, order, fill) is not None for fill in pending)
    return count


def order_send(broker: Broker, order: Order, *, now: datetime) -> PlaceResult | None:
    """Place (or adopt) the locked NEW order and record the broker's answer; None when it was rejected.

    Every broker's place_order first asks whether it already holds the client order id (a worker
    killed between sending and recording) and then answers with that order, already_held.
    """
    try:
        result = broker.place_order(broker_request(order), now=now)
    except BrokerError as error:
        if error.is_retryable:
            raise
        order.reject_code, order.reject_reason = error.code, error.message
        order_move(order, Rejected(code=error.code, reason=error.message), reason=error.message)
        return None
    order.submitted_at = now
    order.broker_order_id = result.state.broker_order_id
    accepted = result.state.accepted
    order_move(order, Submitted(), save=not accepted, already_held=result.already_held)
    if not accepted:
        order.reject_code, order.reject_reason = result.state.reject_code, result.state.reject_message
        reason = result.state.reject_message
        order_move(order, Rejected(code=result.state.reject_code, reason=reason), reason=reason)
        return None
    order_move(order, Accepted())
    return result


def broker_request(order: Order) -> BrokerOrderRequest:
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


def order_adopt_broker_state(
    account: Account, order: Order, state: BrokerOrderState, fills: Iterable[BrokerFill], *, reason: str
) -> int:
    """Bring an open order to what the broker says: book fills we lack, close what it closed."""
    booked = sum(execution_apply_locked(account, order, fill) is not None for fill in fills)
    if not state.is_open and order.status in OPEN_STATUSES:
        closed = f"closed at the broker: {reason}"
        order_move(order, Canceled(reason=closed), reason=closed)
        children_follow(order, reason="entry closed at the broker")
    return booked


def circuit_outcome(broker_name: str, *, ok: bool, now: datetime, error: BrokerError | None = None) -> None:
    before, after = circuit_record(broker_name, ok=ok, now=now)
    if before.state == after.state:
        return
    record = broker_circuit_opened_event if after.state == CircuitState.OPEN else broker_circuit_closed_event
    with transaction.atomic():
        record(broker=broker_name, failures=before.failures + (0 if ok else 1), error=error.message if error else "")


def order_submission_failed(*, order_id: int, error: BrokerError) -> Order:
    """The last placement try failed: the order waits as NEW (pending) with an alert, never dropped."""
    with transaction.atomic():
        _, order = account_and_order_lock(order_id)
        if order.status == OrderStatus.NEW:
            order_submission_failed_event(
                order=order, error_category=error.category, error_code=error.code, error=error.message
            )
    return order
