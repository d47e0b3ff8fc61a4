"""Each indicator against a from-scratch pandas computation on random series, to 1e-9, plus hand checks."""

from decimal import Decimal, localcontext

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.core.indicators import (
    ATR,
    CONTEXT,
    EMA,
    RSI,
    SMA,
    BollingerBands,
    Momentum,
    RateOfChange,
    RollingStd,
)

D = Decimal
TOLERANCE = 1e-9

prices = st.lists(
    st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=120,
)
periods = st.integers(min_value=1, max_value=30)


def run(indicator, values: list[Decimal]) -> list[float]:
    out = []
    for value in values:
        result = indicator.update(value)
        assert result == indicator.value or result is None
        out.append(np.nan if result is None else float(result))
    return out


def assert_matches(ours: list[float], expected: pd.Series) -> None:
    expected_values = expected.to_numpy(dtype=float)
    assert len(ours) == len(expected_values)
    for got, want in zip(ours, expected_values, strict=True):
        if np.isnan(want):
            assert np.isnan(got), (got, want)
        else:
            assert abs(got - want) <= TOLERANCE, (got, want)


def seeded_ewm(values: pd.Series, period: int, alpha: float) -> pd.Series:
    """pandas ewm(adjust=False) started from the mean of the first `period` values, NaN before."""
    out = pd.Series(np.nan, index=values.index)
    if len(values) < period:
        return out
    seeded = values.iloc[period - 1 :].copy()
    seeded.iloc[0] = values.iloc[:period].mean()
    out.iloc[period - 1 :] = seeded.ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


@settings(max_examples=60, deadline=None)
@given(prices, periods)
def test_sma_matches_pandas_rolling_mean(values: list[Decimal], period: int) -> None:
    series = pd.Series([float(v) for v in values])
    assert_matches(run(SMA(period), values), series.rolling(period).mean())


@settings(max_examples=60, deadline=None)
@given(prices, periods)
def test_ema_matches_pandas_ewm(values: list[Decimal], period: int) -> None:
    series = pd.Series([float(v) for v in values])
    assert_matches(run(EMA(period), values), seeded_ewm(series, period, 2 / (period + 1)))


@settings(max_examples=60, deadline=None)
@given(prices, periods)
def test_rsi_matches_pandas_wilder(values: list[Decimal], period: int) -> None:
    series = pd.Series([float(v) for v in values])
    change = series.diff().iloc[1:]
    gain = seeded_ewm(change.clip(lower=0), period, 1 / period)
    loss = seeded_ewm(-change.clip(upper=0), period, 1 / period)
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100 - 100 / (1 + gain / loss)
    rsi = rsi.where(loss != 0, np.where(gain > 0, 100.0, 50.0)).where(gain.notna())
    expected = pd.concat([pd.Series([np.nan]), rsi], ignore_index=True)
    assert_matches(run(RSI(period), values), expected)


@settings(max_examples=60, deadline=None)
@given(prices, periods)
def test_rolling_std_is_population_std(values: list[Decimal], period: int) -> None:
    series = pd.Series([float(v) for v in values])
    ours = RollingStd(period)
    means, stds = [], []
    for value in values:
        result = ours.update(value)
        means.append(np.nan if result is None else float(result.mean))
        stds.append(np.nan if result is None else float(result.std))
    assert_matches(means, series.rolling(period).mean())
    assert_matches(stds, series.rolling(period).std(ddof=0))


@settings(max_examples=60, deadline=None)
@given(prices, periods, st.sampled_from([D("0.5"), D("1"), D("2"), D("2.5"), D("3")]))
def test_bollinger_matches_pandas(values: list[Decimal], period: int, k: Decimal) -> None:
    series = pd.Series([float(v) for v in values])
    mean, std = series.rolling(period).mean(), series.rolling(period).std(ddof=0)
    bands = BollingerBands(period, k)
    uppers, lowers, middles = [], [], []
    for value in values:
        result = bands.update(value)
        middles.append(np.nan if result is None else float(result.middle))
        uppers.append(np.nan if result is None else float(result.upper))
        lowers.append(np.nan if result is None else float(result.lower))
    assert_matches(middles, mean)
    assert_matches(uppers, mean + float(k) * std)
    assert_matches(lowers, mean - float(k) * std)


@settings(max_examples=60, deadline=None)
@given(prices, periods)
def test_rate_of_change_matches_pct_change(values: list[Decimal], period: int) -> None:
    series = pd.Series([float(v) for v in values])
    assert_matches(run(RateOfChange(period), values), series.pct_change(period))


