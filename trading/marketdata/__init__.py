"""Market data: last prices, the MarketDataManager, feeds, bars and market status.

Public names other apps use (kept from the single-module version):
price_get, prices_get, prices_set, SimulatedFeed, feed_run,
feed_start_in_background, PRICES_GROUP; and now market_data(),
symbol_is_stale(), PriceUpdate. Last prices live in the Django cache (local
memory embedded, Redis on the real stack) so web processes, workers and the
feed share them; a symbol no feed has priced falls back to its instrument's
reference price.
"""

from trading.core.bars import PriceUpdate
from trading.marketdata.feeds.simulated import TRADING_SECONDS_PER_YEAR, SimulatedFeed
from trading.marketdata.manager import MarketDataManager, Subscription, UpdateResult, market_data
from trading.marketdata.prices import (
    PRICE_AT_KEY,
    PRICE_KEY,
    price_get,
    price_updated_at,
    prices_get,
    prices_set,
    symbol_is_stale,
)
from trading.marketdata.runner import PRICES_GROUP, feed_run, feed_start_in_background

__all__ = [
    "PRICES_GROUP",
    "PRICE_AT_KEY",
    "PRICE_KEY",
    "TRADING_SECONDS_PER_YEAR",
    "MarketDataManager",
    "PriceUpdate",
    "SimulatedFeed",
    "Subscription",
    "UpdateResult",
    "feed_run",
    "feed_start_in_background",
    "market_data",
    "price_get",
    "price_updated_at",
    "prices_get",
    "prices_set",
    "symbol_is_stale",
]
