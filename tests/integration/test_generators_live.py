"""A built-in generator live on the real stack: the simulated feed's bars -> a signal -> an order -> a fill.

The feed runs in this process as the web process runs it (``feed_run``: every subscriber of
``MARKET_DATA_STREAM_SUBSCRIBERS``, the strategy runner among them); its clock runs 60 times
faster, so a 1-minute bar closes every second. The real Celery worker submits and fills.
"""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from strategies import runner as live
from strategies.models import Strategy, StrategyPerformance, TradingSignal
from trading.core.orders import OrderStatus
from trading.marketdata.feeds.simulated import SimulatedFeed
from trading.marketdata.manager import market_data_reset
from trading.marketdata.runner import clock_accelerated, feed_run
from trading.models import Bar, Execution, Instrument, Order

pytestmark = pytest.mark.realstack


@pytest.fixture
def fast_feed():
    """The simulated feed over AAPL alone, run by feed_run in a thread; stopped (with the runner) at the end."""
    stop = threading.Event()
    instrument = Instrument.objects.get(symbol="AAPL")
    feed = SimulatedFeed(
        [(instrument.symbol, instrument.reference_price, Decimal("0.9"), instrument.tick_size)],
        seed=11,
        interval=timedelta(milliseconds=50),
        speedup=60,
        clock=clock_accelerated(60),
    )
    thread = threading.Thread(target=feed_run, args=(stop,), kwargs={"feed": feed}, daemon=True)
    market_data_reset()
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
        runner = live.strategy_runner()
        if runner is not None:
            runner.stop()
        live._runner = live._runner_manager = None
        market_data_reset()


def test_a_running_sma_strategys_signal_becomes_an_order_and_a_fill(demo_committed, celery_worker, fast_feed, wait):
    demo = demo_committed
    strategy = Strategy.objects.create(
        owner=demo.trader,
        account=demo.account,
        name="sma-live",
        strategy_type="SMA_CROSSOVER",
        capital=Decimal("100000"),
        status=Strategy.Status.RUNNING,
        deployed_at=timezone.now(),
        configuration={"parameters": {"fast_period": 2, "slow_period": 3}, "symbols": ["AAPL"]},
    )

    def executed() -> TradingSignal | None:
        return TradingSignal.objects.filter(strategy=strategy, status=TradingSignal.Status.EXECUTED).first()

    signal = wait(executed, timeout=90, interval=0.2)

    assert Bar.objects.filter(symbol="AAPL").count() >= 4  # it traded on stored, closed bars
    assert signal.producer == demo.trader
    assert signal.external_id.startswith(f"s{strategy.pk}:AAPL:")
    assert signal.metadata["model"] == "SMA_CROSSOVER"
    order = Order.objects.get(signal=signal, parent__isnull=True)
    assert order.status == OrderStatus.FILLED
    assert Execution.objects.filter(order=order).count() == 1
    # The fill asked the analyzer for the strategy's figures (on the worker, after a short delay).
    wait(lambda: StrategyPerformance.objects.filter(strategy=strategy).exists(), timeout=30)
