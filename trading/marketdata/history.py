"""Bars in the database: the batched upsert the feed uses, the reads charts use, and feed-health alerts."""

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime

from django.db import transaction

from trading.core.bars import Bar as ClosedBar
from trading.core.feedhealth import Health, Transition
from trading.events.health import market_recovered_event, market_stale_event
from trading.models import Bar, Instrument

logger = logging.getLogger(__name__)

BARS_DEFAULT_LIMIT = 390  # one regular US session of minutes
BARS_MAX_LIMIT = 5000
BAR_BATCH_SIZE = 1000


def bars_persist(bars: Sequence[ClosedBar]) -> int:
    """Upsert closed bars on (symbol, minute) in batches: one statement per BAR_BATCH_SIZE bars.

    A bar written again (a restart inside a minute, a replay over stored
    history) replaces the earlier one.
    """
    if not bars:
        return 0
    rows = [
        Bar(symbol=b.symbol, minute=b.minute, open=b.open, high=b.high, low=b.low, close=b.close, volume=b.volume)
        for b in bars
    ]
    with transaction.atomic():
        Bar.objects.bulk_create(
            rows,
            batch_size=BAR_BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["symbol", "minute"],
            update_fields=["open", "high", "low", "close", "volume"],
        )
    return len(rows)


def bar_list(
    *, symbol: str, since: datetime | None = None, until: datetime | None = None, limit: int = BARS_DEFAULT_LIMIT
) -> list[Bar]:
    """The latest `limit` bars of a symbol in [since, until), oldest first."""
    bars = Bar.objects.filter(symbol=symbol)
    if since is not None:
        bars = bars.filter(minute__gte=since)
    if until is not None:
        bars = bars.filter(minute__lt=until)
    latest = list(bars.order_by("-minute")[:limit])
    latest.reverse()
    return latest


def exchange_list() -> list[str]:
    """The exchanges active instruments list on."""
    return list(Instrument.objects.filter(is_active=True).values_list("exchange", flat=True).distinct())


def feed_health_record(transitions: Sequence[Transition], *, stale_after_seconds: float) -> None:
    """One alert per transition: market.stale (WARNING) when a symbol goes quiet, market.recovered when it ticks."""
    for change in transitions:
        stale = change.health is Health.STALE
        record = market_stale_event if stale else market_recovered_event
        with transaction.atomic():
            record(change=change, stale_after_seconds=stale_after_seconds)
        log = logger.warning if stale else logger.info
        log("market data for %s %s (last update %s)", change.symbol, change.health.value, change.last_seen)


def bar_rows(*, symbol: str, since: datetime | None = None, until: datetime | None = None) -> list[tuple]:
    """A symbol's stored bars in [since, until), oldest first, as (minute, open, high, low, close, volume).

    For the backtester, which replays them whole (``bar_list`` serves charts, a page at a time).
    """
    bars = Bar.objects.filter(symbol=symbol)
    if since is not None:
        bars = bars.filter(minute__gte=since)
    if until is not None:
        bars = bars.filter(minute__lt=until)
    columns = ("minute", "open", "high", "low", "close", "volume")
    return list(bars.order_by("minute").values_list(*columns).iterator(chunk_size=10_000))


def bar_pages(
    *, symbol: str, since: datetime | None = None, until: datetime | None = None, size: int = 65_536
) -> Iterator[list[tuple]]:
    """``bar_rows`` a page of ``size`` at a time (keyset on the minute): memory flat in the bars replayed."""
    columns = ("minute", "open", "high", "low", "close", "volume")
    after = None
    while True:
        bars = Bar.objects.filter(symbol=symbol)
        if since is not None:
            bars = bars.filter(minute__gte=since)
        if until is not None:
            bars = bars.filter(minute__lt=until)
        if after is not None:
            bars = bars.filter(minute__gt=after)
        page = list(bars.order_by("minute").values_list(*columns)[:size])
        if page:
            yield page
        if len(page) < size:
            return
        after = page[-1][0]


def bars_count(*, symbol: str, since: datetime | None = None, until: datetime | None = None) -> int:
    bars = Bar.objects.filter(symbol=symbol)
    if since is not None:
        bars = bars.filter(minute__gte=since)
    if until is not None:
        bars = bars.filter(minute__lt=until)
    return bars.count()


def bar_symbols() -> list[str]:
    """The symbols with stored bars."""
    return sorted(Bar.objects.values_list("symbol", flat=True).distinct())


def bars_exist(*, symbol: str, since: datetime | None = None, until: datetime | None = None) -> bool:
    bars = Bar.objects.filter(symbol=symbol)
    if since is not None:
        bars = bars.filter(minute__gte=since)
    if until is not None:
        bars = bars.filter(minute__lt=until)
    return bars.exists()
