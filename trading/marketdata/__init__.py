"""Market data: last prices, the MarketDataManager, feeds, bars and market status.

Last prices live in the Django cache (local memory embedded, Redis on the real
stack) so web processes, workers and the feed share them; a symbol no feed has
priced falls back to its instrument's reference price. The package itself
exports only those price reads (``trading.marketdata.prices``), which cost
nothing to import; the manager, feeds and calendars (pandas, exchange_calendars)
are imported from their modules by the processes that run them.
"""

from trading.marketdata.prices import (
    PRICE_AT_KEY,
    PRICE_KEY,
    price_get,
    price_updated_at,
    prices_get,
    prices_set,
    symbol_is_stale,
)

__all__ = ["PRICE_AT_KEY", "PRICE_KEY", "price_get", "price_updated_at", "prices_get", "prices_set", "symbol_is_stale"]
