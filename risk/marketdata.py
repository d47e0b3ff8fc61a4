"""The one place risk reaches into market data (owned by trading.marketdata): last prices, staleness and the
exchange session, in the terms the risk rules use."""

from datetime import datetime

from risk.core.rules import SESSION_CLOSED, SESSION_EXTENDED, SESSION_REGULAR
from trading.marketdata.calendars import UnknownExchange, market_status
from trading.marketdata.prices import price_get, prices_get, symbol_is_stale

_SESSION_FOR_STATUS = {"open": SESSION_REGULAR, "pre_market": SESSION_EXTENDED, "post_market": SESSION_EXTENDED}


def market_session(exchange: str, now: datetime) -> str:
    """REGULAR, EXTENDED or CLOSED for the exchange at ``now`` (from exchange_calendars)."""
    try:
        status = market_status(exchange, now)
    except UnknownExchange:
        return SESSION_REGULAR  # a venue without a calendar trades whenever it accepts orders
    return _SESSION_FOR_STATUS.get(str(status.status), SESSION_CLOSED)


__all__ = ["market_session", "price_get", "prices_get", "symbol_is_stale"]
