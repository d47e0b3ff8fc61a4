"""Execution you can trust: retries, the circuit breaker, exactly-once placement, reconciliation, late fills.

Faults are injected with FlakyBroker: the real paper broker whose calls fail a chosen
number of times with a retryable connection error, as a dropped broker link does.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from trading.brokers.base import BrokerError, BrokerErrorCategory
from trading.brokers.paper import PaperBroker
from trading.core.orders import OrderStatus, OrderType, Side
from trading.marketdata import PRICE_KEY, prices_set
from trading.models import Event, Execution, Instrument, Order, PaperVenueFill, PaperVenueOrder, Position
from trading.services import broker_reconcile, order_cancel, order_submit
from trading.tasks import order_submit_task

PRICE = Decimal("200.00")


class FlakyBroker(PaperBroker):
    failures_left = 0
    calls = 0

    def place_order(self, request, *, now):
        FlakyBroker.calls += 1
        if FlakyBroker.failures_left > 0:
            FlakyBroker.failures_left -= 1
            raise BrokerError(BrokerErrorCategory.CONNECTION, "broker_disconnected", "The broker link dropped.")
        return super().place_order(request, now=now)


@pytest.fixture(autouse=True)
def isolated(settings):
    prices_set({"AAPL": PRICE})
    cache.delete("circuit:paper")
    FlakyBroker.failures_left, FlakyBroker.calls = 0, 0
    settings.BROKER_BACKEND = "trading.tests.test_execution_reliability.FlakyBroker"
    settings.BROKER_CIRCUIT_FAILURES = 5
    yield
    cache.delete_many([PRICE_KEY.format("AAPL"), "circuit:paper"])


def _order(demo, quantity="10", **fields) -> Order:
    return Order.objects.create(
        account=demo.account,
        instrument=Instrument.objects.get(symbol="AAPL"),
        strategy=demo.strategy,
        side=fields.pop("side", Side.BUY),
        order_type=fields.pop("order_type", OrderType.MARKET),
        quantity=Decimal(quantity),
        reference_price=PRICE,
        **fields,
    )


def _events(type_: str) -> int:
    return Event.objects.filter(type=type_).count()


def test_a_transient_failure_is_retried_and_the_order_fills_once(demo):
    FlakyBroker.failures_left = 2
    order = _order(demo)
    assert order_submit_task.apply(args=[order.pk]).get() == OrderStatus.FILLED
    assert FlakyBroker.calls == 3
    assert PaperVenueOrder.objects.count() == 1
    assert Execution.objects.filter(order=order).count() == 1


def test_after_three_failed_tries_the_order_waits_with_a_critical_alert(demo):
    FlakyBroker.failures_left = 3
    order = _order(demo)
    assert order_submit_task.apply(args=[order.pk]).get() == OrderStatus.NEW
    assert FlakyBroker.calls == 3
    alert = Event.objects.get(type="order.submission_failed")
    assert (alert.severity, alert.order_id, alert.payload["error_code"]) == (
        "CRITICAL",
        order.pk,
        "broker_disconnected",
    )
    assert PaperVenueOrder.objects.count() == 0


def test_the_circuit_opens_after_repeated_failures_and_stops_calling_the_broker(demo, settings):
    settings.BROKER_CIRCUIT_FAILURES = 3
    FlakyBroker.failures_left = 3
    order = _order(demo)
    for _ in range(3):
        with pytest.raises(BrokerError):
            order_submit(order_id=order.pk)
    assert _events("broker.circuit_opened") == 1
    with pytest.raises(BrokerError) as refused:
        order_submit(order_id=order.pk)
    assert refused.value.code == "circuit_open"
    assert refused.value.is_retryable
    assert FlakyBroker.calls == 3  # the open circuit did not call the broker


def test_the_circuit_probes_after_its_reset_and_closes_on_success(demo, settings):
    settings.BROKER_CIRCUIT_FAILURES = 1
    settings.BROKER_CIRCUIT_RESET = timedelta(seconds=0)
    FlakyBroker.failures_left = 1
    order = _order(demo)
    with pytest.raises(BrokerError):
        order_submit(order_id=order.pk)
    assert order_submit(order_id=order.pk).status == OrderStatus.FILLED
    assert [_events("broker.circuit_opened"), _events("broker.circuit_closed")] == [1, 1]


def test_an_order_the_broker_already_holds_is_adopted_with_its_fills_not_sent_twice(demo):
    order = _order(demo)
    # A worker sent the order and died before recording anything: the venue has it, we still say NEW.
    with transaction.atomic():
        from trading.services.submission import broker_request

        PaperBroker().place_order(broker_request(order), now=timezone.now())
    assert order_submit(order_id=order.pk).status == OrderStatus.FILLED
    assert PaperVenueOrder.objects.count() == 1  # no twin: placing a held client order id adopts it
    fill = Execution.objects.get(order=order)
    assert fill.exec_id == PaperVenueFill.objects.get().exec_id
    assert Event.objects.get(type="order.submitted").payload["already_held"] is True
    assert Position.objects.get(strategy=demo.strategy).quantity == 10


def _resting(demo) -> Order:
    order = _order(demo, order_type=OrderType.LIMIT, price=Decimal("150"))
    assert order_submit(order_id=order.pk).status == OrderStatus.ACCEPTED
    return order


def test_reconciliation_books_a_fill_the_engine_missed(demo):
    order = _resting(demo)
    with transaction.atomic():
        PaperBroker().trigger(order.client_order_id, Decimal("149"), now=timezone.now())  # venue filled, news lost
    report = broker_reconcile(now=timezone.now())
    order.refresh_from_db()
    assert (report.fills_booked, order.status, order.filled_quantity) == (1, OrderStatus.FILLED, 10)
    assert _events("reconcile.fills_booked") == 1
    assert broker_reconcile(now=timezone.now()).fills_booked == 0


def test_reconciliation_closes_an_order_the_broker_canceled(demo):
    order = _resting(demo)
    PaperVenueOrder.objects.filter(client_order_id=order.client_order_id).update(is_open=False)
    assert broker_reconcile(now=timezone.now()).closed_at_broker == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED


def test_an_order_the_broker_never_heard_of_is_rejected_with_a_critical_alert(demo):
    order = _resting(demo)
    PaperVenueOrder.objects.filter(client_order_id=order.client_order_id).delete()
    assert broker_reconcile(now=timezone.now()).unknown_at_broker == 1
    order.refresh_from_db()
    assert (order.status, order.reject_code) == (OrderStatus.REJECTED, "unknown_at_broker")
    assert Event.objects.get(type="reconcile.unknown_at_broker").severity == "CRITICAL"


def test_unknown_broker_orders_and_position_differences_raise_alerts(demo):
    PaperVenueOrder.objects.create(
        client_order_id="MANUAL-1",
        broker_order_id="P-MANUAL-1",
        symbol="AAPL",
        side="BUY",
        order_type="LIMIT",
        quantity=5,
        limit_price=1,
        created_at=timezone.now(),
    )
    order = _order(demo)
    order_submit(order_id=order.pk)
    Position.objects.filter(strategy=demo.strategy).update(quantity=7)
    report = broker_reconcile(now=timezone.now())
    assert (report.unknown_at_engine, report.position_mismatches) == (1, 1)
    mismatch = Event.objects.get(type="reconcile.position_mismatch")
    assert mismatch.payload == {"symbol": "AAPL", "engine": "7.000000", "broker": "10.000000"}


def test_a_new_order_left_behind_is_resent_and_one_whose_signal_expired_is_canceled(demo, settings):
    from strategies.models import TradingSignal

    settings.RECONCILE_NEW_ORDER_GRACE = timedelta(seconds=0)
    stale = _order(demo)
    expired_signal = TradingSignal.objects.create(
        producer=demo.trader,
        external_id="old",
        strategy=demo.strategy,
        symbol="AAPL",
        signal_type="BUY",
        confidence_score=1,
        position_size=Decimal("0.01"),
        expires_at=timezone.now() - timedelta(minutes=1),
        status="accepted",
    )
    too_late = _order(demo, signal=expired_signal)
    with transaction.atomic():
        report = broker_reconcile(now=timezone.now())
    # On the embedded stack the re-sent task runs after commit, at once.
    assert (report.resent, report.expired) == (1, 1)
    too_late.refresh_from_db()
    assert (too_late.status, too_late.reject_code) == (OrderStatus.CANCELED, "signal_expired")
    assert TradingSignal.objects.get(pk=expired_signal.pk).status == "failed"
    assert _events("reconcile.resent") == 1
    assert Order.objects.get(pk=stale.pk).status in {OrderStatus.NEW, OrderStatus.FILLED}


def test_a_fill_reported_after_the_cancel_is_still_booked(demo):
    order = _resting(demo)
    # The venue fills while our cancel is on its way; the fill report arrives after our CANCELED.
    with transaction.atomic():
        fills = PaperBroker().trigger(order.client_order_id, Decimal("149"), now=timezone.now())
    PaperVenueOrder.objects.filter(client_order_id=order.client_order_id).update(is_open=True)
    order_cancel(order_id=order.pk, actor="trader")
    from trading.services import execution_apply

    assert execution_apply(fill=fills[0]) is not None
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, 10)
    assert Position.objects.get(strategy=demo.strategy).quantity == 10
    assert Event.objects.get(type="order.late_fill").severity == "WARNING"


def test_a_worker_that_waited_for_the_account_books_the_fills_other_workers_brought_back(demo, monkeypatch, settings):
    from trading.services import submission as services

    paused = []
    resume = services.placement_book
    # Worker B placed its order and was paused before it could book the fill (queued on the account lock).
    monkeypatch.setattr(services, "placement_book", lambda *args, **kwargs: paused.append((args, kwargs)) or args[1])
    order_b = _order(demo, quantity="7")
    assert order_submit(order_id=order_b.pk).status == OrderStatus.ACCEPTED
    assert Execution.objects.count() == 0
    monkeypatch.setattr(services, "placement_book", resume)

    # Worker A waited for the lock too (forced here): it books its own fill and B's in one transaction.
    settings.FILL_GROUP_COMMIT_WAIT_MS = -1
    order_a = _order(demo, quantity="10")
    assert order_submit(order_id=order_a.pk).status == OrderStatus.FILLED
    order_b.refresh_from_db()
    assert (order_b.status, order_b.filled_quantity) == (OrderStatus.FILLED, 7)
    assert Position.objects.get(strategy=demo.strategy).quantity == 17

    # B's worker resumes: its fill is booked already, so it leaves it as it is.
    args, kwargs = paused[0]
    assert resume(*args, **kwargs).status == OrderStatus.FILLED
    assert Execution.objects.filter(order=order_b).count() == 1
    assert Position.objects.get(strategy=demo.strategy).quantity == 17
    assert _events("execution.created") == 2


def test_an_uncontended_worker_books_only_its_own_fills(demo, monkeypatch, settings):
    from trading.services import submission as services

    paused = []
    monkeypatch.setattr(services, "placement_book", lambda *args, **kwargs: paused.append(args) or args[1])
    order_b = _order(demo, quantity="7")
    order_submit(order_id=order_b.pk)
    monkeypatch.undo()
    settings.FILL_GROUP_COMMIT_WAIT_MS = 3_600_000
    order_a = _order(demo, quantity="10")
    assert order_submit(order_id=order_a.pk).status == OrderStatus.FILLED
    assert Execution.objects.filter(order=order_b).count() == 0  # left to its own worker (or reconciliation)
    assert broker_reconcile(now=timezone.now()).fills_booked == 1
