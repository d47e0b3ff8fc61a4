"""Market status from exchange_calendars: open, closed, pre- and post-market, holidays, early closes."""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd

# Listing venues that trade NYSE hours; the calendar library has no calendar of their own.
EXCHANGE_ALIASES = {"ARCX": "XNYS", "NYSE": "XNYS", "XASE": "XNYS", "BATS": "XNYS", "NASDAQ": "XNAS"}
DEFAULT_EXCHANGES = ("XNYS", "XNAS")
# US extended hours: pre-market from 04:00, post-market to 20:00 (17:00 on an early-close day).
PRE_MARKET_OPENS = time(4, 0)
POST_MARKET_CLOSES = time(20, 0)
POST_MARKET_CLOSES_EARLY = time(17, 0)


class SessionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    PRE_MARKET = "pre_market"
    POST_MARKET = "post_market"


@dataclass(frozen=True)
class MarketStatus:
    exchange: str
    calendar: str
    status: SessionStatus
    at: datetime
    is_trading_day: bool
    is_holiday: bool
    is_early_close: bool
    session_open: datetime | None
    session_close: datetime | None
    next_open: datetime | None
    next_close: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status is SessionStatus.OPEN

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["is_open"] = self.is_open
        return data


class UnknownExchange(ValueError):
    pass


class OutsideCalendar(ValueError):
    """A moment before the calendar's first session or after its last (it spans 20 years back to one ahead)."""


def calendar_name(exchange: str) -> str:
    name = EXCHANGE_ALIASES.get(exchange.upper(), exchange.upper())
    if name not in _calendar_names():
        raise UnknownExchange(f"{exchange} is not an exchange with a known trading calendar.")
    return name


@lru_cache(maxsize=1)
def _calendar_names() -> frozenset[str]:
    return frozenset(xcals.get_calendar_names(include_aliases=True))


@lru_cache(maxsize=16)
def _calendar(name: str) -> xcals.ExchangeCalendar:
    # Built once per process (about 0.1 s); the library spans 20 years back to a year ahead.
    return xcals.get_calendar(name)


def _py(ts: pd.Timestamp | None) -> datetime | None:
    return None if ts is None or pd.isna(ts) else ts.to_pydatetime().astimezone(UTC)


def market_status(exchange: str, now: datetime) -> MarketStatus:
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone.")
    name = calendar_name(exchange)
    cal = _calendar(name)
    zone = ZoneInfo(str(cal.tz))
    first, last = cal.first_session.date(), cal.last_session.date()
    try:
        local = now.astimezone(zone)
    except OverflowError:
        local = None  # year 1 or 9999: nowhere near the calendar
    if local is None or not first <= local.date() <= last:
        raise OutsideCalendar(f"The {name} calendar covers {first.isoformat()} to {last.isoformat()}.")
    day = pd.Timestamp(local.date())
    minute = pd.Timestamp(now).tz_convert(UTC).floor("min")
    is_session = bool(cal.is_session(day))
    session_open = session_close = None
    is_early_close = False
    status = SessionStatus.CLOSED
    if is_session:
        session_open = _py(cal.session_open(day))
        session_close = _py(cal.session_close(day))
        is_early_close = day in cal.early_closes
        post_closes = POST_MARKET_CLOSES_EARLY if is_early_close else POST_MARKET_CLOSES
        pre_start = datetime.combine(local.date(), PRE_MARKET_OPENS, zone)
        post_end = datetime.combine(local.date(), post_closes, zone)
        if session_open <= now < session_close:
            status = SessionStatus.OPEN
        elif pre_start <= now < session_open:
            status = SessionStatus.PRE_MARKET
        elif session_close <= now < post_end:
            status = SessionStatus.POST_MARKET
    next_open = next_close = None
    try:
        next_open = _py(cal.next_open(minute))
        next_close = _py(cal.next_close(minute))
    except (ValueError, xcals.errors.MinuteOutOfBounds):
        pass  # beyond the calendar's horizon: unknown rather than wrong
    if status is SessionStatus.OPEN:
        next_close = session_close
    return MarketStatus(
        exchange=exchange.upper(),
        calendar=name,
        status=status,
        at=now,
        is_trading_day=is_session,
        is_holiday=not is_session and local.weekday() < 5,
        is_early_close=is_early_close,
        session_open=session_open,
        session_close=session_close,
        next_open=next_open,
        next_close=next_close,
    )
