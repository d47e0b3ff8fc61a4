"""The simulated feed: geometric Brownian motion per symbol with realistic volume, deterministic per seed."""

import hashlib
import math
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from trading.core.bars import PriceUpdate
from trading.marketdata.feeds.base import Feed, wait_maintaining

if TYPE_CHECKING:
    from trading.marketdata.manager import MarketDataManager

TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600
TRADING_SECONDS_PER_DAY = 6.5 * 3600


def daily_volume_default(symbol: str, price: Decimal) -> float:
    """A stable per-symbol average daily volume: dearer shares trade fewer of them (2M-30M shares)."""
    spread = int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:4], "big") / 2**32
    dollars = 2e9 * (0.5 + 2.5 * spread)
    return min(max(dollars / max(float(price), 1.0), 2e6), 3e7)


class SimulatedFeed(Feed):
    """Geometric Brownian motion per symbol, deterministic for a given seed.

    instruments: (symbol, start price, annual volatility, tick size), optionally
    a fifth item, the average daily volume in shares. Prices come from one
    random stream and volumes from another, so adding volume did not change
    the price path a seed gives.
    """

    name = "simulated"

    def __init__(
        self,
        instruments: Iterable[Sequence],
        *,
        seed: int,
        interval: timedelta = timedelta(milliseconds=250),
        speedup: float = 60.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._rng = random.Random(seed)
        self._volume_rng = random.Random(seed + 1)
        self._state: dict[str, tuple[float, float, Decimal]] = {}
        self._daily_volume: dict[str, float] = {}
        for symbol, price, volatility, tick_size, *rest in instruments:
            self._state[symbol] = (float(price), float(volatility), tick_size)
            self._daily_volume[symbol] = float(rest[0]) if rest else daily_volume_default(symbol, price)
        self.interval = interval
        self.speedup = speedup
        self._clock = clock

    @property
    def symbols(self) -> Sequence[str]:
        return list(self._state)

    def tick(self, elapsed: timedelta) -> dict[str, Decimal]:
        dt = elapsed.total_seconds() / TRADING_SECONDS_PER_YEAR
        prices: dict[str, Decimal] = {}
        for symbol, (price, volatility, tick_size) in self._state.items():
            shock = self._rng.gauss(0.0, 1.0)
            price *= math.exp(-0.5 * volatility**2 * dt + volatility * math.sqrt(dt) * shock)
            self._state[symbol] = (price, volatility, tick_size)
            prices[symbol] = (Decimal(repr(price)) / tick_size).quantize(Decimal(1), ROUND_HALF_EVEN) * tick_size
        return prices

    def updates(self, elapsed: timedelta, at: datetime) -> list[PriceUpdate]:
        """One tick of every symbol at `at`, with a traded size: the day's volume spread over the elapsed time."""
        share_of_day = elapsed.total_seconds() / TRADING_SECONDS_PER_DAY
        updates = []
        for symbol, price in self.tick(elapsed).items():
            # Lognormal noise around the mean (mean of the multiplier is 1).
            noise = self._volume_rng.lognormvariate(-0.125, 0.5)
            size = max(1, round(self._daily_volume[symbol] * share_of_day * noise))
            updates.append(PriceUpdate(symbol, price, Decimal(size), at))
        return updates

    def run(self, manager: "MarketDataManager", stop: threading.Event) -> None:
        clock = self._clock or timezone.now
        seconds = self.interval.total_seconds()
        while not wait_maintaining(manager, stop, seconds):
            for update in self.updates(self.interval * self.speedup, clock()):
                manager.handle_price_update(update)
            manager.maintain()
