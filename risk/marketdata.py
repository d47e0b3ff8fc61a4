"""The one place risk reaches into market data (owned by trading.marketdata).

Imports are made at call time: the market-data package is being reshaped, and
these names are the interface agreed with it (``price_get``, ``prices_get``,
``symbol_is_stale``, ``market_status``, ``market_data().subscribe_all``).
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from risk.core.rules import SESSION_CLOSED, SESSION_EXTENDED, SESSION_REGULAR


def _prices_module() -> Any:
    try:
        import trading.marketdata as module
        from trading.marketdata import prices_get  # noqa: F401
    except ImportError:
        import trading.marketdata.prices as module
    return module


def price_get(symbol: str) -> Decimal | None:
    return _prices_module().price_get(symbol)


def prices_get(symbols: Iterable[str]) -> dict[str, Decimal]:
    return _prices_module().prices_get(symbols)


def symbol_is_stale(symbol: str, now: datetime) -> bool:
    module = _prices_module()
    check = getattr(module, "symbol_is_stale", None)
    return bool(check(symbol, now)) if check else False


_SESSION_FOR_STATUS = {"open": SESSION_REGULAR, "pre_market": SESSION_EXTENDED, "post_market": SESSION_EXTENDED}


def market_session(exchange: str, now: datetime) -> str:
    """REGULAR, EXTENDED or CLOSED for the exchange at ``now`` (from exchange_calendars)."""
    from trading.marketdata.calendars import UnknownExchange, market_status

    try:
        status = market_status(exchange, now)
    except UnknownExchange:
        return SESSION_REGULAR  # a venue without a calendar trades whenever it accepts orders
    return _SESSION_FOR_STATUS.get(str(status.status), SESSION_CLOSED)


def price_stream_subscribe(
    handler: Callable[[Any], None], *, heartbeat: Callable[[], None] | None = None
) -> Callable[[], None] | None:
    """Subscribe ``handler(PriceUpdate(symbol, price, size, at))`` to every tick, and ``heartbeat()`` to every
    flush of the stream (ticking or not); None when no stream exists yet."""
    try:
        from trading.marketdata import market_data
    except ImportError:
        return None
    manager = market_data()
    subscriptions = [manager.subscribe_all(handler)]
    if heartbeat is not None:
        subscriptions.append(manager.subscribe_flush(heartbeat))

    def cancel() -> None:
        for subscription in subscriptions:
            subscription.cancel()

    return cancel
