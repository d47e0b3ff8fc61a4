"""Last prices shared across processes through the Django cache.

Local memory on the embedded default, Redis on the real stack: web processes,
Celery workers and the feed all read them. Beside each price the feed stores
when it last ticked (`pxat:`), and while a feed runs it keeps the `feed:running`
marker, so any process can tell a stale symbol from a quiet one.
"""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from trading.models import Instrument

PRICE_KEY = "px:{}"
PRICE_AT_KEY = "pxat:{}"
FEED_RUNNING_KEY = "feed:running"


def price_get(symbol: str) -> Decimal | None:
    cached = cache.get(PRICE_KEY.format(symbol))
    if cached is not None:
        return Decimal(cached)
    return Instrument.objects.filter(symbol=symbol, is_active=True).values_list("reference_price", flat=True).first()


def prices_get(symbols: Iterable[str]) -> dict[str, Decimal]:
    symbols = list(symbols)
    found = cache.get_many([PRICE_KEY.format(s) for s in symbols])
    prices = {s: Decimal(found[PRICE_KEY.format(s)]) for s in symbols if PRICE_KEY.format(s) in found}
    missing = [s for s in symbols if s not in prices]
    if missing:
        prices.update(Instrument.objects.filter(symbol__in=missing).values_list("symbol", "reference_price"))
    return prices


# What this process's own running feed knows of a symbol's freshness (None: ask the shared cache); the
# market data manager registers it when it is imported (it imports this module, not the other way round).
_local_staleness: Callable[[str], bool | None] | None = None


def local_staleness_register(source: Callable[[str], bool | None]) -> None:
    global _local_staleness
    _local_staleness = source


def prices_set(prices: dict[str, Decimal]) -> None:
    """Pin last prices (tests, tools); no tick time is written, so this never makes a symbol fresh or stale."""
    cache.set_many({PRICE_KEY.format(s): str(p) for s, p in prices.items()}, timeout=None)


def prices_publish(prices: dict[str, Decimal], *, now: datetime, feed_running: bool) -> None:
    """The feed's batched write: last prices with their tick time, and the feed's heartbeat, in one round trip."""
    stamp = repr(now.timestamp())
    values: dict[str, str] = {}
    for symbol, price in prices.items():
        values[PRICE_KEY.format(symbol)] = str(price)
        values[PRICE_AT_KEY.format(symbol)] = stamp
    if feed_running:
        values[FEED_RUNNING_KEY] = stamp
    if values:
        cache.set_many(values, timeout=None)


def feed_stopped() -> None:
    """A feed that stops cleanly says so; one that dies leaves the marker and its symbols turn stale."""
    cache.delete(FEED_RUNNING_KEY)


def stale_after_seconds() -> float:
    return float(getattr(settings, "MARKET_DATA_STALE_SECONDS", 10))


def price_updated_at(symbol: str) -> datetime | None:
    stamp = cache.get(PRICE_AT_KEY.format(symbol))
    return None if stamp is None else datetime.fromtimestamp(float(stamp), UTC)


def symbol_is_stale(symbol: str, now: datetime) -> bool:
    """True when a feed runs (in any process) and this symbol has not ticked within MARKET_DATA_STALE_SECONDS.

    With no feed running nothing is stale: prices are pinned or reference
    prices (tests, the spine before any feed starts). With a feed running, a
    symbol it never priced is stale: there is no live price to trade on.
    """
    local = _local_staleness(symbol) if _local_staleness is not None else None
    if local is not None:
        return local
    at_key = PRICE_AT_KEY.format(symbol)
    found = cache.get_many([at_key, FEED_RUNNING_KEY])
    if FEED_RUNNING_KEY not in found:
        return False
    stamp = found.get(at_key)
    if stamp is None:
        return True
    return now.timestamp() - float(stamp) > stale_after_seconds()
