"""Interactive Brokers streaming into the market data manager: the real ib_async client, a fake TWS on 127.0.0.1."""

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.fake_tws import FakeTWS
from trading.brokers.ib import InteractiveBrokersBroker, ib_sessions_close
from trading.brokers.ib_feed import IbFeed
from trading.marketdata.manager import MarketDataManager
from trading.marketdata.runner import feed_serve


@pytest.fixture
def fake(settings) -> Iterator[FakeTWS]:
    fake = FakeTWS()
    settings.IB_HOST, settings.IB_PORT, settings.IB_CLIENT_ID = "127.0.0.1", fake.start(), 23
    settings.IB_ACCOUNT, settings.IB_TIMEOUT_SECONDS = "", 3
    yield fake
    ib_sessions_close()
    fake.stop()


def test_ib_ticks_reach_the_manager_and_the_feed_reconnects_after_a_drop(transactional_db, fake, wait):
    manager = MarketDataManager()
    seen: list[tuple[str, Decimal]] = []
    manager.subscribe_all(lambda update: seen.append((update.symbol, update.price)))
    stop = threading.Event()
    feed = IbFeed(["AAPL"], broker_factory=InteractiveBrokersBroker)
    runner = threading.Thread(target=feed_serve, args=(feed, manager, stop), kwargs={"backoff_base": 0.1})
    runner.start()
    try:
        wait(lambda: fake.tick("AAPL", Decimal("187.25")), timeout=10)  # once the subscription is in place
        wait(lambda: ("AAPL", Decimal("187.25")) in seen, timeout=10)
        assert manager.get_current_price("AAPL") == Decimal("187.25")

        fake.drop_connection()
        # The feed notices, reconnects with backoff and subscribes again: later ticks still arrive.
        wait(lambda: fake.tick("AAPL", Decimal("188.50")) and ("AAPL", Decimal("188.50")) in seen, timeout=20)
        assert manager.get_current_price("AAPL") == Decimal("188.50")
    finally:
        stop.set()
        runner.join(timeout=10)
    assert not runner.is_alive()
