"""Capital allocation under concurrency (PostgreSQL): two allocations that each fit alone but not together,
released at once, cannot both pass; the account's row lock orders them."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from strategies.core.lifecycle import StrategyLifecycleError
from strategies.lifecycle import StrategyChanges, capital_allocated, strategy_create, strategy_update
from strategies.models import Strategy

pytestmark = pytest.mark.realstack


def _at_once(work, count: int) -> list:
    """Run work(i) in count threads released together; each result or the exception it raised."""
    start = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            start.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # the refusals are the point: collected and asserted on
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_concurrent_creations_cannot_together_pass_the_equity(demo_committed):
    # Equity 1,000,000 and demo-ai holds 100,000: one strategy of 500,000 fits, two do not.
    def create(index: int) -> Strategy:
        return strategy_create(
            owner=demo_committed.trader,
            account=demo_committed.account,
            name=f"race-{index}",
            strategy_type="EXTERNAL_AI",
            capital=Decimal(500_000),
        )

    results = _at_once(create, 4)
    created = [r for r in results if isinstance(r, Strategy)]
    refused = [r for r in results if isinstance(r, StrategyLifecycleError)]
    assert len(created) == 1, results
    assert len(refused) == 3 and {r.code for r in refused} == {"capital_exceeds_equity"}
    assert capital_allocated(account=demo_committed.account) == Decimal(600_000)


def test_concurrent_capital_increases_cannot_together_pass_the_equity(demo_committed):
    strategies = [
        strategy_create(
            owner=demo_committed.trader,
            account=demo_committed.account,
            name=f"grow-{i}",
            strategy_type="EXTERNAL_AI",
            capital=Decimal(100_000),
        )
        for i in range(3)
    ]

    # 400,000 held; each increase of 400,000 fits alone (800,000), two do not (1,200,000).
    def grow(index: int) -> Strategy:
        return strategy_update(
            strategy_id=strategies[index].pk,
            user=demo_committed.trader,
            changes=StrategyChanges(capital=Decimal(500_000)),
        )

    results = _at_once(grow, 3)
    assert sum(isinstance(r, Strategy) for r in results) == 1, results
    assert all(getattr(r, "code", None) == "capital_exceeds_equity" for r in results if not isinstance(r, Strategy))
    assert capital_allocated(account=demo_committed.account) <= Decimal(1_000_000)
