"""Market data: the pure core (bars, staleness, stops), calendars, the manager, feeds, the API."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse

from trading.brokers.ib_feed import IbFeed
from trading.core.bars import Bar as ClosedBar
from trading.core.bars import BarAggregator, PriceUpdate
from trading.core.feedhealth import Health, StalenessTracker, backoff_delays
from trading.marketdata import PRICE_AT_KEY, PRICE_KEY, symbol_is_stale
from trading.marketdata.calendars import SessionStatus, UnknownExchange, market_status
from trading.marketdata.feeds.base import Feed, FeedDisconnected, FeedFatal
from trading.marketdata.feeds.replay import ReplayFeed
from trading.marketdata.feeds.simulated import SimulatedFeed
from trading.marketdata.manager import MarketDataManager, market_data_reset
from trading.marketdata.prices import FEED_RUNNING_KEY
from trading.marketdata.runner import feed_serve
from trading.models import Bar, Event

ET = ZoneInfo("America/New_York")
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SYMBOLS = ["AAPL", "MSFT", "ZZTEST"]


def d(value: str) -> Decimal:
    return Decimal(value)


def tick(symbol: str, price: str, at: datetime, size: str = "1") -> PriceUpdate:
    return PriceUpdate(symbol, d(price), d(size), at)


@pytest.fixture(autouse=True)
def clean_shared_cache():
    keys = [FEED_RUNNING_KEY, *(k.format(s) for s in SYMBOLS for k in (PRICE_KEY, PRICE_AT_KEY))]
    cache.delete_many(keys)
    market_data_reset()
    yield
    cache.delete_many(keys)
    market_data_reset()


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now
        self.mono = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


class Recorder:
    def __init__(self) -> None:
        self.prices: list[dict] = []
        self.bars: list[ClosedBar] = []
        self.alerts: list = []

    def price_writer(self, prices, *, now, feed_running):
        self.prices.append(dict(prices))

    def bar_writer(self, bars):
        self.bars.extend(bars)
        return len(bars)

    def alert_writer(self, changes, *, stale_after_seconds):
        self.alerts.extend(changes)


def manager_for_test(clock: FakeClock, recorder: Recorder | None = None, **kwargs) -> MarketDataManager:
    recorder = recorder or Recorder()
    return MarketDataManager(
        clock=clock,
        monotonic=clock.monotonic,
        stale_after=timedelta(seconds=10),
        price_writer=recorder.price_writer,
        bar_writer=recorder.bar_writer,
        alert_writer=recorder.alert_writer,
        **kwargs,
    )


# The bar aggregator ---------------------------------------------------------------------------------
def test_ticks_within_a_minute_make_one_bar_and_the_next_minute_closes_it():
    bars = BarAggregator()
    minute = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    for seconds, price, size in [(0, "10", "5"), (20, "12", "1"), (40, "9", "2"), (59.999, "11", "3")]:
        assert bars.add("AAPL", d(price), d(size), minute + timedelta(seconds=seconds))
    assert bars.pending == 0  # still open: nothing is handed out before the minute ends
    bars.add("AAPL", d("11.5"), d("1"), minute + timedelta(minutes=1))
    assert bars.drain() == [ClosedBar("AAPL", minute, d("10"), d("12"), d("9"), d("11"), d("11"))]
    assert bars.open_bar("AAPL").minute == minute + timedelta(minutes=1)


def test_bar_minutes_are_utc_and_a_tick_before_the_open_bar_is_refused():
    bars = BarAggregator()
    local = datetime(2026, 3, 2, 10, 0, 30, tzinfo=ET)
    bars.add("AAPL", d("10"), d("1"), local)
    assert bars.open_bar("AAPL").minute == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert not bars.add("AAPL", d("10"), d("1"), local - timedelta(minutes=1))
    with pytest.raises(ValueError, match="time zone"):
        bars.add("MSFT", d("10"), d("1"), datetime(2026, 3, 2, 15, 0))


def test_quiet_symbols_close_by_time_and_the_outbox_is_bounded():
    bars = BarAggregator(max_pending=2)
    for i, symbol in enumerate(["A", "B", "C"]):
        bars.add(symbol, d("1"), d("1"), T0 + timedelta(seconds=i))
    assert bars.close_until(T0 + timedelta(seconds=59)) == 0
    assert bars.close_until(T0 + timedelta(minutes=1)) == 3
    assert bars.pending == 2 and bars.dropped == 1
    assert [b.symbol for b in bars.drain()] == ["B", "C"]


# Staleness, gaps and backoff ------------------------------------------------------------------------
def test_a_symbol_goes_stale_once_and_recovers_once():
    tracker = StalenessTracker(timedelta(seconds=10))
    tracker.expect(["AAPL", "MSFT"], T0)
    tracker.seen(["AAPL"], T0 + timedelta(seconds=1))
    assert tracker.sweep(T0 + timedelta(seconds=10)) == []
    went = tracker.sweep(T0 + timedelta(seconds=11))
    assert [(t.symbol, t.health) for t in went] == [("MSFT", Health.STALE)]  # expected, never ticked
    went = tracker.sweep(T0 + timedelta(seconds=12))
    assert [(t.symbol, t.health) for t in went] == [("AAPL", Health.STALE)]
    assert tracker.sweep(T0 + timedelta(seconds=60)) == []  # no repeat while it stays stale
    recovered, _ = tracker.seen(["AAPL"], T0 + timedelta(seconds=61))
    assert [(t.symbol, t.health) for t in recovered] == [("AAPL", Health.RECOVERED)]
    assert tracker.seen(["AAPL"], T0 + timedelta(seconds=62))[0] == []
    assert tracker.is_stale("MSFT") and not tracker.is_stale("AAPL")


def test_a_silence_far_above_the_usual_interval_is_a_gap():
    tracker = StalenessTracker(timedelta(seconds=60))
    for i in range(10):
        assert tracker.seen(["AAPL"], T0 + timedelta(seconds=i * 0.25))[1] == []
    _, gaps = tracker.seen(["AAPL"], T0 + timedelta(seconds=2.25 + 5))
    assert [g.symbol for g in gaps] == ["AAPL"] and gaps[0].silence == timedelta(seconds=5)


def test_backoff_doubles_and_is_capped():
    delays = backoff_delays(base=1, cap=8)
    assert [next(delays) for _ in range(6)] == [1, 2, 4, 8, 8, 8]


# Market status ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("exchange", "when", "status"),
    [
        ("XNYS", datetime(2026, 1, 14, 15, 0, tzinfo=UTC), SessionStatus.OPEN),  # 10:00 EST, a Wednesday
        ("XNYS", datetime(2026, 1, 14, 8, 0, tzinfo=ET), SessionStatus.PRE_MARKET),
        ("XNYS", datetime(2026, 1, 14, 17, 0, tzinfo=ET), SessionStatus.POST_MARKET),
        ("XNYS", datetime(2026, 1, 14, 21, 0, tzinfo=ET), SessionStatus.CLOSED),
        ("XNYS", datetime(2026, 1, 17, 12, 0, tzinfo=ET), SessionStatus.CLOSED),  # Saturday
        ("XNAS", datetime(2026, 7, 15, 10, 0, tzinfo=ET), SessionStatus.OPEN),
        ("ARCX", datetime(2026, 1, 14, 15, 0, tzinfo=UTC), SessionStatus.OPEN),
    ],
)
def test_market_status_on_known_moments(exchange, when, status):
    assert market_status(exchange, when).status is status


def test_christmas_is_a_holiday():
    status = market_status("XNYS", datetime(2026, 12, 25, 11, 0, tzinfo=ET))
    assert status.status is SessionStatus.CLOSED and status.is_holiday and not status.is_trading_day
    assert status.next_open == datetime(2026, 12, 28, 9, 30, tzinfo=ET)


def test_the_day_after_thanksgiving_closes_early_at_13_00():
    day = datetime(2026, 11, 27, 12, 59, tzinfo=ET)
    status = market_status("XNYS", day)
    assert status.status is SessionStatus.OPEN and status.is_early_close
    assert status.session_close == datetime(2026, 11, 27, 13, 0, tzinfo=ET) == status.next_close
    assert market_status("XNYS", datetime(2026, 11, 27, 13, 0, tzinfo=ET)).status is SessionStatus.POST_MARKET
    assert market_status("XNYS", datetime(2026, 11, 27, 17, 30, tzinfo=ET)).status is SessionStatus.CLOSED
    assert not market_status("XNYS", datetime(2026, 11, 25, 12, 0, tzinfo=ET)).is_early_close


def test_an_unknown_exchange_is_refused():
    with pytest.raises(UnknownExchange):
        market_status("NOPE", T0)


@pytest.mark.django_db
def test_manager_resolves_a_symbol_to_its_exchange(demo):
    from trading.marketdata.calendars import calendar_name
    from trading.models import Instrument

    listed = Instrument.objects.get(symbol="AAPL").exchange
    status = MarketDataManager().get_market_status("aapl", datetime(2026, 1, 14, 15, 0, tzinfo=UTC))
    assert status.calendar == calendar_name(listed) and status.is_open
    with pytest.raises(UnknownExchange):
        MarketDataManager().get_market_status("NOSUCH", T0)


# The manager ---------------------------------------------------------------------------------------
def test_fan_out_reaches_symbol_and_all_subscribers_and_a_raising_one_does_not_stop_it(caplog):
    clock = FakeClock()
    manager = manager_for_test(clock)
    seen_all, seen_aapl, seen_msft = [], [], []

    def broken(update):
        raise RuntimeError("subscriber bug")

    manager.subscribe_all(broken)
    manager.subscribe_all(seen_all.append)
    manager.subscribe_to_symbol("AAPL", seen_aapl.append)
    msft = manager.subscribe_to_symbol("MSFT", seen_msft.append)
    result = manager.handle_price_update(tick("AAPL", "100", T0))
    assert result.accepted and result.delivered == 3 and result.failed == 1
    manager.handle_price_update(tick("MSFT", "400", T0))
    msft.cancel()
    manager.handle_price_update(tick("MSFT", "401", T0 + timedelta(seconds=1)))
    assert [u.price for u in seen_all] == [d("100"), d("400"), d("401")]
    assert [u.price for u in seen_aapl] == [d("100")]
    assert [u.price for u in seen_msft] == [d("400")]
    assert "subscriber bug" in caplog.text
    assert manager.get_current_price("MSFT") == d("401")


def test_bad_and_out_of_order_ticks_are_refused_and_not_fanned_out():
    manager = manager_for_test(FakeClock())
    seen = []
    manager.subscribe_all(seen.append)
    assert manager.handle_price_update(tick("AAPL", "100", T0)).accepted
    assert manager.handle_price_update(tick("AAPL", "99", T0 - timedelta(seconds=1))).reason == "older_than_last_update"
    assert manager.handle_price_update(tick("AAPL", "0", T0)).reason == "price_not_positive_finite"
    assert manager.handle_price_update(tick("AAPL", "NaN", T0)).reason == "price_not_positive_finite"
    assert not manager.handle_price_update(PriceUpdate("MSFT", d("1"), d("1"), datetime(2026, 1, 1))).accepted
    assert len(seen) == 1 and manager.get_current_price("AAPL") == d("100")


def test_cache_writes_are_batched_and_batched_subscribers_get_the_latest_prices():
    clock = FakeClock()
    recorder = Recorder()
    manager = manager_for_test(clock, recorder)
    batches = []
    manager.subscribe_batched(lambda prices, *, now: batches.append(prices), interval=timedelta(seconds=1))
    for i in range(500):
        manager.handle_price_update(tick("AAPL", str(100 + i), T0 + timedelta(milliseconds=i)))
    assert recorder.prices == [] and batches == []  # nothing per tick
    manager.flush()
    assert recorder.prices == [{"AAPL": d("599")}] and batches == [{"AAPL": d("599")}]
    manager.handle_price_update(tick("MSFT", "400", T0 + timedelta(seconds=1)))
    clock.advance(0.5)
    manager.flush()
    assert batches == [{"AAPL": d("599")}]  # not due yet
    clock.advance(0.5)
    manager.maintain()
    assert batches[-1] == {"MSFT": d("400")} and len(recorder.prices) == 2  # nothing new, nothing written


def test_a_batched_subscriber_with_volumes_gets_what_traded_since_its_last_call():
    clock = FakeClock()
    manager = manager_for_test(clock, Recorder())
    calls = []
    manager.subscribe_batched(
        lambda prices, *, now, volumes: calls.append((prices, volumes)),
        interval=timedelta(seconds=1),
        with_volumes=True,
    )
    manager.handle_price_update(tick("AAPL", "100", T0, size="300"))
    manager.handle_price_update(tick("AAPL", "101", T0 + timedelta(milliseconds=1), size="200"))
    manager.handle_price_update(tick("MSFT", "400", T0, size="0"))  # a quote-only feed: no size to report
    manager.flush()
    assert calls == [({"AAPL": d("101"), "MSFT": d("400")}, {"AAPL": d("500")})]
    # Volume keeps adding up across flushes until the subscriber is due again.
    manager.handle_price_update(tick("AAPL", "102", T0 + timedelta(seconds=1), size="70"))
    clock.advance(0.5)
    manager.flush()
    manager.handle_price_update(tick("AAPL", "103", T0 + timedelta(seconds=2), size="30"))
    clock.advance(0.5)
    manager.flush()
    assert calls[-1] == ({"AAPL": d("103")}, {"AAPL": d("100")})


def test_the_tick_path_flushes_by_itself_when_due():
    clock = FakeClock()
    recorder = Recorder()
    manager = manager_for_test(clock, recorder, flush_every=128)
    for i in range(128):
        manager.handle_price_update(tick("AAPL", "100", T0 + timedelta(milliseconds=i)))
    assert len(recorder.prices) == 1


def test_closed_bars_are_handed_to_the_writer_at_flush():
    clock = FakeClock()
    recorder = Recorder()
    manager = manager_for_test(clock, recorder)
    manager.handle_price_update(tick("AAPL", "100", T0))
    manager.handle_price_update(tick("AAPL", "101", T0 + timedelta(seconds=61)))
    assert recorder.bars == []
    manager.flush()
    assert [(b.symbol, b.minute, b.close) for b in recorder.bars] == [("AAPL", T0, d("100"))]


@pytest.mark.django_db
def test_bars_are_persisted_in_batches_with_a_bounded_number_of_queries(django_assert_max_num_queries):
    manager = MarketDataManager(price_writer=lambda prices, **_: None)
    symbols = [f"S{i:03d}" for i in range(50)]
    for minute in range(5):
        for n, symbol in enumerate(symbols):
            at = T0 + timedelta(minutes=minute, seconds=n % 60)
            manager.handle_price_update(tick(symbol, str(10 + minute), at, size="2"))
    manager.handle_price_update(tick("S000", "20", T0 + timedelta(minutes=10)))
    with django_assert_max_num_queries(4):
        manager.flush(T0 + timedelta(minutes=10))
    assert Bar.objects.count() == 5 * 50
    bar = Bar.objects.get(symbol="S007", minute=T0 + timedelta(minutes=3))
    assert (bar.open, bar.close, bar.volume) == (d("13"), d("13"), d("2"))
    # Writing a bar again replaces it instead of failing on (symbol, minute).
    from trading.marketdata.history import bars_persist

    bars_persist([ClosedBar("S007", T0 + timedelta(minutes=3), d("1"), d("2"), d("1"), d("2"), d("9"))])
    assert Bar.objects.get(symbol="S007", minute=T0 + timedelta(minutes=3)).volume == d("9")


@pytest.mark.django_db
def test_a_stale_symbol_raises_one_alert_per_transition():
    clock = FakeClock()
    manager = MarketDataManager(
        clock=clock, monotonic=clock.monotonic, stale_after=timedelta(seconds=10), price_writer=lambda p, **_: None
    )
    manager.feed_started(["AAPL"])
    manager.handle_price_update(tick("AAPL", "100", clock()))
    manager.flush()
    for _ in range(5):
        clock.advance(4)
        manager.flush()
    assert manager.is_stale("AAPL")
    for _ in range(3):
        clock.advance(1)
        manager.handle_price_update(tick("AAPL", "101", clock()))
        manager.flush()
    events = list(Event.objects.filter(type__startswith="market.").order_by("id").values_list("type", "severity"))
    assert events == [("market.stale", "WARNING"), ("market.recovered", "INFO")]
    assert Event.objects.filter(type="market.stale").get().payload["symbol"] == "AAPL"
    assert not manager.is_stale("AAPL")


def test_staleness_is_shared_through_the_cache():
    now = T0
    assert not symbol_is_stale("ZZTEST", now)  # no feed running: pinned or reference prices are not stale
    cache.set(FEED_RUNNING_KEY, repr(now.timestamp()))
    assert symbol_is_stale("ZZTEST", now)  # a feed runs and never priced it
    cache.set(PRICE_AT_KEY.format("ZZTEST"), repr((now - timedelta(seconds=3)).timestamp()))
    assert not symbol_is_stale("ZZTEST", now)
    assert symbol_is_stale("ZZTEST", now + timedelta(seconds=20))


def test_the_manager_publishes_tick_times_and_the_feed_marker():
    clock = FakeClock()
    manager = MarketDataManager(clock=clock, monotonic=clock.monotonic, bar_writer=lambda bars: len(bars))
    manager.feed_started(["ZZTEST"])
    manager.handle_price_update(tick("ZZTEST", "12.5", clock()))
    manager.flush()
    assert cache.get(PRICE_KEY.format("ZZTEST")) == "12.5"
    assert not symbol_is_stale("ZZTEST", clock() + timedelta(seconds=1))
    assert symbol_is_stale("ZZTEST", clock() + timedelta(seconds=60))
    manager.feed_stopped()
    assert cache.get(FEED_RUNNING_KEY) is None
    assert not symbol_is_stale("ZZTEST", clock() + timedelta(seconds=60))


# Feeds ---------------------------------------------------------------------------------------------
def test_simulated_feed_is_deterministic_and_trades_volume():
    instruments = [("AAPL", d("200"), d("0.25"), d("0.01")), ("MSFT", d("400"), d("0.30"), d("0.01"))]
    first = SimulatedFeed(instruments, seed=7).updates(timedelta(seconds=15), T0)
    second = SimulatedFeed(instruments, seed=7).updates(timedelta(seconds=15), T0)
    other = SimulatedFeed(instruments, seed=8).updates(timedelta(seconds=15), T0)
    assert first == second and first != other
    assert all(u.size >= 1 and u.price > 0 for u in first)
    # Adding volume did not change the price path a seed gives.
    assert SimulatedFeed(instruments, seed=7).tick(timedelta(seconds=15)) == {u.symbol: u.price for u in first}


def test_replay_from_csv_rebuilds_the_bars_it_read(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(
        "timestamp,symbol,open,high,low,close,volume\n"
        "2026-03-02T15:00:00Z,AAPL,100.10,101.00,99.50,100.90,1200\n"
        "2026-03-02T15:00:00Z,MSFT,400.00,400.50,398.00,398.25,800\n"
        "2026-03-02T15:01:00Z,AAPL,100.90,100.95,100.00,100.20,700\n"
    )
    recorder = Recorder()
    manager = manager_for_test(FakeClock(), recorder)
    feed = ReplayFeed(path, speed=None)
    feed.connect()
    feed.run(manager, threading.Event())
    assert feed.replayed == 12
    assert sorted(recorder.bars) == sorted(
        [
            ClosedBar("AAPL", T0, d("100.10"), d("101.00"), d("99.50"), d("100.90"), d("1200")),
            ClosedBar("MSFT", T0, d("400.00"), d("400.50"), d("398.00"), d("398.25"), d("800")),
            ClosedBar("AAPL", T0 + timedelta(minutes=1), d("100.90"), d("100.95"), d("100.00"), d("100.20"), d("700")),
        ]
    )
    assert manager.get_current_price("AAPL") == d("100.20")


def test_replay_paces_at_its_speed_factor(tmp_path):
    path = tmp_path / "aapl.csv"
    path.write_text("time,open,high,low,close,volume\n2026-03-02 15:00,1,1,1,1,1\n2026-03-02 15:01,2,2,2,2,1\n")
    manager = manager_for_test(FakeClock())
    feed = ReplayFeed(path, speed=600, symbol="aapl")  # 105 s of ticks at 600x: about 0.175 s
    feed.connect()
    import time

    started = time.monotonic()
    feed.run(manager, threading.Event())
    assert time.monotonic() - started >= 0.17
    assert manager.get_current_price("AAPL") == d("2")


def test_replay_of_a_missing_file_or_bad_columns_is_fatal(tmp_path):
    with pytest.raises(FeedFatal):
        ReplayFeed(tmp_path / "none.csv").connect()
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,symbol,price\n2026-03-02T15:00:00Z,AAPL,1\n")
    with pytest.raises(FeedFatal, match="lacks columns"):
        list(ReplayFeed(path).updates())


def test_replay_from_parquet(tmp_path):
    import pandas as pd  # pyarrow (pinned in requirements.txt) writes and reads the file

    path = tmp_path / "bars.parquet"
    frame = pd.DataFrame(
        {
            "timestamp": [pd.Timestamp("2026-03-02T15:00:00Z")],
            "symbol": ["AAPL"],
            "open": [100.1],
            "high": [101.0],
            "low": [99.5],
            "close": [100.9],
            "volume": [1200],
        }
    )
    frame.to_parquet(path)
    recorder = Recorder()
    manager = manager_for_test(FakeClock(), recorder)
    feed = ReplayFeed(path, speed=None)
    feed.connect()
    feed.run(manager, threading.Event())
    assert recorder.bars == [ClosedBar("AAPL", T0, d("100.1"), d("101.0"), d("99.5"), d("100.9"), d("1200"))]


class FakeIbBroker:
    def __init__(self) -> None:
        self.connected = True
        self.callback = None
        self.canceled = False

    def subscribe_prices(self, symbols, callback):
        self.symbols = symbols
        self.callback = callback
        callback("AAPL", d("201.5"), T0)
        callback("AAPL", d("201.6"), T0 + timedelta(seconds=1))
        self.connected = False  # then the connection drops
        return self._cancel

    def _cancel(self):
        self.canceled = True

    def is_connected(self):
        return self.connected


def test_ib_feed_streams_through_the_broker_adapter_and_reports_a_drop():
    broker = FakeIbBroker()
    manager = manager_for_test(FakeClock())
    feed = IbFeed(["aapl"], broker_factory=lambda: broker)
    feed.connect()
    with pytest.raises(FeedDisconnected):
        feed.run(manager, threading.Event())
    feed.close()
    assert broker.symbols == ["AAPL"] and broker.canceled
    assert manager.get_current_price("AAPL") == d("201.6")


class FlakyFeed(Feed):
    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.connects = 0
        self.closes = 0

    def connect(self) -> None:
        self.connects += 1
        if self.connects <= self.failures:
            raise ConnectionError("refused")

    def run(self, manager, stop) -> None:
        manager.handle_price_update(tick("ZZTEST", "5", T0))

    def close(self) -> None:
        self.closes += 1


def test_the_runner_reconnects_with_backoff_and_stops_when_the_feed_ends(monkeypatch):
    waits = []
    monkeypatch.setattr("trading.marketdata.runner.wait_maintaining", lambda manager, stop, s: waits.append(s))
    feed = FlakyFeed(failures=3)
    manager = manager_for_test(FakeClock())
    feed_serve(feed, manager, threading.Event(), backoff_base=1, backoff_cap=4)
    assert waits == [1, 2, 4] and feed.connects == 4 and feed.closes == 4
    assert manager.get_current_price("ZZTEST") == d("5") and not manager.feed_running


def test_the_runner_gives_up_on_a_fatal_feed(tmp_path):
    manager = manager_for_test(FakeClock())
    feed_serve(ReplayFeed(tmp_path / "missing.csv"), manager, threading.Event())
    assert not manager.feed_running


# The API -------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_price_api_answers_price_staleness_and_bars(client, demo):
    client.force_login(demo.trader)  # market data is for people; a signal key reads none
    Bar.objects.bulk_create(
        [
            Bar(symbol="AAPL", minute=T0 + timedelta(minutes=i), open=1, high=2, low=1, close=d(i), volume=10)
            for i in range(5)
        ]
    )
    url = reverse("market-price", args=["aapl"])
    body = client.get(url).json()
    assert body["symbol"] == "AAPL" and Decimal(body["price"]) > 0
    assert body["stale"] is False and body["at"] is None
    assert [Decimal(b["close"]) for b in body["bars"]] == [d(i) for i in range(5)]
    body = client.get(url, {"limit": 2}).json()
    assert [Decimal(b["close"]) for b in body["bars"]] == [d(3), d(4)]
    since, until = (T0 + timedelta(minutes=1)).isoformat(), (T0 + timedelta(minutes=3)).isoformat()
    body = client.get(url, {"since": since, "until": until}).json()
    assert [Decimal(b["close"]) for b in body["bars"]] == [d(1), d(2)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-03-02T15:00:00"}, "since"),
        ({"until": "2026-03-02T15:00:00"}, "until"),
        ({"since": "2026-03-02T16:00:00Z", "until": "2026-03-02T15:00:00Z"}, "until"),
    ],
)
def test_price_api_refuses_bad_parameters(client, demo, params, field):
    client.force_login(demo.trader)  # market data is for people; a signal key reads none
    response = client.get(reverse("market-price", args=["AAPL"]), params)
    assert response.status_code == 400 and field in response.json()["errors"]


@pytest.mark.django_db
def test_price_api_unknown_symbol_is_404(client, demo):
    client.force_login(demo.trader)  # market data is for people; a signal key reads none
    assert client.get(reverse("market-price", args=["NOSUCH"])).status_code == 404


@pytest.mark.django_db
def test_status_api_reports_each_exchange(client, demo):
    client.force_login(demo.trader)  # market data is for people; a signal key reads none
    at = datetime(2026, 11, 27, 12, 0, tzinfo=ET).isoformat()
    body = client.get(reverse("market-status"), {"at": at}).json()
    by_exchange = {e["exchange"]: e for e in body["exchanges"]}
    assert {"XNYS", "XNAS"} <= set(by_exchange)
    assert by_exchange["XNYS"]["status"] == "open" and by_exchange["XNYS"]["is_early_close"] is True
    body = client.get(reverse("market-status"), {"at": "2026-12-25T16:00:00Z", "exchange": "ARCX"})
    assert (
        body.json()["exchanges"][0] | {"exchange": "ARCX", "status": "closed", "is_holiday": True}
        == (body.json()["exchanges"][0])
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [({"at": "soon"}, "at"), ({"at": "2026-03-02T15:00:00"}, "at"), ({"exchange": "NOPE"}, "exchange")],
)
def test_status_api_refuses_bad_parameters(client, demo, params, field):
    client.force_login(demo.trader)  # market data is for people; a signal key reads none
    response = client.get(reverse("market-status"), params)
    assert response.status_code == 400 and field in response.json()["errors"]


# The running feed, end to end ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_feed_run_prices_every_instrument_through_the_manager(demo_committed, settings, wait):
    from trading.marketdata import price_updated_at
    from trading.marketdata.runner import feed_run

    settings.MARKET_FEED_INTERVAL = timedelta(milliseconds=20)
    stop = threading.Event()
    thread = threading.Thread(target=feed_run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait(lambda: price_updated_at("AAPL") is not None, timeout=20)
        assert cache.get(FEED_RUNNING_KEY) is not None
        assert not symbol_is_stale("AAPL", datetime.now(UTC))
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive() and cache.get(FEED_RUNNING_KEY) is None
    # The shared cache outlives this test on the real stack: leave no live prices behind for the next one.
    from trading.models import Instrument

    symbols = Instrument.objects.values_list("symbol", flat=True)
    cache.delete_many([key.format(s) for s in symbols for key in (PRICE_KEY, PRICE_AT_KEY)])


FEED_IN_ANOTHER_PROCESS = """
import django, sys
from datetime import UTC, datetime
from decimal import Decimal
django.setup()
from trading.core.bars import PriceUpdate
from trading.marketdata.manager import MarketDataManager
manager = MarketDataManager(bar_writer=lambda bars: len(bars))
manager.feed_started(["ZZTEST", "MSFT"])
manager.handle_price_update(PriceUpdate("ZZTEST", Decimal("42.5"), Decimal(1), datetime.now(UTC)))
manager.flush()
# Exit without feed_stopped: to other processes this feed is still running.
"""


@pytest.mark.realstack
def test_another_process_sees_the_feeds_prices_and_staleness():
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quantumleap.settings"}
    subprocess.run([sys.executable, "-c", FEED_IN_ANOTHER_PROCESS], check=True, env=env, cwd=django_settings.BASE_DIR)
    now = datetime.now(UTC)
    assert cache.get(PRICE_KEY.format("ZZTEST")) == "42.5"
    assert not symbol_is_stale("ZZTEST", now)
    assert symbol_is_stale("MSFT", now)  # the running feed never priced it
    assert symbol_is_stale("ZZTEST", now + timedelta(seconds=60))
