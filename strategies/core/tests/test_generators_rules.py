"""The generators' rules one by one: construction limits, bar checks, each rule's strict levels, signal fields."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from strategies.core.generators import (
    DEFAULT_SIGNAL_TTL,
    GENERATOR_TYPES,
    MAX_STRATEGY_KEY_LENGTH,
    STRATEGY_TYPES,
    BollingerBreakout,
    MomentumTrend,
    RsiMeanReversion,
    SignalType,
    SmaCrossover,
    Target,
    generator_build,
)
from strategies.core.params import (
    PARAM_CLASSES,
    PARAM_SPECS,
    BollingerBreakoutParams,
    ExternalAiParams,
    MomentumParams,
    RsiMeanReversionParams,
    SmaCrossoverParams,
)
from strategies.core.tests.test_generators import START, bar, feed
from trading.core.bars import Bar

D = Decimal
BUY, SELL = SignalType.BUY, SignalType.SELL
LONG, SHORT, FLAT = Target.LONG, Target.SHORT, Target.FLAT


def signals(generator, closes: list[str], symbol: str = "AAPL") -> list:
    return generator.on_bars(bar(i, close, symbol) for i, close in enumerate(closes, start=1))


# ---- targets and construction --------------------------------------------------------------------------


def test_target_rank_is_the_position_sign() -> None:
    assert (LONG.rank, FLAT.rank, SHORT.rank) == (1, 0, -1)


def test_leaving_a_short_is_a_buy() -> None:
    # Long only, RSI(2) 100 is bearish: from a believed SHORT the target rises to FLAT.
    generator = RsiMeanReversion(RsiMeanReversionParams(period=2), strategy_key="r")
    generator.set_target("AAPL", SHORT)
    (signal,) = signals(generator, ["10", "11", "12"])
    assert (signal.previous_target, signal.target, signal.signal_type) == (SHORT, FLAT, BUY)


def test_default_params_and_ttl() -> None:
    generator = RsiMeanReversion(strategy_key="r")
    assert generator.params == RsiMeanReversionParams()
    assert generator.signal_ttl == DEFAULT_SIGNAL_TTL == timedelta(minutes=1)
    assert generator.strategy_key == "r"


def test_params_of_another_type_are_refused_with_their_names() -> None:
    message = "SmaCrossover takes SmaCrossoverParams, got RsiMeanReversionParams."
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        SmaCrossover(RsiMeanReversionParams(), strategy_key="s")  # type: ignore[arg-type]


def test_strategy_key_limits() -> None:
    assert MAX_STRATEGY_KEY_LENGTH == 64
    assert SmaCrossover(strategy_key="k" * 64).strategy_key == "k" * 64
    assert SmaCrossover(strategy_key="k").strategy_key == "k"
    for key in ("", "k" * 65, "a b", "a\tb", "ab\n"):
        message = f"The strategy key must be 1 to 64 characters without spaces, got {key!r}."
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            SmaCrossover(strategy_key=key)


def test_signal_ttl_must_be_positive() -> None:
    assert SmaCrossover(strategy_key="k", signal_ttl=timedelta(microseconds=1)).signal_ttl == timedelta(microseconds=1)
    for ttl, shown in ((timedelta(0), "0:00:00"), (timedelta(seconds=-1), "-1 day, 23:59:59")):
        message = f"The signal time to live must be positive, got {shown}."
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            SmaCrossover(strategy_key="k", signal_ttl=ttl)


# ---- bars ----------------------------------------------------------------------------------------------


def test_naive_bar_time_is_refused_with_the_time() -> None:
    naive = Bar("AAPL", datetime(2026, 3, 2, 14, 30), D(1), D(1), D(1), D(1), D(1))
    message = "A bar's minute must carry a time zone, got datetime.datetime(2026, 3, 2, 14, 30)."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        SmaCrossover(strategy_key="s").on_bar(naive)


@pytest.mark.parametrize("close", [D(0), D("-0.01"), D("NaN"), D("Infinity"), D("-Infinity"), 1.5, 2])
def test_close_must_be_a_positive_finite_decimal(close) -> None:
    generator = SmaCrossover(strategy_key="s")
    message = f"A bar's close must be a positive Decimal, got {close!r}."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        generator.on_bar(Bar("AAPL", START, D(1), D(1), D(1), close, D(1)))  # type: ignore[arg-type]
    assert generator.symbols() == ()


def test_a_tiny_close_is_accepted() -> None:
    generator = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3), strategy_key="s")
    assert generator.on_bar(bar(1, "0.000001")) is None
    assert generator.symbols() == ("AAPL",)


def test_late_and_refed_bars_are_ignored_per_symbol() -> None:
    generator = SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3), strategy_key="s")
    closes = ["10", "10", "10", "9", "8", "9", "11"]
    for index, close in enumerate(closes[:-1], start=1):
        generator.on_bar(bar(index, close))
    # A late bar for AAPL changes nothing (its SMAs would have crossed on it); another symbol is on its own.
    assert generator.on_bar(bar(6, "100")) is None
    assert generator.on_bar(bar(1, "10", "MSFT")) is None
    (signal,) = generator.on_bars([bar(7, closes[-1])])
    assert signal.indicators == {"fast_sma": D(10), "slow_sma": D("9.333333333333333333333333333333333")}


def test_target_and_symbols() -> None:
    generator = SmaCrossover(strategy_key="s")
    assert generator.symbols() == ()
    assert generator.target("AAPL") is FLAT
    generator.set_target("AAPL", "SHORT")
    assert generator.target("AAPL") is SHORT
    generator.set_target("MSFT", LONG)
    assert generator.symbols() == ("AAPL", "MSFT")
    assert generator.target("MSFT") is LONG
    with pytest.raises(ValueError):
        generator.set_target("AAPL", "UP")


# ---- stops ---------------------------------------------------------------------------------------------


def long_and_short(params: dict, closes: list[str]) -> list:
    out = []
    for allow_short in (False, True):
        p = BollingerBreakoutParams(period=3, k=D(1), allow_short=allow_short, **params)
        out.append(
            [(s.target, s.stop_loss, s.take_profit) for s in signals(BollingerBreakout(p, strategy_key="b"), closes)]
        )
    return out


def test_stops_round_away_from_the_close() -> None:
    params = {"stop_loss_pct": D("0.0333"), "take_profit_pct": D("0.0333")}
    # Up: 10.003 * 0.9667 = 9.6699001 down, 10.003 * 1.0333 = 10.3360999 up. Down: 9.997 * 1.0333 =
    # 10.3299001 up, 9.997 * 0.9667 = 9.6640999 down.
    up, down = long_and_short(params, ["10", "10", "10", "10.003"]), long_and_short(params, ["10", "10", "10", "9.997"])
    assert up == [[(LONG, D("9.669900"), D("10.336100"))]] * 2
    assert down == [[], [(SHORT, D("10.329901"), D("9.664099"))]]


def test_only_the_configured_stop_is_set() -> None:
    closes = ["10", "10", "10", "13"]
    assert long_and_short({"stop_loss_pct": D("0.5")}, closes)[0] == [(LONG, D("6.5"), None)]
    assert long_and_short({"take_profit_pct": D("0.5")}, closes)[0] == [(LONG, None, D("19.5"))]
    assert long_and_short({}, closes)[0] == [(LONG, None, None)]


def test_a_stop_that_rounds_to_zero_is_left_out() -> None:
    params = {"stop_loss_pct": D("0.5"), "take_profit_pct": D("0.5")}
    closes = ["0.000002", "0.000002", "0.000002", "0.000003"]
    # 0.000003 * 0.5 floors to 0.000001; 0.000001 * 0.5 floors to 0 (no stop), but the target 0.0000015 rounds up.
    assert long_and_short(params, closes)[0] == [(LONG, D("0.000001"), D("0.000005"))]
    falling = ["0.000002", "0.000002", "0.000002", "0.000001"]
    assert long_and_short(params, falling)[1] == [(SHORT, D("0.000002"), None)]


# ---- fields --------------------------------------------------------------------------------------------


def test_payload_in_full() -> None:
    params = BollingerBreakoutParams(
        period=2, k=D("0.5"), stop_loss_pct=D("0.1"), take_profit_pct=D("0.2"), confidence=D("0.75"), allow_short=True
    )
    generator = BollingerBreakout(params, strategy_key="bb-1", signal_ttl=timedelta(seconds=90))
    (signal,) = signals(generator, ["10", "10", "10", "5"], symbol="MSFT")
    assert signal.generated_at == START + timedelta(minutes=4)
    assert signal.as_payload() == {
        "id": "bb-1:MSFT:2026-03-02T14:33:00+00:00",
        "symbol": "MSFT",
        "signal_type": "SELL",
        "confidence_score": "0.75",
        "position_size": "0.1",
        "stop_loss": "5.500000",
        "take_profit": "4.000000",
        "expires_at": "2026-03-02T14:35:30+00:00",
        "metadata": {
            "strategy_key": "bb-1",
            "strategy_type": "BOLLINGER_BREAKOUT",
            "target": "SHORT",
            "previous_target": "FLAT",
            "reason": "Close 5 below the lower band 6.2500 (BB 2, 0.5)",
            "bar_minute": "2026-03-02T14:33:00+00:00",
            "reference_price": "5",
            "indicators": {"middle": "7.5", "upper": "8.75", "lower": "6.25"},
        },
    }


# ---- the rules -----------------------------------------------------------------------------------------


def sma(**params) -> SmaCrossover:
    return SmaCrossover(SmaCrossoverParams(fast_period=2, slow_period=3, **params), strategy_key="s")


def test_sma_an_equal_bar_is_no_cross_and_keeps_the_last_sign() -> None:
    # bar 4: fast 10.5 > slow 10.33 (first sign, recorded); bar 6: fast 11 == slow 11 (no cross);
    # bar 7: fast 10.5 > slow 10.33, the same sign as before the equal bar: no signal; bar 8: fast 9.5 < slow 10.33.
    assert feed(sma(allow_short=True), ["10", "10", "10", "11", "10", "12", "9", "10"]) == [(8, SELL, SHORT)]


def test_sma_the_first_sign_is_only_recorded() -> None:
    # bar 4: fast 9.5 < slow 9.67 is the first sign: no signal even with shorts; bar 6: fast 10.5 > slow 10: up.
    assert feed(sma(allow_short=True), ["10", "10", "10", "9", "10", "11"]) == [(6, BUY, LONG)]


def test_sma_reasons() -> None:
    made = signals(sma(allow_short=True), ["10", "10", "10", "11", "10", "12", "9", "10", "12"])
    assert [s.reason for s in made] == [
        "SMA(2) 9.5000 crossed below SMA(3) 10.3333",
        "SMA(2) 11.0000 crossed above SMA(3) 10.3333",
    ]


def rsi(**params) -> RsiMeanReversion:
    return RsiMeanReversion(RsiMeanReversionParams(period=2, **params), strategy_key="r")


def test_rsi_overbought_is_strict() -> None:
    # RSI(2) of 10, 11, 10 is 50: exactly at overbought 50 is no opinion, above it is.
    assert feed(rsi(oversold=D(40), overbought=D(50), allow_short=True), ["10", "11", "10"]) == []
    assert feed(rsi(oversold=D(40), overbought=D("49.9"), allow_short=True), ["10", "11", "10"]) == [(3, SELL, SHORT)]


def test_rsi_oversold_is_strict() -> None:
    # RSI(2) of 10, 9, 10 is 50: exactly at oversold 50 is no opinion, below it is.
    assert feed(rsi(oversold=D(50), overbought=D(80)), ["10", "9", "10"]) == []
    assert feed(rsi(oversold=D("50.1"), overbought=D(80)), ["10", "9", "10"]) == [(3, BUY, LONG)]


def test_rsi_overbought_reason() -> None:
    (signal,) = signals(rsi(allow_short=True), ["10", "11", "12"])
    assert signal.reason == "RSI(2) 100.0000 above overbought 70"
    assert signal.indicators == {"rsi": D(100)}


def bollinger(**params) -> BollingerBreakout:
    return BollingerBreakout(BollingerBreakoutParams(period=3, k=D(1), **params), strategy_key="b")


def test_bollinger_a_close_on_a_band_is_inside() -> None:
    generator = bollinger()
    assert feed(generator, ["10", "10", "10", "13"]) == [(4, BUY, LONG)]
    # Three equal closes: both bands equal the close; a long is kept and no short is opened.
    assert [generator.on_bar(bar(i, "13")) for i in range(5, 8)] == [None] * 3
    assert feed(bollinger(allow_short=True), ["10", "10", "10", "10"]) == []


def test_bollinger_reasons_and_values() -> None:
    (up,) = signals(bollinger(), ["10", "10", "10", "13"])
    assert up.reason == "Close 13 above the upper band 12.4142 (BB 3, 1)"
    assert up.indicators["middle"] == D(11) and up.indicators["lower"] < D(11) < up.indicators["upper"]
    (down,) = signals(bollinger(allow_short=True), ["10", "10", "10", "7"])
    assert down.reason == "Close 7 below the lower band 7.5858 (BB 3, 1)"


def momentum(threshold: str, **params) -> MomentumTrend:
    params = {"lookback": 2, "trend_period": 3, "threshold": D(threshold), **params}
    return MomentumTrend(MomentumParams(**params), strategy_key="m")


def test_momentum_threshold_is_strict_both_ways() -> None:
    # bar 4: roc (105 - 100) / 100 = 5 % and 105 > SMA 101.67; at a 5 % threshold it is no opinion.
    assert feed(momentum("0.05"), ["100", "100", "100", "105"]) == []
    assert feed(momentum("0.0499"), ["100", "100", "100", "105"]) == [(4, BUY, LONG)]
    assert feed(momentum("0.05", allow_short=True), ["100", "100", "100", "95"]) == []
    assert feed(momentum("0.0499", allow_short=True), ["100", "100", "100", "95"]) == [(4, SELL, SHORT)]


def test_momentum_the_close_must_be_beyond_the_trend() -> None:
    # bar 3: roc 0; bar 4: roc (100 - 90) / 90 = 11 % but the close equals SMA(3) of 90, 110, 100: not above it.
    assert feed(momentum("0.05"), ["110", "90", "110", "100"]) == []
    assert feed(momentum("0.05"), ["110", "90", "110", "101"]) == [(4, BUY, LONG)]
    # bar 4: roc (100 - 110) / 110 = -9 % but the close equals SMA(3) of 110, 90, 100: not below it.
    assert feed(momentum("0.05", allow_short=True), ["90", "110", "90", "100"]) == []
    assert feed(momentum("0.05", allow_short=True), ["90", "110", "90", "99"]) == [(4, SELL, SHORT)]


def test_momentum_reasons() -> None:
    (up,) = signals(momentum("0.05"), ["100", "100", "100", "106"])
    assert up.reason == "ROC(2) 0.0600 above 0.05 and close above SMA(3) 102.0000"
    assert up.indicators == {"rate_of_change": D("0.06"), "trend_sma": D(102)}
    (down,) = signals(momentum("0.05", allow_short=True), ["100", "100", "100", "94"])
    assert down.reason == "ROC(2) -0.0600 below -0.05 and close below SMA(3) 98.0000"


def test_warmup_bars() -> None:
    assert momentum("0", lookback=5, trend_period=4).warmup_bars == 6
    assert momentum("0", lookback=3, trend_period=4).warmup_bars == 4
    assert sma().warmup_bars == 4
    assert rsi().warmup_bars == 3
    assert bollinger().warmup_bars == 3


# ---- the registry --------------------------------------------------------------------------------------


def test_registry_entries() -> None:
    assert GENERATOR_TYPES == ("SMA_CROSSOVER", "RSI_MEAN_REVERSION", "BOLLINGER_BREAKOUT", "MOMENTUM")
    described = {name: info.as_dict() for name, info in STRATEGY_TYPES.items()}
    assert {name: (d["name"], d["label"], d["description"], d["has_generator"]) for name, d in described.items()} == {
        "SMA_CROSSOVER": (
            "SMA_CROSSOVER",
            "SMA crossover",
            "Long when the fast SMA crosses above the slow one.",
            True,
        ),
        "RSI_MEAN_REVERSION": (
            "RSI_MEAN_REVERSION",
            "RSI mean reversion",
            "Long when Wilder's RSI falls below oversold, out (or short) above overbought.",
            True,
        ),
        "BOLLINGER_BREAKOUT": (
            "BOLLINGER_BREAKOUT",
            "Bollinger breakout",
            "Long on a close above the upper band, out (or short) on a close below the lower band.",
            True,
        ),
        "MOMENTUM": (
            "MOMENTUM",
            "Momentum with trend filter",
            "Long when the rate of change beats the threshold above the trend SMA; out (or short) on the mirror.",
            True,
        ),
        "EXTERNAL_AI": ("EXTERNAL_AI", "External AI", "Signals posted by an AI producer through the API.", False),
    }
    for name, info in STRATEGY_TYPES.items():
        assert info.name == name
        assert info.parameters == PARAM_SPECS[name]
        assert info.params_class is PARAM_CLASSES[name]
        assert described[name]["parameters"] == [spec.as_dict() for spec in PARAM_SPECS[name]]
    assert STRATEGY_TYPES["EXTERNAL_AI"].params_class is ExternalAiParams
    assert STRATEGY_TYPES["MOMENTUM"].params_class is MomentumParams
    assert STRATEGY_TYPES["MOMENTUM"].generator is MomentumTrend


def test_generator_build_passes_key_ttl_and_params() -> None:
    params = BollingerBreakoutParams(period=5)
    built = generator_build("BOLLINGER_BREAKOUT", params, strategy_key="b7", signal_ttl=timedelta(minutes=3))
    assert type(built) is BollingerBreakout
    assert (built.params, built.strategy_key, built.signal_ttl) == (params, "b7", timedelta(minutes=3))
    assert generator_build("MOMENTUM", {"lookback": 3}, strategy_key="m").params == MomentumParams(lookback=3)
    assert generator_build("MOMENTUM", None, strategy_key="m").signal_ttl == DEFAULT_SIGNAL_TTL


def test_generator_build_errors() -> None:
    with pytest.raises(ValueError, match=r"^Unknown strategy type 'GRID'\.$"):
        generator_build("GRID", {}, strategy_key="x")
    message = "Strategy type EXTERNAL_AI has no built-in generator; its producer posts the signals."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        generator_build("EXTERNAL_AI", {}, strategy_key="x")
