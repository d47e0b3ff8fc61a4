"""The pipeline's invariants on the real stack: PostgreSQL, Redis and a real Celery worker.

Many producers post at once through the REST API (each thread its own client and
database connection); the worker submits the orders; the tests wait for the
system to settle and then check the books.
"""

import json
import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from celery.result import allow_join_result
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from risk.models import RiskParameters
from strategies.models import Strategy, TradingSignal
from trading.consumers import TradingConsumer
from trading.core.orders import OPEN_STATUSES, OrderStatus
from trading.marketdata import PRICE_KEY
from trading.models import Account, Execution, Order, PaperVenueOrder, Position
from trading.tasks import order_submit_task

pytestmark = pytest.mark.realstack

SIGNALS_URL = "/api/v1/signals/"
# Priced between 28.90 and 415.20 in the demo universe; 50 signals cycle through them.
SYMBOLS = [
    "AAPL", "MSFT", "NVDA", "AVGO", "ORCL", "CRM", "GOOGL", "DIS", "AMZN", "TSLA", "HD", "MCD", "JPM",
    "BAC", "V", "JNJ", "PFE", "XOM", "CVX", "PG", "KO", "WMT", "CAT", "BA", "NEE",
]  # fmt: skip
ACCEPTED = {TradingSignal.Status.ACCEPTED, TradingSignal.Status.EXECUTED}


@pytest.fixture(autouse=True)
def reference_prices():
    """No last price left in the shared cache: every symbol trades at its demo reference price."""
    cache.delete_many([PRICE_KEY.format(symbol) for symbol in SYMBOLS])


def _body(demo, external_id: str, symbol: str, position_size: str) -> dict[str, Any]:
    return {
        "id": external_id,
        "symbol": symbol,
        "signal_type": "BUY",
        "confidence_score": "0.80",
        "position_size": position_size,
        "strategy_id": demo.strategy.pk,
        "expires_at": (timezone.now() + timedelta(hours=1)).isoformat(),
    }