@settings(max_examples=60, deadline=None)
@given(prices, periods)
def test_momentum_matches_diff(values: list[Decimal], period: int) -> None:
    series = pd.Series([float(v) for v in values])
    assert_matches(run(Momentum(period), values), series.diff(period))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=D("1"), max_value=D("1000"), places=2),
            st.decimals(min_value=D("0"), max_value=D("50"), places=2),
            st.decimals(min_value=D("0"), max_value=D("1"), places=2),
        ),
        min_size=1,
        max_size=100,
    ),
    periods,
)
def test_atr_matches_pandas_wilder(rows: list[tuple[Decimal, Decimal, Decimal]], period: int) -> None:
    # A bar from (low, range, where the close sits in the range).
    bars = [(low + width, low, low + width * where) for low, width, where in rows]
    high = pd.Series([float(h) for h, _, _ in bars])
    low = pd.Series([float(lo) for _, lo, _ in bars])
    close = pd.Series([float(c) for _, _, c in bars])
    previous = close.shift(1)
    true_range = pd.concat([high - low, (high - previous).abs(), (low - previous).abs()], axis=1).max(axis=1)
    expected = pd.concat([pd.Series([np.nan]), seeded_ewm(true_range.iloc[1:], period, 1 / period)], ignore_index=True)
    atr = ATR(period)
    ours = []
    for h, lo, c in bars:
        result = atr.update(h, lo, c)
        ours.append(np.nan if result is None else float(result))
    assert_matches(ours, expected)


def test_sma_by_hand() -> None:
    sma = SMA(3)
    assert [sma.update(D(v)) for v in ("1", "2", "3", "4", "10")] == [
        None,
        None,
        D(2),
        D(3),
        D("5.666666666666666666666666666666667"),
    ]
    assert sma.ready


def test_ema_by_hand() -> None:
    ema = EMA(3)  # alpha 0.5, seed mean(2, 4, 6) = 4
    assert [ema.update(D(v)) for v in ("2", "4", "6", "8", "4")] == [None, None, D(4), D(6), D(5)]


def test_rsi_by_hand() -> None:
    rsi = RSI(2)
    # changes +2, -1: avg gain 1, avg loss 0.5, RS 2, RSI 66.67; then +1: gain (1*1+1)/2 = 1, loss 0.25, RS 4, RSI 80
    out = [rsi.update(D(v)) for v in ("10", "12", "11", "12")]
    assert out[:2] == [None, None]
    with localcontext(CONTEXT):
        assert out[2] == D(100) - D(100) / D(3)
    assert out[3] == D(80)


def test_rsi_flat_and_rising() -> None:
    flat = RSI(2)
    assert [flat.update(D(5)) for _ in range(4)][-1] == D(50)
    rising = RSI(2)
    assert [rising.update(D(v)) for v in (1, 2, 3)][-1] == D(100)


def test_bollinger_by_hand() -> None:
    bands = BollingerBands(4, D(2))
    for v in ("2", "4", "4", "4"):
        result = bands.update(D(v))
    # mean 3.5, population variance (2.25 + 3 * 0.25) / 4 = 0.75, std sqrt(0.75)
    assert result is not None
    with localcontext(CONTEXT):
        std = D("0.75").sqrt()
        assert result.middle == D("3.5") and result.std == std
        assert result.upper == D("3.5") + 2 * std and result.lower == D("3.5") - 2 * std


def test_rate_of_change_and_momentum_by_hand() -> None:
    roc, mom = RateOfChange(2), Momentum(2)
    assert [roc.update(D(v)) for v in ("100", "90", "110")] == [None, None, D("0.1")]
    assert [mom.update(D(v)) for v in ("100", "90", "110")] == [None, None, D(10)]


def test_results_do_not_depend_on_the_callers_context() -> None:
    values = [D("101.37"), D("99.91"), D("100.03"), D("102.77")]
    reference = SMA(3)
    expected = [reference.update(v) for v in values]
    with localcontext() as ctx:
        ctx.prec = 5
        sma = SMA(3)
        assert [sma.update(v) for v in values] == expected


@pytest.mark.parametrize("indicator", [SMA(2), EMA(2), RSI(2), RollingStd(2), RateOfChange(2), Momentum(2)])
def test_floats_are_refused(indicator) -> None:
    with pytest.raises(TypeError):
        indicator.update(1.5)


@pytest.mark.parametrize("period", [0, -1, 10_001])
def test_periods_out_of_range(period: int) -> None:
    with pytest.raises(ValueError):
        SMA(period)


def test_period_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        SMA(2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SMA(True)  # type: ignore[arg-type]


def test_bollinger_needs_positive_k() -> None:
    with pytest.raises(ValueError):
        BollingerBands(20, D(0))


def test_rate_of_change_from_zero_is_refused() -> None:
    roc = RateOfChange(1)
    roc.update(D(0))
    with pytest.raises(ValueError):
        roc.update(D(1))


def test_atr_refuses_inverted_bar() -> None:
    with pytest.raises(ValueError):
        ATR(2).update(D(1), D(2), D(1))
