"""Last prices and the simulated market feed.

Last prices live in the Django cache (local memory embedded, Redis on the real
stack) so that web processes, workers and the feed share them. A symbol the
feed has not priced yet falls back to its instrument's reference price.
"""

import logging
import math
import random
import threading
import time
from collections.abc import Iterable
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

PRICE_KEY = "px:{}"
PRICES_GROUP = "prices"
TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600


def price_get(symbol: str) -> Decimal | None:
    cached = cache.get(PRICE_KEY.format(symbol))
    if cached is not None:
        return Decimal(cached)
    from trading.models import Instrument

    return Instrument.objects.filter(symbol=symbol, is_active=True).values_list("reference_price", flat=True).first()


def prices_get(symbols: Iterable[str]) -> dict[str, Decimal]:
    symbols = list(symbols)
    found = cache.get_many([PRICE_KEY.format(s) for s in symbols])
    prices = {s: Decimal(found[PRICE_KEY.format(s)]) for s in symbols if PRICE_KEY.format(s) in found}
    missing = [s for s in symbols if s not in prices]
    if missing:
        from trading.models import Instrument

        prices.update(Instrument.objects.filter(symbol__in=missing).values_list("symbol", "reference_price"))
    return prices


def prices_set(prices: dict[str, Decimal]) -> None:
    cache.set_many({PRICE_KEY.format(s): str(p) for s, p in prices.items()}, timeout=None)


class SimulatedFeed:
    """Geometric Brownian motion per symbol, deterministic for a given seed."""

    def __init__(self, instruments: Iterable[tuple[str, Decimal, Decimal, Decimal]], *, seed: int) -> None:
        # (symbol, start price, annual volatility, tick size)
        self._rng = random.Random(seed)
        self._state = {s: (float(p), float(v), t) for s, p, v, t in instruments}

    def tick(self, elapsed: timedelta) -> dict[str, Decimal]:
        dt = elapsed.total_seconds() / TRADING_SECONDS_PER_YEAR
        prices: dict[str, Decimal] = {}
        for symbol, (price, volatility, tick_size) in self._state.items():
            shock = self._rng.gauss(0.0, 1.0)
            price *= math.exp(-0.5 * volatility**2 * dt + volatility * math.sqrt(dt) * shock)
            self._state[symbol] = (price, volatility, tick_size)
            prices[symbol] = (Decimal(repr(price)) / tick_size).quantize(Decimal(1), ROUND_HALF_EVEN) * tick_size
        return prices


def feed_run(stop: threading.Event, *, speedup: float = 60.0) -> None:
    """Tick every instrument until stop is set; speedup makes the demo visibly move."""
    from trading.bus import group_send_many
    from trading.models import Instrument
    from trading.services import orders_trigger_on_prices

    instruments = list(
        Instrument.objects.filter(is_active=True).values_list(
            "symbol", "reference_price", "annual_volatility", "tick_size"
        )
    )
    feed = SimulatedFeed(instruments, seed=settings.MARKET_FEED_SEED)
    interval = settings.MARKET_FEED_INTERVAL
    pushed_at = 0.0
    while not stop.wait(interval.total_seconds()):
        prices = feed.tick(interval * speedup)
        prices_set(prices)
        now = timezone.now()
        try:
            orders_trigger_on_prices(prices, now=now)
        except Exception:
            # The feed must keep ticking; a failed trigger is retried on the next tick.
            logger.exception("resting-order check failed")
        if time.monotonic() - pushed_at >= settings.MARKET_PUSH_INTERVAL.total_seconds():
            pushed_at = time.monotonic()
            group_send_many(
                [PRICES_GROUP],
                {"type": "prices.message", "prices": {s: str(p) for s, p in prices.items()}, "at": now.isoformat()},
            )


def feed_start_in_background() -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(target=feed_run, args=(stop,), name="market-feed", daemon=True)
    thread.start()

    def shutdown() -> None:
        stop.set()
        thread.join(timeout=5)

    # Stop ticking before the interpreter tears down the executors the feed pushes through.
    threading._register_atexit(shutdown)
    return stop
