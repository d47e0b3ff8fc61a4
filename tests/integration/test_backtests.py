"""A backtest and an optimization through a real Celery worker (Redis, PostgreSQL): the run's progress is
pushed over the Redis channel layer from the worker, and the optimization's candidates fan out as tasks."""

import asyncio
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from backtests import services
from backtests.models import FINISHED, Backtest, Candidate, Optimization
from backtests.push import owner_group
from conftest import wait_for

pytestmark = pytest.mark.realstack

GOOG_FLIP = {
    "strategy_type": "SMA_CROSSOVER",
    "parameters": {"fast_period": 10, "slow_period": 20, "allow_short": True},
    "source": "sample",
    "sample": "GOOG",
    "settings": {"sizing": "all_in"},
}


def _drain(layer, channel: str) -> list[dict]:
    messages = []

    async def receive_all():
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), timeout=1))
            except TimeoutError:
                return

    async_to_sync(receive_all)()
    return messages


def test_a_backtest_runs_on_a_celery_worker_and_pushes_its_progress(demo_committed, celery_worker):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(owner_group(demo_committed.trader.pk), channel)

    backtest = services.backtest_create(owner=demo_committed.trader, data=GOOG_FLIP)
    wait_for(lambda: Backtest.objects.get(pk=backtest.pk).status in FINISHED, timeout=120, interval=0.2)
    backtest.refresh_from_db()
    assert backtest.status == "completed", backtest.error
    assert Decimal(backtest.summary["final_equity"]) == Decimal("81812.37")
    assert backtest.bars_done == backtest.bars_total == 2148

    pushed = [m["event"] for m in _drain(layer, channel) if m.get("type") == "backtests.message"]
    mine = [e for e in pushed if e["backtest_id"] == backtest.pk]
    assert mine and mine[-1]["status"] == "completed" and mine[-1]["progress"] == 1.0
    progress = [e["progress"] for e in mine]
    assert progress == sorted(progress)


def test_an_optimization_fans_its_candidates_out_to_the_workers(demo_committed, celery_worker):
    data = {
        "strategy_type": "SMA_CROSSOVER",
        "source": "sample",
        "sample": "GOOG",
        "space": {"fast_period": [5, 10], "slow_period": [20, 50]},
        "metric": "total_return",
        "walk_forward": {"train": 500, "test": 500},
        "settings": {"sizing": "all_in"},
    }
    optimization = services.optimization_create(owner=demo_committed.trader, data=data)
    wait_for(lambda: Optimization.objects.get(pk=optimization.pk).status in FINISHED, timeout=180, interval=0.3)
    optimization.refresh_from_db()
    assert optimization.status == "completed", optimization.error
    assert optimization.candidates_done == 4
    assert Candidate.objects.filter(optimization=optimization, done=True).count() == 4
    assert len(optimization.ranking) == 4 and len(optimization.walk_forward_result["windows"]) == 3
