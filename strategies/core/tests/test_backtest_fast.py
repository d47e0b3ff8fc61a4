"""FastSmaCrossover emits exactly the live SmaCrossover's signals (payloads included), whatever the closes."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.core.backtest.fast import FastSmaCrossover
from strategies.core.backtest.signals import strategy_generator
from strategies.core.generators import SmaCrossover
from strategies.core.params import SmaCrossoverParams
from trading.core.bars import Bar

START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def _bars(closes: list[Decimal], symbol: str = "AAPL") -> list[Bar]:
    return [Bar(symbol, START + timedelta(minutes=i), c, c, c, c, Decimal(1)) for i, c in enumerate(closes)]


def _both(params: SmaCrossoverParams, bars: list[Bar]) -> tuple[list, list]:
    slow = SmaCrossover(params, strategy_key="s")
    fast = FastSmaCrossover(params, strategy_key="s")
    return [s.as_payload() for s in slow.on_bars(bars)], [s.as_payload() for s in fast.on_bars(bars)]


# Cents on a small grid so averages often tie and cross; some closes with more places to force a rescale.
cents = st.integers(min_value=9_990, max_value=10_010).map(lambda n: Decimal(n).scaleb(-2))
odd_places = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000"), places=6)
periods = st.tuples(st.integers(2, 8), st.integers(1, 12)).map(lambda t: (t[0], t[0] + t[1]))


@settings(max_examples=300, deadline=None)
@given(closes=st.lists(st.one_of(cents, cents, cents, odd_places), min_size=0, max_size=120), periods=periods)
def test_same_signals_as_the_generator(closes: list[Decimal], periods: tuple[int, int]) -> None:
    params = SmaCrossoverParams(fast_period=periods[0], slow_period=periods[1], allow_short=True)
    slow, fast = _both(params, _bars(closes))
    assert fast == slow


# Closes of 26 to 34 significant digits: the integer sums break the exactness bound, and the
# generator's own Decimal arithmetic (which may round) takes over.
huge = st.integers(min_value=10**25, max_value=10**34 - 1).map(lambda n: Decimal(n).scaleb(-3))


@settings(max_examples=150, deadline=None)
@given(closes=st.lists(st.one_of(cents, huge), min_size=1, max_size=80), periods=periods)
def test_same_signals_past_the_exactness_bound(closes: list[Decimal], periods: tuple[int, int]) -> None:
    params = SmaCrossoverParams(fast_period=periods[0], slow_period=periods[1], allow_short=True)
    slow, fast = _both(params, _bars(closes))
    assert fast == slow


def test_same_representation_when_places_vary() -> None:
    # 100.1 then 100.10 then 100.100: equal values, different exponents; the sums keep the smallest.
    closes = [Decimal(x) for x in ["100.1", "100.10", "99", "100.100", "101", "98.5", "103", "97", "104", "96"]]
    params = SmaCrossoverParams(fast_period=2, slow_period=3, allow_short=True)
    slow, fast = _both(params, _bars(closes))
    assert slow and fast == slow


def test_refed_and_late_bars_and_set_target_behave_as_live() -> None:
    params = SmaCrossoverParams(fast_period=2, slow_period=3, allow_short=True)
    bars = _bars([Decimal(x) for x in ["10", "10", "10", "11", "12", "11", "9", "8", "9", "11", "12", "8"]])
    noisy = [*bars[:6], bars[3], bars[5], *bars[6:]]  # a re-fed and a late bar: ignored by both
    slow, fast = SmaCrossover(params, strategy_key="s"), FastSmaCrossover(params, strategy_key="s")
    for bar in noisy:
        assert fast.on_bar(bar) == slow.on_bar(bar)
        if bar.close == Decimal(9):
            slow.set_target("AAPL", "FLAT")
            fast.set_target("AAPL", "FLAT")
    assert fast.target("AAPL") == slow.target("AAPL")


def test_strategy_generator_picks_the_fast_path_only_for_sma() -> None:
    assert type(strategy_generator("SMA_CROSSOVER", {})) is FastSmaCrossover
    assert type(strategy_generator("SMA_CROSSOVER", {}, fast=False)) is SmaCrossover
    assert type(strategy_generator("RSI_MEAN_REVERSION", {})).__name__ == "RsiMeanReversion"


ONE_AND_A_BIT = "1.000000000000000000000000000000001"  # 34 digits: the integers pass the bound, Decimal stays exact


def _targets(closes: list[str]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    params = SmaCrossoverParams(fast_period=2, slow_period=3, allow_short=True)
    bars = _bars([Decimal(c) for c in closes])
    slow = SmaCrossover(params, strategy_key="s")
    fast = FastSmaCrossover(params, strategy_key="s")
    return (
        [(i, s.target) for i, bar in enumerate(bars) if (s := slow.on_bar(bar)) is not None],
        [(i, s.target) for i, bar in enumerate(bars) if (s := fast.on_bar(bar)) is not None],
    )


def test_above_stays_above_across_the_switch_to_decimal() -> None:
    # Bar 3: fast 1.5 above slow 1.33 (the first relation, no signal); bar 4's close breaks the integer bound and
    # the fast average stays above: no crossing.
    slow, fast = _targets(["1", "1", "2", "400000000000000000000000000000000"])
    assert fast == slow == []


def test_below_stays_below_across_the_switch_to_decimal() -> None:
    # Bar 3: fast 1.5 below slow 1.67; bar 4 (34 digits) rescales past the bound, the fast average stays below.
    slow, fast = _targets(["2", "2", "1", ONE_AND_A_BIT])
    assert fast == slow == []


def test_a_switch_during_warm_up_still_sets_the_first_relation() -> None:
    # Decimal from the first bar; bar 3 is the first full window (fast below slow), bar 4 crosses above: LONG.
    slow, fast = _targets([ONE_AND_A_BIT, "0.5", "0.5", "3"])
    assert fast == slow == [(3, "LONG")]


def test_whole_number_closes_keep_whole_number_sums() -> None:
    # No decimal places: the sums' exponent is 0, as SMA's (fast_sma "10", not "10.0").
    params = SmaCrossoverParams(fast_period=2, slow_period=3, allow_short=True)
    closes = [Decimal(x) for x in ["10", "10", "10", "11", "12", "11", "9", "8", "9", "11", "12", "8"]]
    slow, fast = _both(params, _bars(closes))
    assert fast == slow and slow[0]["metadata"]["indicators"]["fast_sma"] == "10"


def test_a_close_object_seen_before_reads_its_cached_integer() -> None:
    # Data sources hand the same Decimal object for a repeated price: the cached integer (at scale 2) is used.
    pool = [Decimal(x) for x in ["10.05", "10.10", "9.95", "10.20", "9.80"]]
    closes = [pool[i] for i in [0, 0, 1, 3, 3, 2, 4, 4, 2, 1, 3, 0, 4, 2]]
    params = SmaCrossoverParams(fast_period=2, slow_period=3, allow_short=True)
    slow, fast = _both(params, _bars(closes))
    assert len(slow) >= 2 and fast == slow
