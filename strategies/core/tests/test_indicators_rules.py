"""The indicators' rules stated one by one on small exact examples: periods, inputs, warm-up, each formula's terms."""

import re
from decimal import Decimal, localcontext

import pytest

from strategies.core.indicators import (
    ATR,
    CONTEXT,
    EMA,
    MAX_PERIOD,
    MIN_PERIOD,
    RSI,
    SMA,
    BollingerBands,
    Momentum,
    RateOfChange,
    RollingStd,
)

D = Decimal
SINGLE_INPUT = [SMA, EMA, RSI, RollingStd, BollingerBands, RateOfChange, Momentum]


def feed(indicator, values: list[str]) -> list:
    return [indicator.update(D(value)) for value in values]


def test_period_limits() -> None:
    assert (MIN_PERIOD, MAX_PERIOD) == (1, 10_000)
    assert SMA(1).period == 1
    assert SMA(10_000).period == 10_000
    with pytest.raises(ValueError, match=r"^A period must lie in \[1, 10000\], got 0\.$"):
        SMA(0)
    with pytest.raises(ValueError, match=r"^A period must lie in \[1, 10000\], got 10001\.$"):
        SMA(10_001)


@pytest.mark.parametrize("kind", [*SINGLE_INPUT, ATR])
def test_every_indicator_checks_its_period(kind) -> None:
    assert kind(7).period == 7
    with pytest.raises(ValueError, match=r"got 0\.$"):
        kind(0)
    with pytest.raises(TypeError, match=r"^A period must be an int, got float\.$"):
        kind(2.0)
    with pytest.raises(TypeError, match=r"^A period must be an int, got bool\.$"):
        kind(True)


def test_default_periods() -> None:
    assert RSI().period == 14
    assert ATR().period == 14
    bands = BollingerBands()
    assert (bands.period, bands.k) == (20, D(2))


@pytest.mark.parametrize("kind", SINGLE_INPUT)
@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (1.5, TypeError, r"^Indicator inputs must be Decimal, got float\.$"),
        (2, TypeError, r"^Indicator inputs must be Decimal, got int\.$"),
        (D("NaN"), ValueError, r"^Indicator inputs must be finite, got NaN\.$"),
        (D("Infinity"), ValueError, r"^Indicator inputs must be finite, got Infinity\.$"),
        (D("-Infinity"), ValueError, r"^Indicator inputs must be finite, got -Infinity\.$"),
    ],
)
def test_inputs_must_be_finite_decimals(kind, value, error, message) -> None:
    indicator = kind(1)
    with pytest.raises(error, match=message):
        indicator.update(value)


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize("bad", [1.5, D("NaN"), D("Infinity")])
def test_atr_checks_each_price(position: int, bad) -> None:
    prices = [D(3), D(1), D(2)]
    prices[position] = bad
    with pytest.raises((TypeError, ValueError), match=r"^Indicator inputs must be"):
        ATR(1).update(*prices)


@pytest.mark.parametrize(
    ("kind", "warm_after"),
    [(SMA, 3), (EMA, 3), (RSI, 4), (RollingStd, 3), (BollingerBands, 3), (RateOfChange, 4), (Momentum, 4)],
)
def test_ready_once_warm(kind, warm_after: int) -> None:
    indicator = kind(3)
    for count in range(1, warm_after + 1):
        assert not indicator.ready
        assert indicator.value is None
        result = indicator.update(D(count))
        assert (result is None) == (count < warm_after)
    assert indicator.ready
    assert indicator.value == result


def test_period_one() -> None:
    assert feed(SMA(1), ["4", "6"]) == [D(4), D(6)]
    assert feed(EMA(1), ["4", "6"]) == [D(4), D(6)]
    assert feed(Momentum(1), ["4", "6", "3"]) == [None, D(2), D(-3)]
    assert feed(RateOfChange(1), ["4", "6", "3"]) == [None, D("0.5"), D("-0.5")]


def test_sma_slides_its_window() -> None:
    assert feed(SMA(2), ["1", "3", "8", "2"]) == [None, D(2), D("5.5"), D(5)]


def test_ema_alpha_and_smoothing() -> None:
    assert EMA(3).alpha == D("0.5")
    assert EMA(4).alpha == D("0.4")
    # EMA(4): seed mean(1, 2, 3, 6) = 3, then 3 + 0.4 * (8 - 3) = 5, then 5 + 0.4 * (0 - 5) = 3.
    assert feed(EMA(4), ["1", "2", "3", "6", "8", "0"]) == [None, None, None, D(3), D(5), D(3)]


