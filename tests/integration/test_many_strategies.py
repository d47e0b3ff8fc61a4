"""1,000 RUNNING strategies on one user, each receiving a signal at once (real stack: PostgreSQL, Redis, a
real Celery worker): none errors, and every limit holds, the strategies' capital and the account's exposure.

Each strategy holds 1,000 of the account's 1,000,000 and asks for 90 % of it in one BUY; the account may
hold half its equity in gross exposure, so about half the signals fit and the rest are refused by that
limit, whatever order the posts race in. (bench/strategies_bench.py times the same load over HTTP.)
"""

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.services import api_key_create
from risk.models import RiskParameters
from strategies.models import Strategy, TradingSignal
from trading.core.orders import OPEN_STATUSES
from trading.models import Account, Execution, Order, Position

pytestmark = pytest.mark.realstack

STRATEGIES = 1000
CAPITAL = Decimal("1000")
EXPOSURE = Decimal("0.5")
# Priced 28.90 to 415.20: 90 % of 1,000 buys at least two shares of each.
SYMBOLS = ["AAPL", "MSFT", "ORCL", "CRM", "GOOGL", "DIS", "AMZN", "TSLA", "JPM", "BAC", "KO", "PFE", "XOM", "WMT"]


def fleet_create(demo, count: int) -> list[Strategy]:
    """`count` RUNNING strategies of the demo trader, dividing the account's equity between them."""
    Strategy.objects.filter(pk=demo.strategy.pk).update(status=Strategy.Status.STOPPED)
    Strategy.objects.bulk_create(
        Strategy(
            owner=demo.trader,
            account=demo.account,
            name=f"fleet-{number:04d}",
            strategy_type=Strategy.StrategyType.EXTERNAL_AI,
            capital=CAPITAL,
            status=Strategy.Status.RUNNING,
            deployed_at=timezone.now(),
        )
        for number in range(count)
    )
    return list(Strategy.objects.filter(name__startswith="fleet-").order_by("pk"))


def post_concurrently(key: str, bodies: list[dict], threads: int = 6) -> list[tuple[int, dict]]:
    """Post every body from `threads` producer threads released at once (each its own client; fewer than the
    process's database pool holds, DATABASE_POOL_SIZE 8, so that none waits on the pool rather than the engine)."""
    answers: list = [None] * len(bodies)
    start = threading.Barrier(threads)

    def producer(first: int) -> None:
        client = Client()
        try:
            start.wait(timeout=60)
            for index in range(first, len(bodies), threads):
                response = client.post(
                    "/api/v1/signals/",
                    data=json.dumps(bodies[index]),
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {key}",
                )
                answers[index] = (response.status_code, response.json())
        finally:
            connection.close()

    workers = [threading.Thread(target=producer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers)
    return answers


def test_a_thousand_running_strategies_each_taking_a_signal_at_once(demo_committed, celery_worker, wait):
    demo = demo_committed
    RiskParameters.objects.filter(account=demo.account).update(
        max_portfolio_exposure=EXPOSURE,
        max_position_size=Decimal(1),
        max_sector_exposure=Decimal(1),
        max_strategy_orders_per_minute=None,
        max_account_orders_per_minute=None,
    )
    fleet = fleet_create(demo, STRATEGIES)
    assert Strategy.objects.filter(owner=demo.trader, status=Strategy.Status.RUNNING).count() == STRATEGIES
    key = api_key_create(user=demo.trader)
    expires = (timezone.now() + timedelta(hours=1)).isoformat()
    bodies = [
        {
            "id": f"fleet-{i}",
            "strategy_id": strategy.pk,
            "symbol": SYMBOLS[i % len(SYMBOLS)],
            "signal_type": "BUY",
            "confidence_score": "0.7",
            "position_size": "0.9",
            "expires_at": expires,
            "metadata": {"model": f"model-{i % 3}"},
        }
        for i, strategy in enumerate(fleet)
    ]

    answers = post_concurrently(key, bodies)

    assert [status for status, _ in answers] == [201] * STRATEGIES  # none errors
    taken = [a for _, a in answers if a["status"] in ("accepted", "executed")]
    refused = [a for _, a in answers if a["status"] == "rejected"]
    assert len(taken) + len(refused) == STRATEGIES
    assert taken and refused
    assert {v["code"] for a in refused for v in a["violations"]} == {"max_gross_exposure_exceeded"}

    def settled() -> bool:
        orders = Order.objects.filter(strategy__in=fleet, parent__isnull=True)
        return orders.count() == len(taken) and not orders.filter(status__in=OPEN_STATUSES).exists()

    wait(settled, timeout=300, interval=0.5)
    account = Account.objects.get(pk=demo.account.pk)
    positions = list(Position.objects.filter(account=account).exclude(quantity=0))
    gross = sum((abs(p.quantity) * p.average_price for p in positions), Decimal(0))
    executions = Execution.objects.filter(account=account)
    equity = account.cash + sum((p.quantity * p.average_price for p in positions), Decimal(0))
    assert gross <= EXPOSURE * Decimal(1_000_000)  # the account's exposure limit held
    assert gross <= EXPOSURE * equity + sum((e.commission for e in executions), Decimal(0))
    by_strategy: dict[int, Decimal] = {}
    for p in positions:
        by_strategy[p.strategy_id] = by_strategy.get(p.strategy_id, Decimal(0)) + abs(p.quantity) * p.average_price
    assert max(by_strategy.values()) <= CAPITAL  # every strategy within its capital
    assert len(by_strategy) == len(taken)
    assert TradingSignal.objects.filter(strategy__in=fleet).count() == STRATEGIES
