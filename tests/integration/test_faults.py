"""Fault tests on the real stack: workers killed with SIGKILL in the middle of submission.

Pool processes of the running Celery worker are killed again and again while
signals stream in (their tasks are re-queued: acks_late + reject_on_worker_lost),
and a whole second worker is killed and restarted (its unacknowledged tasks stay
with Redis; reconciliation re-sends the orders they carried). Afterwards every
order must be in a true state: each accepted signal filled exactly once.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from conftest import _test_database_env, wait_for
from risk.models import RiskParameters
from strategies.models import Strategy, TradingSignal
from trading.core.orders import OrderStatus
from trading.marketdata import PRICE_KEY
from trading.models import Execution, Order, PaperVenueFill, PaperVenueOrder, Position
from trading.services import broker_reconcile

pytestmark = pytest.mark.realstack

ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = ["AAPL", "MSFT", "KO", "PFE", "BAC", "WMT", "XOM", "JPM", "DIS", "NEE"]


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split()]


def _start_worker(name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "quantumleap", "worker", "-l", "warning", "-c", "2", "-n", f"{name}@%h"],
        cwd=ROOT,
        env=_test_database_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _post_all(demo, count: int) -> list[dict]:
    answers: list[dict] = []

    def post(index: int) -> None:
        body = {
            "id": f"fault-{index}",
            "symbol": SYMBOLS[index % len(SYMBOLS)],
            "signal_type": "BUY",
            "confidence_score": "0.7",
            "position_size": "0.001",
            "expires_at": (timezone.now() + timedelta(hours=1)).isoformat(),
        }
        response = Client().post(
            "/api/v1/signals/", json.dumps(body), content_type="application/json", **demo.headers()
        )
        answers.append(response.json())
        connection.close()
        time.sleep(0.02)  # a stream, not one burst, so kills land mid-flight

    threads = [threading.Thread(target=post, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
        time.sleep(0.01)
    for thread in threads:
        thread.join()
    return answers


def test_sigkilled_workers_neither_duplicate_nor_lose_orders(demo_committed, celery_worker, settings):
    demo = demo_committed
    cache.delete_many([PRICE_KEY.format(s) for s in SYMBOLS])
    Strategy.objects.filter(pk=demo.strategy.pk).update(capital=Decimal(10_000_000))
    RiskParameters.objects.filter(account=demo.account).update(max_position_size=Decimal(1))
    second = _start_worker("chaos")
    stop = threading.Event()
    kills = {"pool": 0, "worker": 0}

    def chaos() -> None:
        nonlocal second
        rounds = 0
        while not stop.is_set():
            for pid in _children(celery_worker.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue  # it exited between the listing and the kill
                kills["pool"] += 1
            rounds += 1
            if rounds % 5 == 0:  # now and then the whole second worker dies and comes back
                os.killpg(second.pid, signal.SIGKILL)
                second.wait()
                kills["worker"] += 1
                second = _start_worker("chaos")
            stop.wait(0.15)

    killer = threading.Thread(target=chaos)
    killer.start()
    try:
        answers = _post_all(demo, 60)
        time.sleep(1.0)
    finally:
        stop.set()
        killer.join()
    try:
        accepted = {a["id"] for a in answers if a["status"] in ("accepted", "executed")}
        assert len(answers) == 60 and len(accepted) == 60, answers
        assert kills["pool"] >= 5 and kills["worker"] >= 1, kills
        settings.RECONCILE_NEW_ORDER_GRACE = timedelta(0)

        def settled() -> bool:
            if Order.objects.filter(status=OrderStatus.NEW).exists():
                broker_reconcile(now=timezone.now())  # re-sends what died with a worker
                return False
            return True

        wait_for(settled, timeout=90, interval=1.0)
        wait_for(lambda: TradingSignal.objects.filter(status="executed").count() == 60, timeout=60)
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.wait()

    orders = Order.objects.filter(strategy=demo.strategy)
    assert orders.count() == 60
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.FILLED}
    # Exactly once at the venue and in the books.
    assert PaperVenueOrder.objects.count() == 60
    assert PaperVenueFill.objects.count() == 60
    assert Execution.objects.count() == 60
    assert set(PaperVenueOrder.objects.values_list("client_order_id", flat=True)) == set(
        orders.values_list("client_order_id", flat=True)
    )
    for order in orders:
        assert order.filled_quantity == order.quantity
    total_filled = sum(Execution.objects.values_list("quantity", flat=True))
    assert sum(Position.objects.values_list("quantity", flat=True)) == total_filled
