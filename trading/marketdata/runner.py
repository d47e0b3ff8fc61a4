"""Run a feed into this process's manager: reconnect with backoff, default subscribers, background thread."""

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.module_loading import import_string

from trading import loops
from trading.bus import group_push
from trading.core.feedhealth import backoff_delays
from trading.marketdata.feeds.base import Feed, FeedFatal, wait_maintaining
from trading.marketdata.feeds.simulated import SimulatedFeed
from trading.marketdata.manager import MarketDataManager, Subscription, market_data
from trading.models import Instrument

logger = logging.getLogger(__name__)

PRICES_GROUP = "prices"


def prices_push(prices: dict[str, Decimal], *, now: datetime) -> None:
    """Browsers' throttled price push (the Channels group every dashboard joins)."""
    group_push(
        PRICES_GROUP,
        {"type": "prices.message", "prices": {s: str(p) for s, p in prices.items()}, "at": now.isoformat()},
    )


def feed_heartbeat() -> None:
    """The feed's thread is alive: it flushes at least every flush interval, ticking or waiting to reconnect."""
    loops.beat(loops.MARKET_FEED)


def subscribers_wire(manager: MarketDataManager, *, starters: list[str] | None = None) -> list[Subscription]:
    """Everything a running feed drives: the browsers' price push and the feed's heartbeat, and the engine's
    own subscribers, named in settings so that market data depends on none of them
    (MARKET_DATA_STREAM_SUBSCRIBERS: the stop monitor on every tick, a simulated venue's resting orders every
    feed interval); each is called with the manager and subscribes itself. Returns what to cancel at the end."""
    subscriptions = [
        manager.subscribe_batched(prices_push, interval=settings.MARKET_PUSH_INTERVAL),
        manager.subscribe_flush(feed_heartbeat),
    ]
    for starter in settings.MARKET_DATA_STREAM_SUBSCRIBERS if starters is None else starters:
        subscription = import_string(starter)(manager)
        if isinstance(subscription, Subscription):
            subscriptions.append(subscription)
    return subscriptions


def feed_serve(
    feed: Feed,
    manager: MarketDataManager,
    stop: threading.Event,
    *,
    backoff_base: float = 1.0,
    backoff_cap: float = 60.0,
) -> None:
    """Run feed until stop is set or its data ends; reconnect after failures with 1, 2, 4, 8 ... s (capped)."""
    delays = backoff_delays(base=backoff_base, cap=backoff_cap)
    manager.feed_started(feed.symbols)
    gave_up = False
    try:
        while not stop.is_set():
            handled = manager.updates_handled
            try:
                feed.connect()
                loops.succeeded(loops.MARKET_FEED, scope="connection")  # a recovery, after a failed connection
                feed.run(manager, stop)
                return  # stopped, or the data ended (a replay)
            except FeedFatal as error:
                # It cannot run as configured: alerted, and left to turn late on /readyz until someone acts.
                loops.failed(loops.MARKET_FEED, error, scope="connection", feed=feed.name)
                gave_up = True
                return
            except Exception as error:
                loops.failed(loops.MARKET_FEED, error, scope="connection", feed=feed.name)
            finally:
                try:
                    feed.close()
                except Exception:
                    logger.exception("could not close market feed %s", feed.name)
            if manager.updates_handled > handled:
                # It worked for a while: start the backoff again from the shortest wait.
                delays = backoff_delays(base=backoff_base, cap=backoff_cap)
            delay = next(delays)
            logger.warning("market feed %s disconnected; reconnecting in %.0f s", feed.name, delay)
            wait_maintaining(manager, stop, delay)
    finally:
        manager.feed_stopped()
        if not gave_up:
            loops.stopped(loops.MARKET_FEED)
        connections.close_all()  # the feed's thread gives its database connections back


def simulated_feed_default(*, speedup: float) -> SimulatedFeed:
    instruments = list(
        Instrument.objects.filter(is_active=True).values_list(
            "symbol", "reference_price", "annual_volatility", "tick_size"
        )
    )
    return SimulatedFeed(
        instruments,
        seed=settings.MARKET_FEED_SEED,
        interval=settings.MARKET_FEED_INTERVAL,
        speedup=speedup,
        clock=clock_accelerated(settings.MARKET_FEED_CLOCK_SPEEDUP),
    )


def clock_accelerated(speedup: float) -> Callable[[], datetime] | None:
    """A clock that starts now and runs ``speedup`` times faster than the wall clock (None at 1: the real one)."""
    if speedup == 1:
        return None
    start, started = timezone.now(), time.monotonic()
    return lambda: start + timedelta(seconds=(time.monotonic() - started) * speedup)


def feed_run(stop: threading.Event, *, speedup: float = 60.0, feed: Feed | None = None) -> None:
    """Tick every instrument (or run the given feed) until stop is set; speedup makes the demo visibly move."""
    manager = market_data()
    subscriptions = subscribers_wire(manager)
    try:
        feed_serve(feed or simulated_feed_default(speedup=speedup), manager, stop)
    finally:
        for subscription in subscriptions:
            subscription.cancel()


def feed_start_in_background(*, feed: Feed | None = None) -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(target=feed_run, args=(stop,), kwargs={"feed": feed}, name="market-feed", daemon=True)
    thread.start()

    def shutdown() -> None:
        stop.set()
        thread.join(timeout=5)

    # Stop ticking before the interpreter tears down the executors the feed pushes through.
    threading._register_atexit(shutdown)
    return stop


__all__ = ["PRICES_GROUP", "feed_run", "feed_serve", "feed_start_in_background", "subscribers_wire"]
