"""Cancel and modify are two-phase like submission: pending under the lock, the broker outside it, the answer
booked after; a refusal returns the order to where it was without losing a fill; a crash between the phases
is settled by reconciliation. And one place creates orders."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from conftest import ROOT
from trading.brokers.base import BrokerError, BrokerErrorCategory
from trading.brokers.paper import PaperBroker
from trading.core.orders import OrderStatus, OrderType, Side
from trading.marketdata import prices_set
from trading.models import Event, Execution, Instrument, Order
from trading.services import broker_reconcile, order_cancel, order_modify, order_submit
from trading.services.amendments import order_cancel_locked
from trading.services.locks import account_and_order_lock

PRICE = Decimal("200.00")


class RecordingBroker(PaperBroker):
    """The paper venue, noting whether each cancel or modification reached it inside a transaction."""

    calls: list[tuple[str, bool]] = []
    refuse: bool = False

    def cancel_order(self, client_order_id, *, now):
        RecordingBroker.calls.append(("cancel", connection.in_atomic_block))
        if RecordingBroker.refuse:
            raise BrokerError(BrokerErrorCategory.REJECTION, "too_late_to_cancel", "The order is being filled.")
        return super().cancel_order(client_order_id, now=now)

    def modify_order(self, client_order_id, **kwargs):
        RecordingBroker.calls.append(("modify", connection.in_atomic_block))
        if RecordingBroker.refuse:
            raise BrokerError(BrokerErrorCategory.REJECTION, "too_late_to_modify", "The order is being filled.")
        return super().modify_order(client_order_id, **kwargs)


@pytest.fixture(autouse=True)
def recording_broker(settings, tasks_in_process):
    prices_set({"AAPL": PRICE})
    settings.BROKER_BACKEND = "trading.tests.test_two_phase.RecordingBroker"
    RecordingBroker.calls, RecordingBroker.refuse = [], False


def _resting_limit(demo, quantity: str = "50") -> Order:
    order = Order.objects.create(
        account=demo.account,
        instrument=Instrument.objects.get(symbol="AAPL"),
        strategy=demo.strategy,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal(quantity),
        price=Decimal("190"),
        reference_price=Decimal("190"),
    )
    assert order_submit(order_id=order.pk).status == OrderStatus.ACCEPTED
    return order


def _partly_filled(demo, settings) -> Order:
    order = _resting_limit(demo)
    settings.PAPER_MAX_PARTICIPATION = Decimal("0.1")  # 10 % of the 200 shares traded: 20 of the 50
    PaperBroker().trigger(order.client_order_id, Decimal("189"), now=timezone.now(), available=Decimal(200))
    broker_reconcile(now=timezone.now())
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 20)
    return order


def _events(order: Order) -> list[str]:
    return list(Event.objects.filter(order=order).order_by("pk").values_list("type", flat=True))


def test_cancel_and_modify_reach_the_broker_outside_any_transaction(demo_committed):
    order = _resting_limit(demo_committed)
    modified = order_modify(order_id=order.pk, actor="trader", quantity=Decimal(40))
    assert (modified.status, modified.quantity) == (OrderStatus.ACCEPTED, 40)
    canceled = order_cancel(order_id=order.pk, actor="trader")
    assert canceled.status == OrderStatus.CANCELED
    # No lock is held while the broker answers (it held the account's row lock before).
    assert RecordingBroker.calls == [("modify", False), ("cancel", False)]
    assert _events(order)[-4:] == ["order.pending_modify", "order.modified", "order.pending_cancel", "order.canceled"]


def test_a_refused_cancel_returns_a_partly_filled_order_with_its_fills(demo, settings):
    order = _partly_filled(demo, settings)
    RecordingBroker.refuse = True
    with pytest.raises(BrokerError, match="being filled"):
        order_cancel(order_id=order.pk, actor="trader")
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 20)
    assert _events(order)[-2:] == ["order.pending_cancel", "order.cancel_rejected"]
    assert (
        Event.objects.filter(order=order, type="order.cancel_rejected").get().payload["filled_quantity"] == "20.000000"
    )


def test_a_refused_modification_returns_a_partly_filled_order_with_its_fills(demo, settings):
    order = _partly_filled(demo, settings)
    RecordingBroker.refuse = True
    with pytest.raises(BrokerError, match="being filled"):
        order_modify(order_id=order.pk, actor="trader", quantity=Decimal(30))
    order.refresh_from_db()
    assert (order.status, order.quantity, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 50, 20)
    assert _events(order)[-2:] == ["order.pending_modify", "order.modify_rejected"]


def test_reconciliation_asks_again_for_a_cancel_a_crash_left_pending(demo, settings):
    order = _resting_limit(demo)
    # The first phase committed, then the worker died before the broker heard of the cancel.
    with transaction.atomic():
        _, locked = account_and_order_lock(order.pk)
        order_cancel_locked(locked, actor="trader")
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_CANCEL
    assert RecordingBroker.calls == []

    report = broker_reconcile(now=timezone.now())
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert report.pending_settled == 1
    assert RecordingBroker.calls == [("cancel", True)]  # the test's own transaction wraps everything here


def test_reconciliation_gives_up_a_modification_a_crash_left_pending(demo, settings):
    order = _partly_filled(demo, settings)
    from trading.services.amendments import order_modify_locked

    with transaction.atomic():
        _, locked = account_and_order_lock(order.pk)
        order_modify_locked(locked, actor="trader", quantity=Decimal(30))
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    broker_reconcile(now=timezone.now())
    order.refresh_from_db()
    # The order keeps its terms and its fills; the lost answer is recorded.
    assert (order.status, order.quantity, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 50, 20)
    assert "never came" in Event.objects.filter(order=order, type="order.modify_rejected").get().payload["reason"]
    assert Execution.objects.filter(order=order).count() == 1


def test_orders_are_created_in_one_place_only():
    """Every cause (a signal, a close, a stop breach, the kill switch) goes through trading's order_place."""
    # Our model's manager or constructor (not ib_async's ibl.Order, not the class statement).
    creating = re.compile(
        r"(?<![\w.])Order\.objects\.(create|bulk_create|get_or_create|update_or_create)\(|(?<![\w.])Order\("
    )
    skipped = {".venv", "tests", "bench", "migrations"}
    found = []
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT)
        if skipped & set(relative.parts):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if creating.search(line) and not line.lstrip().startswith("class "):
                found.append(f"{relative}:{number}")
    assert {spot.split(":")[0] for spot in found} == {str(Path("trading/services/placement.py"))}, found
