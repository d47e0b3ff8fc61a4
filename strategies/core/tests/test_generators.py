"""Each generator against signals worked out by hand on small fixed series."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from strategies.core.generators import (
    STRATEGY_TYPES,
    BollingerBreakout,
    GeneratedSignal,
    MomentumTrend,
    RsiMeanReversion,
    SignalType,
    SmaCrossover,
    Target,
    generator_build,
)
from strategies.core.params import (
    BollingerBreakoutParams,
    InvalidStrategyParameters,
    MomentumParams,
    RsiMeanReversionParams,
    SmaCrossoverParams,
)
from trading.core.bars import Bar

D = Decimal
START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
BUY, SELL = SignalType.BUY, SignalType.SELL
LONG, SHORT, FLAT = Target.LONG, Target.SHORT, Target.FLAT


def bar(index: int, close: str | Decimal, symbol: str = "AAPL") -> Bar:
    """The index-th bar (1-based) of a series; open/high/low only bracket the close."""
    price = D(close)
    return Bar(symbol, START + timedelta(minutes=index - 1), price, price, price, price, D(100))


def feed(generator, closes: list[str], symbol: str = "AAPL") -> list[tuple[int, SignalType, Target]]:
    out = []
    for index, close in enumerate(closes, start=1):
        signal = generator.on_bar(bar(index, close, symbol))
        if signal is not None:
            out.append((index, signal.signal_type, signal.target))
    return out


SMA_CLOSES = ["10", "10", "10", "11", "12", "11", "9", "8", "9", "11", "12", "8"]


def test_sma_crossover_long_only() -> None:
    # fast SMA(2) / slow SMA(3): bar 4 first sign (+, recorded), bar 7 down-cross (FLAT while flat: nothing),
    # bar 10 up-cross (fast 10 vs slow 9.3333), bar 12 down-cross (fast 10 vs slow 10.3333).
    generator = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3), strategy_key="s1")
    assert feed(generator, SMA_CLOSES) == [(10, BUY, LONG), (12, SELL, FLAT)]


def test_sma_crossover_flips_with_shorts() -> None:
    generator = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3, allow_short=True), strategy_key="s1")
    assert feed(generator, SMA_CLOSES) == [(7, SELL, SHORT), (10, BUY, LONG), (12, SELL, SHORT)]


def test_sma_crossover_signal_fields() -> None:
    generator = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3), strategy_key="s1")
    signals = generator.on_bars(bar(i, c) for i, c in enumerate(SMA_CLOSES[:10], start=1))
    assert len(signals) == 1
    signal = signals[0]
    minute = START + timedelta(minutes=9)
    assert signal == GeneratedSignal(
        id=f"s1:AAPL:{minute.isoformat()}",
        strategy_key="s1",
        strategy_type="SMA_CROSSOVER",
        symbol="AAPL",
        signal_type=BUY,
        target=LONG,
        previous_target=FLAT,
        confidence_score=D("0.6"),
        position_size=D("0.1"),
        bar_minute=minute,
        reference_price=D(11),
        expires_at=minute + timedelta(minutes=2),
        reason="SMA(2) 10.0000 crossed above SMA(3) 9.3333",
        stop_loss=None,
        take_profit=None,
        indicators=signal.indicators,
    )
    assert signal.id == "s1:AAPL:2026-03-02T14:39:00+00:00"
    assert signal.indicators["fast_sma"] == D(10)
    assert abs(signal.indicators["slow_sma"] - D(28) / D(3)) < D("1e-25")
    assert signal.generated_at == minute + timedelta(minutes=1)


def test_rsi_mean_reversion() -> None:
    # RSI(2) by hand: bar 3 RSI 100 (FLAT while flat), bar 4 50, bar 5 25 (< 30: BUY), bar 6 12.5,
    # bar 7 56.25, bar 8 85.4167 (> 70: SELL to FLAT), bar 9 above 70 again (no change).
    generator = RsiMeanReversion(RsiMeanReversionParams(period=2), strategy_key="r")
    closes = ["10", "11", "12", "11", "10", "9", "10", "12", "13"]
    assert feed(generator, closes) == [(5, BUY, LONG), (8, SELL, FLAT)]
    shorting = RsiMeanReversion(RsiMeanReversionParams(period=2, allow_short=True), strategy_key="r")
    assert feed(shorting, closes) == [(3, SELL, SHORT), (5, BUY, LONG), (8, SELL, SHORT)]


def test_rsi_reason() -> None:
    generator = RsiMeanReversion(RsiMeanReversionParams(period=2), strategy_key="r")
    signals = generator.on_bars(bar(i, c) for i, c in enumerate(["10", "11", "12", "11", "10"], start=1))
    assert [s.reason for s in signals] == ["RSI(2) 25.0000 below oversold 30"]
    assert signals[0].indicators == {"rsi": D(25)}


def test_rsi_levels_are_strict() -> None:
    # Exactly at the oversold level is not below it: RSI 25 with oversold 25 makes nothing.
    generator = RsiMeanReversion(RsiMeanReversionParams(period=2, oversold=D(25)), strategy_key="r")
    assert feed(generator, ["10", "11", "12", "11", "10"]) == []


def test_bollinger_breakout() -> None:
    # period 3, k 1: bar 3 std 0 (close on the band: nothing), bar 4 [10,10,13] upper 11 + 1.4142 < 13: BUY,
    # bar 5 inside, bar 6 [13,12,8] lower 11 - 2.1602 > 8: SELL, bar 7 [12,8,7] lower 6.8398 < 7: inside.
    generator = BollingerBreakout(BollingerBreakoutParams(period=3, k=D(1)), strategy_key="b")
    closes = ["10", "10", "10", "13", "12", "8", "7"]
    assert feed(generator, closes) == [(4, BUY, LONG), (6, SELL, FLAT)]


def test_bollinger_stops_on_the_six_place_grid() -> None:
    params = BollingerBreakoutParams(period=3, k=D(1), stop_loss_pct=D("0.0333"), take_profit_pct=D("0.0333"))
    generator = BollingerBreakout(params, strategy_key="b")
    signals = generator.on_bars(bar(i, c) for i, c in enumerate(["10", "10", "10", "10.003"], start=1))
    assert len(signals) == 1
    # 10.003 * 0.9667 = 9.6699001 rounds down, 10.003 * 1.0333 = 10.3360999 rounds up.
    assert signals[0].stop_loss == D("9.669900")
    assert signals[0].take_profit == D("10.336100")


def test_short_entries_put_the_stop_above() -> None:
    params = BollingerBreakoutParams(
        period=3, k=D(1), stop_loss_pct=D("0.03"), take_profit_pct=D("0.05"), allow_short=True
    )
    generator = BollingerBreakout(params, strategy_key="b")
    signals = generator.on_bars(bar(i, c) for i, c in enumerate(["10", "10", "10", "8"], start=1))
    assert [(s.signal_type, s.target, s.stop_loss, s.take_profit) for s in signals] == [
        (SELL, SHORT, D("8.240000"), D("7.600000"))
    ]


def test_exits_carry_no_stops() -> None:
    params = BollingerBreakoutParams(period=3, k=D(1), stop_loss_pct=D("0.03"), take_profit_pct=D("0.05"))
    generator = BollingerBreakout(params, strategy_key="b")
    signals = generator.on_bars(bar(i, c) for i, c in enumerate(["10", "10", "10", "13", "12", "8"], start=1))
    assert [(s.target, s.stop_loss, s.take_profit) for s in signals] == [
        (LONG, D("12.610000"), D("13.650000")),
        (FLAT, None, None),
    ]


def test_momentum_with_trend_filter() -> None:
    # lookback 2, trend SMA(3), threshold 5 %: bar 4 roc 6 % and 106 > 102: BUY; bar 5 roc 10 % (still LONG);
    # bar 6 roc -1.9 % (no opinion); bar 7 roc -13.6 % and 95 < 103: SELL; bar 8 roc -7.7 % (already FLAT).
    generator = MomentumTrend(MomentumParams(lookback=2, trend_period=3, threshold=D("0.05")), strategy_key="m")
    closes = ["100", "100", "100", "106", "110", "104", "95", "96"]
    assert feed(generator, closes) == [(4, BUY, LONG), (7, SELL, FLAT)]


def test_momentum_needs_the_trend_to_agree() -> None:
    # bar 4: roc (100 - 90) / 90 = 11 % but the close 100 is below SMA(3) of 110, 90, 100 = 100? equal: not above.
    generator = MomentumTrend(MomentumParams(lookback=2, trend_period=3, threshold=D("0.05")), strategy_key="m")
    assert feed(generator, ["110", "110", "90", "100"]) == []


def test_refeeding_a_bar_makes_no_second_signal_and_leaves_indicators_alone() -> None:
    generator = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3), strategy_key="s1")
    bars = [bar(i, c) for i, c in enumerate(SMA_CLOSES, start=1)]
    first = []
    for item in bars:
        signal = generator.on_bar(item)
        # Every bar re-fed at once, and an older one, are ignored.
        assert generator.on_bar(item) is None
        assert generator.on_bar(bars[0]) is None or item is bars[0]
        if signal:
            first.append((signal.id, signal.signal_type))
    fresh = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3), strategy_key="s1")
    assert first == [(s.id, s.signal_type) for s in fresh.on_bars(bars)]
    assert len(first) == 2


def test_symbols_are_independent() -> None:
    generator = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3), strategy_key="s1")
    out = []
    for index, close in enumerate(SMA_CLOSES, start=1):
        for symbol in ("AAPL", "MSFT"):
            signal = generator.on_bar(bar(index, close, symbol))
            if signal:
                out.append((index, signal.symbol, signal.signal_type))
    assert out == [(10, "AAPL", BUY), (10, "MSFT", BUY), (12, "AAPL", SELL), (12, "MSFT", SELL)]
    assert set(generator.symbols()) == {"AAPL", "MSFT"}
    assert generator.target("AAPL") is FLAT and generator.target("IBM") is FLAT


def test_set_target_after_a_restart() -> None:
    generator = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3), strategy_key="s1")
    generator.on_bars(bar(i, c) for i, c in enumerate(SMA_CLOSES[:9], start=1))
    # The strategy really holds a long (say a refused exit): the up-cross at bar 10 asks for nothing new.
    generator.set_target("AAPL", "LONG")
    assert generator.on_bar(bar(10, SMA_CLOSES[9])) is None
    signal = generator.on_bar(bar(11, "12"))
    assert signal is None
    signal = generator.on_bar(bar(12, "8"))
    assert signal is not None and (signal.signal_type, signal.previous_target, signal.target) == (SELL, LONG, FLAT)


def test_payload_matches_the_intake() -> None:
    params = BollingerBreakoutParams(period=3, k=D(1), stop_loss_pct=D("0.03"), position_size=D("0.25"))
    generator = BollingerBreakout(params, strategy_key="b", signal_ttl=timedelta(minutes=5))
    (signal,) = generator.on_bars(bar(i, c) for i, c in enumerate(["10", "10", "10", "13"], start=1))
    payload = signal.as_payload()
    assert payload["id"] == "b:AAPL:2026-03-02T14:33:00+00:00"
    assert payload["signal_type"] == "BUY"
    assert payload["confidence_score"] == "0.6" and payload["position_size"] == "0.25"
    assert payload["stop_loss"] == "12.610000" and payload["take_profit"] is None
    assert payload["expires_at"] == "2026-03-02T14:39:00+00:00"
    assert payload["metadata"]["target"] == "LONG" and payload["metadata"]["previous_target"] == "FLAT"
    assert payload["metadata"]["reference_price"] == "13"
    assert set(payload["metadata"]["indicators"]) == {"middle", "upper", "lower"}
    assert payload["metadata"]["reason"].startswith("Close 13 above the upper band 12.4142")


def test_naive_bar_time_is_refused() -> None:
    generator = SmaCrossover(strategy_key="s1")
    naive = Bar("AAPL", datetime(2026, 3, 2, 14, 30), D(1), D(1), D(1), D(1), D(1))
    with pytest.raises(ValueError):
        generator.on_bar(naive)


def test_float_close_is_refused() -> None:
    generator = SmaCrossover(strategy_key="s1")
    with pytest.raises(ValueError):
        generator.on_bar(Bar("AAPL", START, D(1), D(1), D(1), 1.5, D(1)))  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["", "has space", "x" * 65])
def test_bad_strategy_key(key: str) -> None:
    with pytest.raises(ValueError):
        SmaCrossover(strategy_key=key)


def test_params_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(TypeError):
        SmaCrossover(RsiMeanReversionParams(), strategy_key="s")  # type: ignore[arg-type]


def test_defaults_and_warmup() -> None:
    assert SmaCrossover(strategy_key="k").warmup_bars == 21
    assert RsiMeanReversion(strategy_key="k").warmup_bars == 15
    assert BollingerBreakout(strategy_key="k").warmup_bars == 20
    assert MomentumTrend(strategy_key="k").warmup_bars == 50


def test_no_signal_before_warmup() -> None:
    # A falling-then-rising series crosses early; nothing may appear before warmup_bars bars.
    closes = [str(100 - i) for i in range(30)] + [str(70 + 3 * i) for i in range(30)]
    for generator in (
        SmaCrossover(strategy_key="k"),
        RsiMeanReversion(strategy_key="k"),
        BollingerBreakout(strategy_key="k"),
        MomentumTrend(strategy_key="k"),
    ):
        signals = feed(generator, closes)
        assert signals, type(generator).__name__
        assert signals[0][0] >= generator.warmup_bars


def test_registry_builds_each_generator() -> None:
    assert set(STRATEGY_TYPES) == {
        "SMA_CROSSOVER",
        "RSI_MEAN_REVERSION",
        "BOLLINGER_BREAKOUT",
        "MOMENTUM",
        "EXTERNAL_AI",
    }
    built = generator_build("SMA_CROSSOVER", {"fast_period": "5", "slow_period": 8}, strategy_key="x")
    assert isinstance(built, SmaCrossover) and built.params == SmaCrossoverParams(fast_period=5, slow_period=8)
    assert isinstance(generator_build("RSI_MEAN_REVERSION", None, strategy_key="x"), RsiMeanReversion)
    assert isinstance(generator_build("BOLLINGER_BREAKOUT", {}, strategy_key="x"), BollingerBreakout)
    assert isinstance(generator_build("MOMENTUM", MomentumParams(), strategy_key="x"), MomentumTrend)
    with pytest.raises(ValueError, match="no built-in generator"):
        generator_build("EXTERNAL_AI", {}, strategy_key="x")
    with pytest.raises(ValueError, match="Unknown strategy type"):
        generator_build("GRID", {}, strategy_key="x")
    with pytest.raises(InvalidStrategyParameters) as raised:
        generator_build("SMA_CROSSOVER", {"fast_period": 30}, strategy_key="x")
    assert raised.value.code == "invalid_strategy_parameters"
    assert raised.value.errors == {"fast_period": ["The fast period (30) must be shorter than the slow period (20)."]}


def test_registry_describes_each_type() -> None:
    described = STRATEGY_TYPES["SMA_CROSSOVER"].as_dict()
    assert described["has_generator"] is True
    names = [p["name"] for p in described["parameters"]]
    assert names == [
        "fast_period",
        "slow_period",
        "position_size",
        "confidence",
        "stop_loss_pct",
        "take_profit_pct",
        "allow_short",
    ]
    assert STRATEGY_TYPES["EXTERNAL_AI"].as_dict()["parameters"] == []
    assert STRATEGY_TYPES["EXTERNAL_AI"].generator is None


def test_signals_pickle_for_worker_processes() -> None:
    import pickle

    generator = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3), strategy_key="s1")
    (signal, _) = generator.on_bars(bar(i, c) for i, c in enumerate(SMA_CLOSES, start=1))
    assert pickle.loads(pickle.dumps(signal)) == signal
