"""Reconciliation with the broker: repair what can be repaired, alert on the rest."""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trading import loops
from trading.brokers.base import (
    Broker,
    broker_get,
)
from trading.core.orders import (
    OPEN_STATUSES,
    Canceled,
    ModifyRejected,
    OrderStatus,
    Rejected,
)
from trading.events.brokers import (
    broker_reconciled_event,
    reconcile_fills_booked_event,
    reconcile_position_mismatch_event,
    reconcile_resent_event,
    reconcile_unknown_at_broker_event,
    reconcile_unknown_order_event,
)
from trading.models import Order, Position
from trading.services.amendments import (
    cancel_resend,
    entry_has_fills,
)
from trading.services.brokercalls import broker_calls_run
from trading.services.locks import (
    account_and_order_lock,
)
from trading.services.moves import (
    order_dispatch,
    order_move,
)
from trading.services.submission import (
    order_adopt_broker_state,
)

logger = logging.getLogger(__name__)


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
    pending_settled: int = 0  # cancels asked again, modifications given up, after a crash between phases

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@broker_calls_run
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
        broker_reconciled_event(broker=broker.name, report=report.as_dict())
    return report


def _reconcile_new_order(order_id: int, *, now: datetime, report: ReconcileReport) -> None:
    with transaction.atomic():
        _, order = account_and_order_lock(order_id)
        if order.status != OrderStatus.NEW:
            return
        if order.parent_id and not entry_has_fills(order.parent):
            if order.parent.status not in OPEN_STATUSES:
                # Its entry ended with nothing filled (a crash came between the two): nothing to guard.
                order_move(order, Canceled(reason="entry ended unfilled"), reason="entry ended unfilled")
                report.canceled += 1
            return  # a live entry's protective order waits for its first fill
        if order.signal is not None and order.signal.expires_at <= now and order.parent_id is None:
            # Too late to act on the signal: sending it now would trade on stale advice.
            order.reject_code, order.reject_reason = "signal_expired", "The signal expired before the broker took it."
            order_move(order, Canceled(reason=order.reject_reason), reason=order.reject_reason)
            report.expired += 1
            return
        reconcile_resent_event(order=order)
        order_dispatch(order)
        report.resent += 1


def _reconcile_live_order(broker: Broker, order_id: int, *, report: ReconcileReport) -> None:
    with transaction.atomic():
        account, order = account_and_order_lock(order_id)
        if order.status not in OPEN_STATUSES:
            return
        state = broker.find_order(order.client_order_id)
        if state is None:
            order.reject_code = "unknown_at_broker"
            order.reject_reason = "The broker does not know this order."
            reconcile_unknown_at_broker_event(order=order)
            # Never heard of at the broker: rejected, or, if it had filled in part, ended there with its fills kept.
            ended = Canceled(reason=order.reject_reason) if order.filled_quantity > 0 else None
            order_move(
                order, ended or Rejected(code=order.reject_code, reason=order.reject_reason), reason=order.reject_reason
            )
            report.unknown_at_broker += 1
            return
        was_open = order.status in OPEN_STATUSES
        booked = order_adopt_broker_state(
            account, order, state, broker.fills_for(order.client_order_id), reason="reconciliation"
        )
        if booked:
            reconcile_fills_booked_event(order=order, fills=booked)
        report.fills_booked += booked
        report.closed_at_broker += was_open and order.status == OrderStatus.CANCELED
        if state.is_open and order.updated_at < timezone.now() - settings.RECONCILE_NEW_ORDER_GRACE:
            report.pending_settled += _pending_settle(order)


def _pending_settle(order: Order) -> bool:
    """An order left pending by a crash between the phases of a cancel or modify, still working at the broker:
    the cancel is asked again; the modification's answer is lost, so the order keeps its terms (a
    modification only ever lowers an order's claim, so keeping them errs on the safe side)."""
    if order.status == OrderStatus.PENDING_CANCEL:
        reconcile_resent_event(order=order, request="cancel")
        cancel_resend(order)
        return True
    if order.status == OrderStatus.PENDING_MODIFY:
        lost = "reconciliation: the broker's answer to the modification never came; the order keeps its terms"
        order_move(order, ModifyRejected(reason=lost), reason=lost)
        return True
    return False


def _reconcile_unknown_orders(broker: Broker, *, report: ReconcileReport) -> None:
    # Orders placed outside the engine carry no client order id: they are not ours to account for.
    held = {state.client_order_id for state in broker.open_orders() if state.client_order_id}
    known = set(Order.objects.filter(client_order_id__in=held).values_list("client_order_id", flat=True))
    for client_order_id in sorted(held - known):
        with transaction.atomic():
            reconcile_unknown_order_event(client_order_id=client_order_id, broker=broker.name)
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
                reconcile_position_mismatch_event(
                    symbol=symbol, engine=ours.get(symbol, 0), broker=theirs.get(symbol, 0)
                )
            report.position_mismatches += 1
