"""Built-in generators live: closed bars in, signals through the REST intake out (bars fed directly)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from strategies.core.generators import Target
from strategies.models import Strategy, TradingSignal
from strategies.runner import StrategyRunner, strategy_key
from trading.core.bars import Bar, PriceUpdate
from trading.events import EventType
from trading.marketdata.manager import MarketDataManager
from trading.models import Bar as StoredBar
from trading.models import Event, Order, Position

# SMA(2) against SMA(3): flat, then below (only recorded), then a cross above on the fifth bar.
CROSS_UP = ["10", "10", "10", "9", "12"]
# Above (only recorded), still above, then a cross below on the sixth bar.
CROSS_DOWN = ["10", "10", "10", "12", "13", "7"]


def _minutes(count: int) -> list[datetime]:
    """The last `count` whole minutes before now: the newest bar's signal is still live."""
    latest = timezone.now().astimezone(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    return [latest - timedelta(minutes=count - 1 - i) for i in range(count)]


def _bars(symbol: str, closes: list[str], minutes: list[datetime] | None = None) -> list[Bar]:
    minutes = minutes or _minutes(len(closes))
    return [
        Bar(symbol, m, Decimal(c), Decimal(c), Decimal(c), Decimal(c), Decimal(100))
        for m, c in zip(minutes, closes, strict=True)
    ]


def _sma(demo, name: str = "sma", *, symbols=("AAPL",), status: str = "RUNNING", **parameters) -> Strategy:
    return Strategy.objects.create(
        owner=demo.trader,
        account=demo.account,
        name=name,
        strategy_type="SMA_CROSSOVER",
        capital=Decimal("100000"),
        status=status,
        configuration={"parameters": {"fast_period": 2, "slow_period": 3, **parameters}, "symbols": list(symbols)},
    )


def test_a_cross_becomes_a_signal_through_the_rest_intake_and_an_order(demo):
    strategy = _sma(demo)
    bars = _bars("AAPL", CROSS_UP)

    sent = StrategyRunner().bars_process(bars)

    (signal,) = sent
    assert signal.external_id == f"{strategy_key(strategy.pk)}:AAPL:{bars[-1].minute.isoformat()}"
    assert (signal.producer, signal.strategy, signal.signal_type) == (demo.trader, strategy, "BUY")
    assert signal.status == TradingSignal.Status.ACCEPTED
    assert signal.metadata["model"] == "SMA_CROSSOVER"
    assert signal.metadata["target"] == "LONG"
    assert signal.confidence_score == Decimal("0.6") and signal.position_size == Decimal("0.1")
    assert Order.objects.filter(signal=signal, strategy=strategy, side="BUY").count() == 1
    received = Event.objects.filter(type=EventType.SIGNAL_RECEIVED, signal=signal).get()
    assert received.actor == demo.trader.username  # the same events as a posted signal


def test_a_bar_fed_again_and_a_restarted_runner_make_no_second_signal(demo):
    strategy = _sma(demo)
    bars = _bars("AAPL", CROSS_UP)
    runner = StrategyRunner()
    assert len(runner.bars_process(bars)) == 1
    assert runner.bars_process(bars[-1:]) == []
    for bar in bars:
        StoredBar.objects.create(
            symbol=bar.symbol, minute=bar.minute, open=bar.open, high=bar.high, low=bar.low, close=bar.close
        )

    restarted = StrategyRunner()
    assert restarted.bars_process(bars) == []  # warmed from the stored bars: history is not sent again
    assert TradingSignal.objects.filter(strategy=strategy).count() == 1


def test_a_restart_warms_up_from_stored_bars_and_trusts_the_position_held(demo):
    strategy = _sma(demo)
    minutes = _minutes(6)
    for bar in _bars("AAPL", ["10", "10", "10", "12", "13"], minutes[:5]):  # crossed up in history
        StoredBar.objects.create(
            symbol="AAPL", minute=bar.minute, open=bar.open, high=bar.high, low=bar.low, close=bar.close
        )
    runner = StrategyRunner()
    runner.refresh(force=True)
    generator = runner.live[strategy.pk].generator
    assert generator.target("AAPL") == Target.FLAT  # nothing held: the history's LONG is not believed

    Position.objects.create(account=demo.account, instrument_id=demo_instrument("AAPL"), strategy=strategy, quantity=5)
    again = StrategyRunner()
    again.refresh(force=True)
    assert again.live[strategy.pk].generator.target("AAPL") == Target.LONG
    # Warm: one more bar far below crosses down at once, which a cold generator could not do.
    (signal,) = again.bars_process(_bars("AAPL", ["1"], minutes[5:]))
    assert (signal.signal_type, signal.metadata["target"]) == ("SELL", "FLAT")


def demo_instrument(symbol: str) -> int:
    from trading.models import Instrument

    return Instrument.objects.get(symbol=symbol).pk


def test_a_refused_signal_puts_the_target_back_to_what_is_held(demo):
    strategy = _sma(demo)
    runner = StrategyRunner()
    runner.refresh(force=True)
    bars = [b._replace(minute=b.minute - timedelta(minutes=10)) for b in _bars("AAPL", CROSS_UP)]

    (signal,) = runner.bars_process(bars)  # ten minutes old: expired at the intake

    assert signal.status == TradingSignal.Status.REJECTED
    assert [v["code"] for v in signal.violations] == ["signal_expired"]
    assert runner.live[strategy.pk].generator.target("AAPL") == Target.FLAT


def test_only_running_generator_strategies_on_their_own_symbols_enter(demo):
    paused = _sma(demo, "paused", status="PAUSED")
    _sma(demo, "stopped", status="STOPPED")
    _sma(demo, "other-symbol", symbols=["MSFT"])
    running = _sma(demo, "running")
    runner = StrategyRunner()

    sent = runner.bars_process(_bars("AAPL", CROSS_UP))

    assert [s.strategy_id for s in sent] == [running.pk]
    # demo-ai has no generator; a stopped strategy has none running; a paused one reads bars but makes no entry.
    assert set(runner.live) == {running.pk, paused.pk, Strategy.objects.get(name="other-symbol").pk}
    assert runner.live[paused.pk].generator.target("AAPL") == Target.FLAT
    assert not TradingSignal.objects.filter(strategy=paused).exists()


@pytest.mark.parametrize("status", ["PAUSED", "AUTO_PAUSED"])
def test_a_paused_strategy_still_closes_its_position_on_its_rules_exit(demo, status):
    strategy = _sma(demo, status=status)
    Position.objects.create(account=demo.account, instrument_id=demo_instrument("AAPL"), strategy=strategy, quantity=5)
    runner = StrategyRunner()
    runner.refresh(force=True)
    assert runner.live[strategy.pk].generator.target("AAPL") == Target.LONG  # what it holds

    # SMA(2) rises above SMA(3) (only recorded: its first relation), then falls below it: the rule's exit.
    (signal,) = runner.bars_process(_bars("AAPL", CROSS_DOWN))

    assert (signal.signal_type, signal.metadata["target"]) == ("SELL", "FLAT")
    assert signal.status == TradingSignal.Status.ACCEPTED, signal.violations  # reducing: a paused strategy takes it
    (order,) = Order.objects.filter(signal=signal)
    assert (order.side, order.quantity) == ("SELL", Decimal(5))  # held to the position's size
    assert runner.live[strategy.pk].generator.target("AAPL") == Target.FLAT


def test_a_paused_strategy_that_would_flip_only_closes(demo):
    strategy = _sma(demo, status="PAUSED", allow_short=True)
    Position.objects.create(account=demo.account, instrument_id=demo_instrument("AAPL"), strategy=strategy, quantity=5)
    runner = StrategyRunner()

    (signal,) = runner.bars_process(_bars("AAPL", CROSS_DOWN))

    assert (signal.signal_type, signal.metadata["target"]) == ("SELL", "SHORT")
    assert Order.objects.get(signal=signal).quantity == Decimal(5)  # the close, never the short
    assert runner.live[strategy.pk].generator.target("AAPL") == Target.FLAT


def test_a_stopped_strategy_leaves_and_a_new_version_is_rebuilt_at_the_next_refresh(demo):
    strategy = _sma(demo)
    runner = StrategyRunner(refresh_seconds=0)
    runner.refresh()
    first = runner.live[strategy.pk].generator
    Strategy.objects.filter(pk=strategy.pk).update(
        version=2, configuration={"parameters": {"fast_period": 3, "slow_period": 5}, "symbols": ["AAPL"]}
    )
    runner.refresh()
    assert runner.live[strategy.pk].generator is not first
    assert runner.live[strategy.pk].generator.params.slow_period == 5
    Strategy.objects.filter(pk=strategy.pk).update(status="PAUSED")
    runner.refresh()
    assert runner.live[strategy.pk].strategy.status == "PAUSED"  # kept, to close what it holds
    Strategy.objects.filter(pk=strategy.pk).update(status="STOPPED")
    runner.refresh()
    assert strategy.pk not in runner.live


def test_a_failing_strategy_is_recorded_and_the_others_go_on(demo, monkeypatch):
    broken = _sma(demo, "broken")
    healthy = _sma(demo, "healthy")
    runner = StrategyRunner()
    runner.refresh(force=True)

    def explode(bar):
        raise RuntimeError("indicator state corrupted")

    monkeypatch.setattr(runner.live[broken.pk].generator, "on_bar", explode)
    sent = runner.bars_process(_bars("AAPL", CROSS_UP))

    assert [s.strategy_id for s in sent] == [healthy.pk]
    failure = Event.objects.get(type=EventType.LOOP_FAILED)
    assert failure.payload["loop"] == "strategy-runner"
    assert failure.payload["scope"] == f"strategy-{broken.pk}"


def test_bad_parameters_keep_the_strategy_out_and_alert(demo):
    bad = _sma(demo, "bad", fast_period=5)  # fast must be below slow
    runner = StrategyRunner()
    runner.refresh(force=True)
    assert bad.pk not in runner.live
    assert Event.objects.get(type=EventType.LOOP_FAILED).payload["scope"] == f"strategy-{bad.pk}"


def test_the_manager_hands_closed_bars_to_subscribers_once_stored():
    written, handed = [], []
    manager = MarketDataManager(
        bar_writer=lambda bars: written.extend(bars) or len(bars), price_writer=lambda *a, **k: None
    )
    manager.subscribe_bars(handed.append)
    start = datetime(2026, 9, 18, 14, 0, tzinfo=UTC)
    for i, price in enumerate(["10", "11", "12"]):
        manager.handle_price_update(PriceUpdate("AAPL", Decimal(price), Decimal(1), start + timedelta(seconds=40 * i)))
    manager.flush(start + timedelta(minutes=2))

    # 14:00 closed (10 then 11); 14:01 is still open (the feed's clock is at 14:01:20).
    assert [bar.close for batch in handed for bar in batch] == [Decimal("11")]
    manager.handle_price_update(
        PriceUpdate("AAPL", Decimal("13"), Decimal(1), start + timedelta(minutes=2, seconds=30))
    )
    manager.flush(start + timedelta(minutes=3))
    assert [bar.close for batch in handed for bar in batch] == [Decimal("11"), Decimal("12")]
    assert [bar for batch in handed for bar in batch] == written


def test_bars_that_could_not_be_stored_are_handed_out_when_they_are():
    handed = []
    failing = [True]

    def writer(bars):
        if failing[0]:
            raise OSError("database down")
        return len(bars)

    manager = MarketDataManager(bar_writer=writer, price_writer=lambda *a, **k: None)
    manager.subscribe_bars(handed.append)
    start = datetime(2026, 9, 18, 14, 0, tzinfo=UTC)
    manager.handle_price_update(PriceUpdate("AAPL", Decimal("10"), Decimal(1), start))
    manager.handle_price_update(PriceUpdate("AAPL", Decimal("11"), Decimal(1), start + timedelta(minutes=1)))
    manager.flush(start + timedelta(minutes=1))
    assert handed == []
    failing[0] = False
    manager.flush(start + timedelta(minutes=1))
    assert [bar.close for batch in handed for bar in batch] == [Decimal("10")]


def test_the_feed_thread_only_queues_and_the_runner_drains(demo):
    _sma(demo)
    runner = StrategyRunner()
    runner.on_bars(_bars("AAPL", CROSS_UP))
    assert TradingSignal.objects.filter(strategy__name="sma").count() == 0
    assert runner.drain() == 1
    assert TradingSignal.objects.filter(strategy__name="sma").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_runner_thread_beats_and_processes_queued_bars(demo_committed, wait):
    from trading import loops

    _sma(demo_committed)
    runner = StrategyRunner()
    runner.start()
    try:
        runner.on_bars(_bars("AAPL", CROSS_UP))
        wait(lambda: TradingSignal.objects.filter(strategy__name="sma").exists(), timeout=20)
        states = {loop["name"]: loop["state"] for loop in loops.loops_status()}
        assert states["strategy-runner"] == "ok"
    finally:
        runner.stop()


def test_an_intake_failure_puts_the_target_back_to_what_is_held(demo, monkeypatch):
    from strategies import runner as runner_module

    strategy = _sma(demo)
    runner = StrategyRunner()

    def unavailable(**kwargs):
        raise OSError("database gone")

    monkeypatch.setattr(runner_module, "signal_receive", unavailable)
    assert runner.bars_process(_bars("AAPL", CROSS_UP)) == []
    assert runner.live[strategy.pk].generator.target("AAPL") == Target.FLAT
    assert Event.objects.get(type=EventType.LOOP_FAILED).payload["scope"] == f"strategy-{strategy.pk}"


def test_an_exit_closes_exactly_the_position_held_whatever_the_sizing_would_buy(demo):
    strategy = _sma(demo)
    Position.objects.create(account=demo.account, instrument_id=demo_instrument("AAPL"), strategy=strategy, quantity=5)
    runner = StrategyRunner()

    (signal,) = runner.bars_process(_bars("AAPL", CROSS_DOWN))

    assert (signal.signal_type, signal.metadata["target"], signal.closes_position) == ("SELL", "FLAT", True)
    assert signal.status == TradingSignal.Status.ACCEPTED
    (order,) = Order.objects.filter(signal=signal)
    # 0.1 of 100,000 at 7 would sell 1,428: the exit sells the 5 held, and no bracket guards a close.
    assert (order.side, order.quantity) == ("SELL", Decimal(5))
    assert not Order.objects.filter(parent=order).exists()


def test_a_flip_closes_what_is_held_then_enters_the_other_side_sized_by_the_strategy(demo):
    strategy = _sma(demo, allow_short=True)
    Position.objects.create(account=demo.account, instrument_id=demo_instrument("AAPL"), strategy=strategy, quantity=5)
    bars = _bars("AAPL", CROSS_DOWN)

    closing, entry = StrategyRunner().bars_process(bars)

    generated_id = f"{strategy_key(strategy.pk)}:AAPL:{bars[-1].minute.isoformat()}"
    assert (closing.external_id, closing.closes_position, closing.metadata["target"]) == (
        f"{generated_id}:close",
        True,
        "FLAT",
    )
    assert (entry.external_id, entry.closes_position, entry.metadata["target"]) == (generated_id, False, "SHORT")
    assert Order.objects.get(signal=closing).quantity == Decimal(5)
    assert Order.objects.get(signal=entry, parent=None).quantity > Decimal(5)  # 0.1 of the capital, in lots


def test_an_exit_with_nothing_held_is_refused_and_trades_nothing(demo):
    from strategies.runner import signal_data
    from strategies.services import signal_receive

    strategy = _sma(demo)
    runner = StrategyRunner()
    runner.bars_process(_bars("AAPL", CROSS_UP))  # LONG: an entry of its own
    generated = runner.live[strategy.pk].generator.on_bar(
        _bars("AAPL", ["1"], [timezone.now().replace(second=0, microsecond=0)])[0]
    )
    signal, _ = signal_receive(
        producer=demo.trader, strategy=strategy, data=signal_data(generated, closing=Target.SHORT)
    )
    assert signal.status == TradingSignal.Status.REJECTED
    assert [v["code"] for v in signal.violations] == ["nothing_to_close"]
    assert not Order.objects.filter(signal=signal).exists()