def test_rsi_wilder_smoothing() -> None:
    # RSI(2): changes +3, -1 -> avg gain 1.5, avg loss 0.5, RSI 75; then -2: gain (1.5 * 1 + 0) / 2 = 0.75,
    # loss (0.5 * 1 + 2) / 2 = 1.25, RSI 37.5; then 0: gain 0.375, loss 0.625, still 37.5.
    assert feed(RSI(2), ["10", "13", "12", "10", "10"]) == [None, None, D(75), D("37.5"), D("37.5")]
    # RSI(4): gains 4, 0, 0, 0, no losses -> 100; then -5: gain (1 * 3 + 0) / 4 = 0.75, loss 5 / 4, RSI 37.5.
    assert feed(RSI(4), ["1", "5", "5", "5", "5", "0"])[-2:] == [D(100), D("37.5")]


def test_rsi_falling_only_is_zero() -> None:
    assert feed(RSI(2), ["9", "8", "7", "7"]) == [None, None, D(0), D(0)]


def test_rsi_one_rounding() -> None:
    # changes +1, +1, -1: 100 * (2/3) / (2/3 + 1/3) in one rounding is 66.666...7 to 34 digits.
    with localcontext(CONTEXT):
        expected = D(200) / D(3)
    assert feed(RSI(3), ["1", "2", "3", "2"])[-1] == expected


def test_rolling_std_slides_and_is_population() -> None:
    assert feed(RollingStd(2), ["1", "3", "3", "7"]) == [
        None,
        (D(2), D(1)),
        (D(3), D(0)),
        (D(5), D(2)),
    ]


def test_rolling_std_floors_a_rounding_negative_variance_at_zero() -> None:
    # Two equal 34-digit values: sum(x^2)/n - mean^2 rounds to -1E-33, whose root would be an error.
    value = "2.592592566666666666666666666666667"
    assert feed(RollingStd(2), [value, value])[-1] == (D(value), D(0))


def test_bollinger_bands_terms() -> None:
    bands = BollingerBands(2, D("1.5"))
    assert feed(bands, ["1", "5"]) == [None, (D(3), D(6), D(0), D(2))]
    assert bands.value == (D(3), D(6), D(0), D(2))
    assert (bands.value.middle, bands.value.upper, bands.value.lower, bands.value.std) == (D(3), D(6), D(0), D(2))


@pytest.mark.parametrize("k", [D(0), D(-1), D("Infinity"), D("NaN"), 2.0, 2])
def test_bollinger_k_must_be_a_positive_finite_decimal(k) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(f'The band width k must be a positive Decimal, got {k!r}.')}$"):
        BollingerBands(20, k)


def test_bollinger_accepts_a_small_k() -> None:
    assert BollingerBands(20, D("0.01")).k == D("0.01")


def test_lagged_indicators_look_exactly_period_back() -> None:
    assert feed(Momentum(2), ["1", "2", "4", "8", "16"]) == [None, None, D(3), D(6), D(12)]
    assert feed(RateOfChange(2), ["1", "2", "4", "8", "16"]) == [None, None, D(3), D(3), D(3)]


def test_rate_of_change_from_zero() -> None:
    roc = RateOfChange(1)
    roc.update(D(0))
    with pytest.raises(ValueError, match=r"^The rate of change is undefined from a value of 0\.$"):
        roc.update(D(1))
    # A zero that is the newest value, not the base, is fine.
    assert feed(RateOfChange(1), ["2", "0"]) == [None, D(-1)]


def test_atr_true_range_terms() -> None:
    # ATR(1) is the true range itself: the bar's range, or the gap from the previous close when larger.
    atr = ATR(1)
    assert atr.update(D(10), D(9), D("9.5")) is None
    assert not atr.ready
    assert atr.update(D(12), D(11), D("11.5")) == D("2.5")  # gap up: high - previous close
    assert atr.update(D(8), D(7), D("7.5")) == D("4.5")  # gap down: previous close - low
    assert atr.update(D(9), D(6), D(8)) == D(3)  # inside: high - low
    assert atr.ready and atr.value == D(3)


def test_atr_wilder_smoothing() -> None:
    # ATR(2): true ranges 2, 4 -> seed 3; then 1 -> (3 * 1 + 1) / 2 = 2.
    atr = ATR(2)
    bars = [("10", "9", "10"), ("12", "10", "11"), ("13", "9", "12"), ("12.5", "11.5", "12")]
    assert [atr.update(D(h), D(lo), D(c)) for h, lo, c in bars] == [None, None, D(3), D(2)]


def test_atr_bar_limits() -> None:
    atr = ATR(1)
    atr.update(D(5), D(5), D(5))  # a bar with no range is fine
    assert atr.update(D(5), D(5), D(5)) == D(0)
    with pytest.raises(ValueError, match=r"^A bar's low 2 lies above its high 1\.$"):
        atr.update(D(1), D(2), D(1))
