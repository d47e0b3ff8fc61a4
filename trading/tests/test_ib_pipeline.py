"""Signals through the whole pipeline to Interactive Brokers (the real ib_async client, a fake TWS on 127.0.0.1).

The fake drops the connection, delays acknowledgements past the timeout and rejects; every order
must end in a true state, placed at most once.
"""

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from strategies.models import TradingSignal
from tests.fake_tws import FakeTWS
from trading.brokers.ib import InteractiveBrokersBroker, ib_sessions_close
from trading.core.orders import OrderStatus
from trading.marketdata import PRICE_KEY, prices_set
from trading.models import Execution, Order, Position
from trading.tasks import _book_streamed_fill


@pytest.fixture
def ib(settings, demo_committed, tasks_in_process) -> Iterator[FakeTWS]:
    """Tasks run in this process: the fake TWS lives here."""
    fake = FakeTWS()
    settings.IB_HOST, settings.IB_PORT, settings.IB_CLIENT_ID = "127.0.0.1", fake.start(), 31
    settings.IB_ACCOUNT, settings.IB_TIMEOUT_SECONDS = "", 2
    settings.BROKER_BACKEND = "trading.brokers.ib.InteractiveBrokersBroker"
    fake.set_fill_price("AAPL", Decimal("200.00"))
    prices_set({"AAPL": Decimal("200.00")})
    cache.delete("circuit:interactive_brokers")
    InteractiveBrokersBroker().on_fill = _book_streamed_fill  # what a worker process does at start
    yield fake
    InteractiveBrokersBroker().on_fill = None
    ib_sessions_close()
    fake.stop()
    cache.delete_many([PRICE_KEY.format("AAPL"), "circuit:interactive_brokers"])


def post(demo, signal_id: str) -> dict:
    body = {
        "id": signal_id,
        "symbol": "AAPL",
        "signal_type": "BUY",
        "confidence_score": "0.7",
        "position_size": "0.02",
        "expires_at": (timezone.now() + timedelta(minutes=10)).isoformat(),
    }
    response = Client().post("/api/v1/signals/", json.dumps(body), content_type="application/json", **demo.headers())
    assert response.status_code == 201, response.content
    return response.json()


def filled_once(order_id: int) -> bool:
    order = Order.objects.get(pk=order_id)
    return order.status == OrderStatus.FILLED and Execution.objects.filter(order=order).count() == 1


def test_a_signal_fills_at_interactive_brokers_with_our_id_as_order_ref(ib, demo_committed, wait):
    answer = post(demo_committed, "ib-1")
    wait(lambda: filled_once(answer["order_id"]), timeout=15)
    order = Order.objects.get(pk=answer["order_id"])
    assert [m[26] for m in ib.placed()] == [order.client_order_id]
    fill = Execution.objects.get(order=order)
    assert (fill.quantity, fill.price) == (Decimal(10), Decimal("200.00"))
    assert Position.objects.get(strategy=demo_committed.strategy).quantity == 10
    wait(lambda: TradingSignal.objects.get(external_id="ib-1").status == "executed", timeout=5)


def test_a_rejection_ends_the_order_rejected_with_the_brokers_reason(ib, demo_committed, wait):
    ib.reject_next(201, "Order rejected - reason:Not enough buying power")
    answer = post(demo_committed, "ib-rejected")
    order = wait(lambda: (o := Order.objects.get(pk=answer["order_id"])).status == OrderStatus.REJECTED and o)
    assert "buying power" in order.reject_reason
    assert TradingSignal.objects.get(external_id="ib-rejected").status == "failed"
    assert not Execution.objects.exists()


def test_a_slow_acknowledgement_is_retried_without_a_second_order(ib, demo_committed, settings, wait):
    InteractiveBrokersBroker().find_order("warm-up")  # connected before the acks slow down
    settings.IB_TIMEOUT_SECONDS = 0.5
    ib.delay_acks(1.0)
    answer = post(demo_committed, "ib-slow")
    wait(lambda: filled_once(answer["order_id"]), timeout=20)
    assert len(ib.placed()) == 1


def test_a_dropped_connection_is_retried_and_the_order_fills_once(ib, demo_committed, wait):
    InteractiveBrokersBroker().find_order("warm-up")
    ib.drop_connection()
    wait(lambda: not InteractiveBrokersBroker().is_connected(), timeout=5)
    answer = post(demo_committed, "ib-dropped")
    wait(lambda: filled_once(answer["order_id"]), timeout=20)
    assert len(ib.placed()) == 1
    assert ib.connections == 2
