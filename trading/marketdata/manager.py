"""The market data manager: one per process, fed by one feed, fanning every tick out to subscribers.

Per tick everything stays in memory: the last price, the open 1-minute bar and
a synchronous call to each subscriber (risk stops, strategy generators). All
I/O is batched in `flush`, at most every `flush_interval` or `flush_every`
ticks: last prices and their tick time to the cache in one `set_many`, closed
bars to the database in one upsert, stale/recovered alerts, and the batched
subscribers (the paper broker's resting orders, the browsers' price push).

Threading: the manager has a single writer. `handle_price_update`, `maintain`
and `flush` run on the feed's thread (callback feeds hand their ticks over
through a queue); subscribing and cancelling are safe from any thread, and
reads see a consistent last price.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.utils import timezone

from trading.core.bars import Bar, BarAggregator, PriceUpdate
from trading.core.feedhealth import StalenessTracker, Transition
from trading.marketdata import prices as price_store
from trading.marketdata.calendars import MarketStatus, UnknownExchange, calendar_name, market_status
from trading.marketdata.history import bars_persist, feed_health_record
from trading.models import Instrument

logger = logging.getLogger(__name__)

PriceHandler = Callable[[PriceUpdate], None]
# handler(bars: list[Bar]): closed 1-minute bars, oldest first, once they are stored
BarHandler = Callable[[list[Bar]], None]
# handler(prices: dict[str, Decimal], *, now: datetime[, volumes: dict[str, Decimal]])
BatchHandler = Callable[..., Any]

_MAX_PRICE = Decimal("1e12")
_ZERO = Decimal(0)
# A bar stays open this long past its minute for ticks that arrive slightly out of order across symbols.
BAR_CLOSE_GRACE = timedelta(seconds=5)


class UpdateResult(NamedTuple):
    accepted: bool
    delivered: int = 0
    failed: int = 0
    reason: str = ""


REFUSED_PRICE = UpdateResult(False, reason="price_not_positive_finite")
REFUSED_OUT_OF_ORDER = UpdateResult(False, reason="older_than_last_update")
REFUSED_TIME = UpdateResult(False, reason="time_without_zone")


class Subscription:
    __slots__ = ("_manager", "active", "handler", "symbol")

    def __init__(self, manager: "MarketDataManager", symbol: str | None, handler: Callable[..., Any]) -> None:
        self._manager = manager
        self.symbol = symbol
        self.handler = handler
        self.active = True

    def cancel(self) -> None:
        if self.active:
            self.active = False
            self._manager._unsubscribe(self)

    def __repr__(self) -> str:
        return f"<Subscription {self.symbol or '*'} {self.handler!r}{'' if self.active else ' canceled'}>"


class _Batched:
    __slots__ = ("handler", "interval", "next_due", "pending", "subscription", "traded", "with_volumes")

    def __init__(
        self, handler: BatchHandler, interval: float, subscription: Subscription, *, with_volumes: bool
    ) -> None:
        self.handler = handler
        self.interval = interval
        self.next_due = 0.0
        self.pending: dict[str, Decimal] = {}
        self.traded: dict[str, Decimal] = {}
        self.with_volumes = with_volumes
        self.subscription = subscription


class MarketDataManager:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = timezone.now,
        monotonic: Callable[[], float] = time.monotonic,
        stale_after: timedelta | None = None,
        flush_interval: timedelta = timedelta(milliseconds=100),
        flush_every: int = 10_000,
        price_writer: Callable[..., None] | None = None,
        bar_writer: Callable[[list[Bar]], int] | None = None,
        alert_writer: Callable[..., None] | None = None,
        max_pending_bars: int = 100_000,
    ) -> None:
        self._clock = clock
        self._monotonic = monotonic
        seconds = price_store.stale_after_seconds() if stale_after is None else stale_after.total_seconds()
        self.stale_after = timedelta(seconds=seconds)
        self.tracker = StalenessTracker(self.stale_after)
        self.bars = BarAggregator(max_pending=max_pending_bars)
        self._flush_seconds = flush_interval.total_seconds()
        self._flush_every = flush_every
        self._price_writer = price_writer or price_store.prices_publish
        self._bar_writer = bar_writer
        self._alert_writer = alert_writer
        self._last: dict[str, PriceUpdate] = {}
        self._dirty: dict[str, PriceUpdate] = {}
        self._traded: dict[str, Decimal] = {}
        self._feed_clock: datetime | None = None
        self._count = 0
        self._flushed_count = 0
        self._next_flush = monotonic() + self._flush_seconds
        self.feed_running = False
        self.refused = 0
        # Subscribers: rebuilt copies swapped in whole, so the tick path reads them without a lock.
        self._subscribe_lock = threading.Lock()
        self._all_subs: list[Subscription] = []
        self._symbol_subs: dict[str, list[Subscription]] = {}
        self._batched: list[_Batched] = []
        self._flush_hooks: tuple[Callable[[], None], ...] = ()
        self._bar_handlers: tuple[tuple[Subscription, BarHandler], ...] = ()
        self._all: tuple[tuple[PriceHandler, ...], UpdateResult] = ((), UpdateResult(True))
        self._fanout: dict[str, tuple[tuple[PriceHandler, ...], UpdateResult]] = {}
        self._exchange_of: dict[str, str] = {}

    # Subscribers -----------------------------------------------------------------------------------
    def subscribe_to_symbol(self, symbol: str, handler: PriceHandler) -> Subscription:
        """handler(update) on every tick of this symbol, synchronously on the feed's thread."""
        subscription = Subscription(self, symbol, handler)
        with self._subscribe_lock:
            self._symbol_subs.setdefault(symbol, []).append(subscription)
            self._rebuild()
        return subscription

    def subscribe_all(self, handler: PriceHandler) -> Subscription:
        """handler(update) on every tick of every symbol (risk stops); keep it fast, it runs per tick."""
        subscription = Subscription(self, None, handler)
        with self._subscribe_lock:
            self._all_subs.append(subscription)
            self._rebuild()
        return subscription

    def subscribe_batched(
        self, handler: BatchHandler, *, interval: timedelta, with_volumes: bool = False
    ) -> Subscription:
        """handler(prices, now=...) at most every interval with the latest price of each symbol that ticked.

        with_volumes: also volumes=..., the shares traded in each symbol since the handler's last call
        (symbols whose feed reports no trade sizes are left out).
        """
        subscription = Subscription(self, None, handler)
        batched = _Batched(handler, interval.total_seconds(), subscription, with_volumes=with_volumes)
        with self._subscribe_lock:
            self._batched = [*self._batched, batched]
        return subscription

    def subscribe_flush(self, handler: Callable[[], None]) -> Subscription:
        """handler() after every flush (at least every flush_interval while a feed runs or waits): heartbeats."""
        subscription = Subscription(self, None, handler)
        with self._subscribe_lock:
            self._flush_hooks = (*self._flush_hooks, handler)
        return subscription

    def subscribe_bars(self, handler: BarHandler) -> Subscription:
        """handler(bars) with each batch of closed 1-minute bars once they are written (at a flush, on the
        feed's thread; the strategy generators): every bar once, oldest first. Keep it quick: hand work off."""
        subscription = Subscription(self, None, handler)
        with self._subscribe_lock:
            self._bar_handlers = (*self._bar_handlers, (subscription, handler))
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._subscribe_lock:
            self._bar_handlers = tuple(pair for pair in self._bar_handlers if pair[0] is not subscription)
            self._batched = [b for b in self._batched if b.subscription is not subscription]
            self._flush_hooks = tuple(h for h in self._flush_hooks if h is not subscription.handler)
            if subscription in self._all_subs:
                self._all_subs.remove(subscription)
            subs = self._symbol_subs.get(subscription.symbol or "")
            if subs and subscription in subs:
                subs.remove(subscription)
            self._rebuild()

    def _rebuild(self) -> None:
        every = tuple(s.handler for s in self._all_subs)
        self._all = (every, UpdateResult(True, len(every)))
        fanout = {}
        for symbol, subs in self._symbol_subs.items():
            handlers = every + tuple(s.handler for s in subs)
            fanout[symbol] = (handlers, UpdateResult(True, len(handlers)))
        self._fanout = fanout

    # The tick path ---------------------------------------------------------------------------------
    def handle_price_update(self, update: PriceUpdate) -> UpdateResult:
        symbol, price, size, at = update
        last = self._last.get(symbol)
        try:
            if not 0 < price < _MAX_PRICE:
                self.refused += 1
                return REFUSED_PRICE
            if last is not None and at < last.at:
                self.refused += 1
                return REFUSED_OUT_OF_ORDER
            self.bars.add(symbol, price, size, at)
        except (InvalidOperation, TypeError, ValueError):
            self.refused += 1
            return REFUSED_PRICE if isinstance(price, Decimal) and not price.is_finite() else REFUSED_TIME
        self._last[symbol] = update
        self._dirty[symbol] = update
        if size:
            self._traded[symbol] = self._traded.get(symbol, _ZERO) + size
        handlers, result = self._fanout.get(symbol, self._all)
        failed = 0
        for handler in handlers:
            try:
                handler(update)
            except Exception:
                # One faulty subscriber must not starve the others of the tick.
                failed += 1
                logger.exception("price subscriber %r failed on %s", handler, symbol)
        self._count += 1
        if not self._count & 63 and (
            self._monotonic() >= self._next_flush or self._count - self._flushed_count >= self._flush_every
        ):
            self.flush()
        if failed:
            return UpdateResult(True, len(handlers), failed)
        return result

    def maintain(self) -> None:
        """Flush if it is due; feeds call this while they wait so quiet periods still flush and sweep."""
        if self._monotonic() >= self._next_flush:
            self.flush()

    # Batched I/O -----------------------------------------------------------------------------------
    def flush(self, now: datetime | None = None, *, close_bars: bool = False) -> None:
        now = now or self._clock()
        mono = self._monotonic()
        self._next_flush = mono + self._flush_seconds
        self._flushed_count = self._count
        dirty, self._dirty = self._dirty, {}
        traded, self._traded = self._traded, {}
        prices = {symbol: update.price for symbol, update in dirty.items()}
        if prices or self.feed_running:
            try:
                self._price_writer(prices, now=now, feed_running=self.feed_running)
            except Exception:
                # Other processes see older prices until the next flush; this process keeps the truth in memory.
                logger.exception("could not write %d last prices to the cache", len(prices))
        self._health(dirty.keys(), now)
        if dirty:
            newest = max(update.at for update in dirty.values())
            if self._feed_clock is None or newest > self._feed_clock:
                self._feed_clock = newest
        if close_bars and self._feed_clock is not None:
            self.bars.close_until(self._feed_clock + timedelta(minutes=1))
        elif self._feed_clock is not None:
            self.bars.close_until(self._feed_clock - BAR_CLOSE_GRACE)
        self._write_bars()
        for batched in self._batched:
            batched.pending.update(prices)
            if batched.with_volumes:
                for symbol, size in traded.items():
                    batched.traded[symbol] = batched.traded.get(symbol, _ZERO) + size
            if batched.pending and mono >= batched.next_due:
                pending, batched.pending = batched.pending, {}
                # A little slack so a feed ticking exactly at the interval is not skipped every other time.
                batched.next_due = mono + 0.9 * batched.interval
                try:
                    if batched.with_volumes:
                        volumes, batched.traded = batched.traded, {}
                        batched.handler(pending, now=now, volumes=volumes)
                    else:
                        batched.handler(pending, now=now)
                except Exception:
                    logger.exception("batched price subscriber %r failed", batched.handler)
        for hook in self._flush_hooks:
            try:
                hook()
            except Exception:
                logger.exception("flush hook %r failed", hook)

    def _health(self, ticked: Iterable[str], now: datetime) -> None:
        recovered, gaps = self.tracker.seen(ticked, now)
        for gap in gaps:
            logger.warning(
                "gap in %s market data: %.1f s without an update (usually %.2f s)",
                gap.symbol,
                gap.silence.total_seconds(),
                gap.usual.total_seconds(),
            )
        changes: list[Transition] = recovered
        if self.feed_running:
            changes = [*recovered, *self.tracker.sweep(now)]
        if changes:
            try:
                self._alerts(changes)
            except Exception:
                logger.exception("could not record %d feed-health alerts", len(changes))

    def _alerts(self, changes: list[Transition]) -> None:
        if self._alert_writer is not None:
            self._alert_writer(changes, stale_after_seconds=self.stale_after.total_seconds())
            return
        feed_health_record(changes, stale_after_seconds=self.stale_after.total_seconds())

    def _write_bars(self) -> None:
        if not self.bars.pending:
            return
        writer = self._bar_writer or bars_persist
        batch = self.bars.drain(5000)
        try:
            writer(batch)
        except Exception:
            # Keep them (bounded) and try again at the next flush.
            self.bars.requeue(batch)
            logger.exception("could not write %d bars; %d waiting", len(batch), self.bars.pending)
            return
        for _, handler in self._bar_handlers:
            try:
                handler(batch)
            except Exception:
                logger.exception("bar subscriber %r failed on %d bars", handler, len(batch))

    # Feed lifecycle --------------------------------------------------------------------------------
    def feed_started(self, symbols: Iterable[str], now: datetime | None = None) -> None:
        self.feed_running = True
        self.tracker.expect(symbols, now or self._clock())
        self.flush(now)

    def feed_stopped(self, now: datetime | None = None) -> None:
        self.feed_running = False
        self.flush(now, close_bars=True)
        try:
            price_store.feed_stopped()
        except Exception:
            logger.exception("could not clear the feed marker")

    # Reads -----------------------------------------------------------------------------------------
    @property
    def flush_interval_seconds(self) -> float:
        return self._flush_seconds

    @property
    def updates_handled(self) -> int:
        return self._count

    def last_update(self, symbol: str) -> PriceUpdate | None:
        return self._last.get(symbol)

    def get_current_price(self, symbol: str) -> Decimal | None:
        """This process's last tick, else the shared cache, else the instrument's reference price."""
        last = self._last.get(symbol)
        if last is not None:
            return last.price
        return price_store.price_get(symbol)

    def is_stale(self, symbol: str, now: datetime | None = None) -> bool:
        if self.feed_running and self.tracker.knows(symbol):
            return self.tracker.is_stale(symbol)
        return price_store.symbol_is_stale(symbol, now or self._clock())

    def exchange_for(self, exchange_or_symbol: str) -> str:
        key = exchange_or_symbol.upper()
        try:
            calendar_name(key)
            return key
        except UnknownExchange:
            pass
        exchange = self._exchange_of.get(key)
        if exchange is None:
            exchange = Instrument.objects.filter(symbol=key).values_list("exchange", flat=True).first()
            if exchange is None:
                raise UnknownExchange(f"{exchange_or_symbol} is neither a known exchange nor an instrument.")
            self._exchange_of[key] = exchange
        return exchange

    def get_market_status(self, exchange_or_symbol: str, now: datetime | None = None) -> MarketStatus:
        return market_status(self.exchange_for(exchange_or_symbol), now or self._clock())


_manager: MarketDataManager | None = None
_manager_lock = threading.Lock()


def market_data() -> MarketDataManager:
    """This process's manager, made on first use."""
    global _manager
    if _manager is None:
        with _manager_lock:
            if _manager is None:
                _manager = MarketDataManager()
    return _manager


def market_data_reset() -> None:
    """Forget this process's manager (tests)."""
    global _manager
    with _manager_lock:
        _manager = None


def local_staleness(symbol: str) -> bool | None:
    """What this process's running feed knows about a symbol, or None to ask the shared cache."""
    manager = _manager
    if manager is None or not manager.feed_running or not manager.tracker.knows(symbol):
        return None
    return manager.tracker.is_stale(symbol)


price_store.local_staleness_register(local_staleness)