def _post(demo, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = Client().post(SIGNALS_URL, data=json.dumps(body), content_type="application/json", **demo.headers())
    return response.status_code, response.json()


def _close_connection() -> None:
    connection.close()


def _post_concurrently(demo, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Post every body from its own thread, all released at once; returns the answers in order."""
    results: list[Any] = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def run(index: int, body: dict[str, Any]) -> None:
        try:
            start.wait(timeout=60)
            results[index] = _post(demo, body)
        except Exception as error:  # reported by the assertion below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    failures = [r for r in results if not isinstance(r, tuple)]
    assert not failures, failures
    return results


def _settled(strategy: Strategy, expected_orders: int):
    def check() -> bool:
        orders = Order.objects.filter(strategy=strategy)
        return orders.count() == expected_orders and not orders.filter(status__in=OPEN_STATUSES).exists()

    return check


def _strategy_committed(strategy: Strategy) -> Decimal:
    """Position cost plus the reservations of open orders, as risk/core/rules.py defines them."""
    buffer = RiskParameters.objects.get(account=strategy.account).reserve_buffer
    cost = sum((abs(p.quantity) * p.average_price for p in Position.objects.filter(strategy=strategy)), Decimal(0))
    reserved = sum(
        (
            (o.quantity - o.filled_quantity) * (o.price or o.stop_price or o.reference_price) * (1 + buffer)
            for o in Order.objects.filter(strategy=strategy, status__in=OPEN_STATUSES)
        ),
        Decimal(0),
    )
    return cost + reserved


def _split(answers: list[tuple[int, dict[str, Any]]]) -> tuple[list[dict], list[dict]]:
    accepted = [body for _, body in answers if body["status"] in ACCEPTED]
    rejected = [body for _, body in answers if body["status"] == TradingSignal.Status.REJECTED]
    assert len(accepted) + len(rejected) == len(answers), [body["status"] for _, body in answers]
    return accepted, rejected


def _assert_rejections(rejected: list[dict], code: str) -> None:
    for body in rejected:
        assert body["order_id"] is None
        assert [v["code"] for v in body["violations"]] == [code], body["violations"]
        assert body["violations"][0]["message"]
        assert Decimal(body["violations"][0]["actual"]) > Decimal(body["violations"][0]["limit"])


def _assert_accepted_filled(demo, accepted: list[dict]) -> None:
    for body in accepted:
        order = Order.objects.get(pk=body["order_id"])
        assert order.status == OrderStatus.FILLED
        assert order.filled_quantity == order.quantity > 0
        assert Execution.objects.filter(order=order).count() == 1
        assert TradingSignal.objects.get(producer=demo.trader, external_id=body["id"]).status == "executed"


def test_fifty_racing_signals_never_exceed_strategy_capital(demo_committed, celery_worker, wait):
    demo = demo_committed
    assert demo.strategy.capital == Decimal("100000")
    bodies = [_body(demo, f"cap-{i}", SYMBOLS[i % len(SYMBOLS)], "0.1") for i in range(50)]

    answers = _post_concurrently(demo, bodies)

    assert [status for status, _ in answers] == [201] * 50
    accepted, rejected = _split(answers)
    # Each order reserves at most 10,200 (10,000 + 2 % buffer), and costs at least 10,000 - 415.20
    # once filled: 9 must fit in 100,000, 11 never do.
    assert 9 <= len(accepted) <= 10
    assert len(rejected) == 50 - len(accepted)
    _assert_rejections(rejected, "strategy_capital_exceeded")

    wait(_settled(demo.strategy, len(accepted)), timeout=60)
    _assert_accepted_filled(demo, accepted)
    assert Execution.objects.filter(strategy=demo.strategy).count() == len(accepted)
    assert _strategy_committed(demo.strategy) <= Decimal("100000")
    executions = Execution.objects.filter(strategy=demo.strategy)
    assert _strategy_committed(demo.strategy) == sum((e.quantity * e.price for e in executions), Decimal(0))


def test_fifty_racing_signals_never_overdraw_the_account(demo_committed, celery_worker, wait):
    demo = demo_committed
    Strategy.objects.filter(pk=demo.strategy.pk).update(capital=Decimal("10000000"))
    # Let positions, gross exposure and sectors reach twice the equity, so that buying power is the only limit
    # that binds (after one 500,000 fill, slippage and commission leave the equity a little under 1,000,000).
    RiskParameters.objects.filter(account=demo.account).update(
        max_position_size=Decimal("2"), max_portfolio_exposure=Decimal("2"), max_sector_exposure=Decimal("2")
    )
    assert Account.objects.get(pk=demo.account.pk).cash == Decimal("1000000")
    bodies = [_body(demo, f"cash-{i}", SYMBOLS[i % len(SYMBOLS)], "0.05") for i in range(50)]

    answers = _post_concurrently(demo, bodies)

    assert [status for status, _ in answers] == [201] * 50
    accepted, rejected = _split(answers)
    # Each order reserves more than 509,000 of the 1,000,000: exactly one fits.
    assert len(accepted) == 1
    assert len(rejected) == 49
    _assert_rejections(rejected, "insufficient_funds")

    wait(_settled(demo.strategy, 1), timeout=60)
    _assert_accepted_filled(demo, accepted)
    execution = Execution.objects.get(strategy=demo.strategy)
    cash = Account.objects.get(pk=demo.account.pk).cash
    assert cash == Decimal("1000000") - execution.quantity * execution.price - execution.commission
    assert cash >= 0
    assert Decimal("490000") < cash < Decimal("510000")


def test_twenty_concurrent_reposts_of_one_signal_make_one_order(demo_committed, celery_worker, wait):
    demo = demo_committed
    body = _body(demo, "same-id", "AAPL", "0.1")

    answers = _post_concurrently(demo, [dict(body) for _ in range(20)])

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 19 + [201]
    order_ids = {answer["order_id"] for _, answer in answers}
    assert len(order_ids) == 1
    (order_id,) = order_ids
    assert order_id is not None
    assert {answer["signal_id"] for _, answer in answers} == {
        TradingSignal.objects.get(producer=demo.trader, external_id="same-id").pk
    }
    assert TradingSignal.objects.filter(producer=demo.trader, external_id="same-id").count() == 1
    signal = TradingSignal.objects.get(producer=demo.trader, external_id="same-id")
    assert list(Order.objects.filter(signal=signal, parent__isnull=True).values_list("pk", flat=True)) == [order_id]
    wait(lambda: Order.objects.get(pk=order_id).status == OrderStatus.FILLED, timeout=30)
    assert Order.objects.filter(strategy=demo.strategy).count() == 1
    assert Execution.objects.filter(order_id=order_id).count() == 1
    order = Order.objects.get(pk=order_id)
    assert PaperVenueOrder.objects.filter(client_order_id=order.client_order_id).count() == 1


def test_rerunning_the_submit_task_sends_nothing_more(demo_committed, celery_worker, wait):
    demo = demo_committed
    status, answer = _post(demo, _body(demo, "rerun-1", "MSFT", "0.1"))
    assert status == 201
    order_id = answer["order_id"]
    assert order_id is not None
    wait(lambda: Order.objects.get(pk=order_id).status == OrderStatus.FILLED, timeout=30)
    order = Order.objects.get(pk=order_id)
    execution = Execution.objects.get(order=order)
    cash = Account.objects.get(pk=demo.account.pk).cash

    for _ in range(2):
        rerun = order_submit_task.apply_async((order_id,), ignore_result=False)
        # This process is no worker: Celery's process-wide "inside a task" flag, which eager tasks run by
        # other threads of earlier tests may leave set, does not apply to waiting here.
        with allow_join_result():
            assert rerun.get(timeout=20) == OrderStatus.FILLED

    assert PaperVenueOrder.objects.filter(client_order_id=order.client_order_id).count() == 1
    assert list(Execution.objects.filter(order=order).values_list("pk", flat=True)) == [execution.pk]
    assert Account.objects.get(pk=demo.account.pk).cash == cash
    assert Position.objects.get(strategy=demo.strategy, instrument=order.instrument).quantity == order.quantity
    assert order.quantity == Decimal(24)  # 10,000 / 415.20, whole shares


@pytest.mark.django_db(transaction=True)
async def test_a_fill_reaches_the_traders_websocket(demo_committed, celery_worker):
    demo = demo_committed
    communicator = WebsocketCommunicator(TradingConsumer.as_asgi(), "/ws/trading/")
    communicator.scope["user"] = demo.trader
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    try:
        status, answer = await database_sync_to_async(_post)(demo, _body(demo, "ws-1", "AAPL", "0.1"))
        assert status == 201
        order_id = answer["order_id"]
        assert order_id is not None

        filled = None
        for _ in range(500):  # bounded: the socket also carries this signal's other events
            message = await communicator.receive_json_from(timeout=20)
            if message.get("kind") != "event":
                continue
            event = message["event"]
            if event["type"] == "order.filled" and event["order_id"] == order_id:
                filled = event
                break
        assert filled is not None
        assert filled["account_id"] == demo.account.pk
        assert filled["payload"]["status"] == OrderStatus.FILLED
        assert Decimal(filled["payload"]["filled_quantity"]) == Decimal(43)  # 10,000 / 228.50, whole shares
    finally:
        await communicator.disconnect()
        # The consumer and the post ran in the same worker thread: close its connection, or the test
        # database cannot be dropped at the end of the session.
        await database_sync_to_async(_close_connection)()
