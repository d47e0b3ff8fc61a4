"""Two web processes and two Celery workers at once: every invariant of DESIGN.md still holds.

Producers post through both servers at the same time, each signal id to both (a retry that lands
on another process), more than the strategy's capital in all. Afterwards: one signal and at most
one entry order per id, every accepted order filled exactly once at the venue and in the books,
the strategy within its capital, cash equal to the start less what the fills cost, and one
order.filled event per filled order.
"""

import subprocess
import sys
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from conftest import _test_database_env, daphne_start, http_post_signal, wait_for
from quantumleap.celery import app as celery_app
from strategies.models import TradingSignal
from trading.core.orders import OPEN_STATUSES, OrderStatus, Side
from trading.core.positions import cash_delta
from trading.marketdata import PRICE_KEY
from trading.models import Account, Event, Execution, Order, PaperVenueFill, PaperVenueOrder, Position

pytestmark = pytest.mark.realstack

ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = ["KO", "PFE", "BAC", "WMT", "NEE", "DIS", "XOM", "CVX"]


@pytest.fixture
def second_stack(live_server_process):
    """A second daphne and a second Celery worker on the same database and Redis."""
    web, url = daphne_start()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "quantumleap", "worker", "-l", "warning", "-c", "2", "-n", "second@%h"],
        cwd=ROOT,
        env=_test_database_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(celery_app.control.ping(timeout=0.5)) >= 2, timeout=60, interval=0.5)
        yield url
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            process.wait(timeout=30)


def test_two_web_processes_and_two_workers_keep_every_invariant(demo_committed, live_server_process, second_stack):
    demo = demo_committed
    cache.delete_many([PRICE_KEY.format(s) for s in SYMBOLS])
    servers = [live_server_process, second_stack]
    expires = (timezone.now() + timedelta(hours=1)).isoformat()
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def producer(index: int) -> None:
        body = {
            "id": f"mp-{index}",
            "symbol": SYMBOLS[index % len(SYMBOLS)],
            "signal_type": "BUY",
            "confidence_score": "0.6",
            "position_size": "0.09",
            "expires_at": expires,
        }
        for server in (servers[index % 2], servers[(index + 1) % 2]):  # the same id through both processes
            answer = http_post_signal(server, demo.key, body)
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=producer, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {status for status, _ in answers} <= {200, 201}
    wait_for(lambda: not Order.objects.filter(status__in=OPEN_STATUSES).exists(), timeout=60)

    # One signal per id, one answer per id agreeing on its order.
    assert TradingSignal.objects.count() == 24
    by_id: dict[str, set] = {}
    for _, body in answers:
        by_id.setdefault(body["id"], set()).add(body["order_id"])
    assert all(len(order_ids) == 1 for order_ids in by_id.values())
    accepted = TradingSignal.objects.filter(status="executed")
    refused = TradingSignal.objects.filter(status="rejected")
    assert accepted.count() + refused.count() == 24 and accepted.exists() and refused.exists()
    assert {v["code"] for s in refused for v in s.violations} == {"strategy_capital_exceeded"}

    # Exactly once at the venue and in the books.
    orders = Order.objects.all()
    assert orders.count() == accepted.count()
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.FILLED}
    assert (
        PaperVenueOrder.objects.count() == PaperVenueFill.objects.count() == Execution.objects.count() == orders.count()
    )
    assert Event.objects.filter(type="order.filled").count() == orders.count()

    # Limits and money.
    cost = sum(abs(p.quantity) * p.average_price for p in Position.objects.filter(strategy=demo.strategy))
    assert cost <= demo.strategy.capital
    spent = sum(
        (
            cash_delta(side=Side(e.side), quantity=e.quantity, price=e.price, commission=e.commission)
            for e in Execution.objects.all()
        ),
        Decimal(0),
    )
    assert Account.objects.get(pk=demo.account.pk).cash == Decimal(1_000_000) + spent
