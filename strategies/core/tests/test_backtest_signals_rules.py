"""Replayed EXTERNAL_AI signals: every field read, every check with its message; the generator a backtest runs."""

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

import numpy as np
import pytest

from strategies.core.backtest.fast import FastSmaCrossover
from strategies.core.backtest.signals import ExternalSignal, external_signals, strategy_generator
from strategies.core.generators import DEFAULT_SIGNAL_TTL, SmaCrossover

D = Decimal
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def record(**fields) -> dict:
    return {"time": T0, "symbol": "ACME", "signal_type": "BUY", "position_size": "0.5", **fields}


def one(**fields) -> ExternalSignal:
    (signal,) = external_signals([record(**fields)])
    return signal


# ---- the generator ------------------------------------------------------------------------------------------------


def test_the_sma_generator_runs_on_its_fast_path_with_the_key_ttl_and_parameters() -> None:
    ttl = timedelta(minutes=5)
    generator = strategy_generator(
        "SMA_CROSSOVER", {"fast_period": 3, "slow_period": 7}, strategy_key="k1", signal_ttl=ttl
    )
    assert type(generator) is FastSmaCrossover
    assert (generator.strategy_key, generator.signal_ttl) == ("k1", ttl)
    assert (generator.params.fast_period, generator.params.slow_period) == (3, 7)


def test_without_the_fast_path_the_live_generator_keeps_the_key_and_ttl() -> None:
    ttl = timedelta(minutes=5)
    generator = strategy_generator("SMA_CROSSOVER", {"fast_period": 3}, strategy_key="k2", signal_ttl=ttl, fast=False)
    assert type(generator) is SmaCrossover
    assert (generator.strategy_key, generator.signal_ttl, generator.params.fast_period) == ("k2", ttl, 3)


def test_a_generator_defaults_to_the_backtest_key_and_the_live_ttl() -> None:
    generator = strategy_generator("SMA_CROSSOVER")
    assert type(generator) is FastSmaCrossover
    assert (generator.strategy_key, generator.signal_ttl) == ("backtest", DEFAULT_SIGNAL_TTL)
    other = strategy_generator("RSI_MEAN_REVERSION", {}, fast=True)
    assert type(other).__name__ == "RsiMeanReversion" and other.strategy_key == "backtest"


def test_an_unknown_strategy_type_is_refused() -> None:
    with pytest.raises(ValueError):
        strategy_generator("NO_SUCH_STRATEGY")


# ---- every field ---------------------------------------------------------------------------------------------------


def test_every_field_of_a_full_record_is_read() -> None:
    expires = T0 + timedelta(minutes=10)
    signal = one(
        id=42,
        signal_type="sell",
        position_size="0.25",
        stop_loss="101.5",
        take_profit=95,
        target_price=99.1,
        confidence="0.8",
        expires_at=expires.isoformat(),
        metadata={"model": 7, "note": "x"},
    )
    assert signal == ExternalSignal(
        at=T0,
        symbol="ACME",
        signal_type="SELL",
        position_size=D("0.25"),
        id="42",
        stop_loss=D("101.5"),
        take_profit=D(95),
        target_price=D("99.1"),  # a float's shortest repr, not its binary expansion
        confidence=D("0.8"),
        expires_at=expires,
        model="7",
        metadata={"model": 7, "note": "x"},
    )
    assert str(signal.target_price) == "99.1" and signal.id == "42"


def test_a_bare_record_takes_the_defaults() -> None:
    signal = one()
    assert (signal.id, signal.stop_loss, signal.take_profit, signal.target_price) == ("replay-0", None, None, None)
    assert (signal.confidence, signal.expires_at, signal.model, signal.metadata) == (None, None, None, {})
    assert external_signals([record(), record()])[1].id == "replay-1"


def test_empty_text_counts_as_absent() -> None:
    signal = one(stop_loss="", take_profit="", target_price="", confidence="", metadata=None)
    assert (signal.stop_loss, signal.take_profit, signal.target_price, signal.confidence) == (None, None, None, None)
    assert signal.metadata == {} and signal.model is None


@pytest.mark.parametrize("key", ["time", "at", "created_at"])
def test_the_time_may_be_named_time_at_or_created_at(key: str) -> None:
    fields = record()
    del fields["time"]
    fields[key] = "2026-03-02T15:00:00+00:00"
    (signal,) = external_signals([fields])
    assert signal.at == datetime(2026, 3, 2, 15, tzinfo=UTC)


def test_time_takes_precedence_over_at_and_created_at() -> None:
    later = T0 + timedelta(hours=1)
    assert one(at=later, created_at=later).at == T0
    fields = record(created_at=later, at=T0 + timedelta(hours=2))
    del fields["time"]
    assert external_signals([fields])[0].at == T0 + timedelta(hours=2)


def test_confidence_may_be_named_confidence_score() -> None:
    assert one(confidence_score="0.6").confidence == D("0.6")
    assert one(confidence="0.7", confidence_score="0.6").confidence == D("0.7")


def test_a_model_comes_from_the_metadata() -> None:
    assert one(metadata={"model": "gpt-x"}).model == "gpt-x"
    assert one(metadata={"model": None}).model is None
    assert one(metadata={"other": 1}).model is None


def test_a_non_utc_time_keeps_its_instant() -> None:
    paris = timezone(timedelta(hours=1))
    signal = one(time=datetime(2026, 3, 2, 15, 30, tzinfo=paris))
    assert signal.at == T0


def test_signals_come_back_in_time_order_stable_for_equal_times() -> None:
    records = [
        record(id="late", time=T0 + timedelta(minutes=2)),
        record(id="first", time=T0),
        record(id="second", time=T0),
    ]
    assert [s.id for s in external_signals(records)] == ["first", "second", "late"]


def test_an_iterator_of_records_is_enough() -> None:
    assert [s.id for s in external_signals(iter([record(id="a")]))] == ["a"]
    assert external_signals([]) == []


# ---- position_size -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["1", "0.000001", 1, "0.5"])
def test_a_position_size_in_zero_to_one_is_taken(size) -> None:
    assert one(position_size=size).position_size == D(str(size))


@pytest.mark.parametrize("size", ["0", "-0.1", "1.000001", "2"])
def test_a_position_size_outside_zero_to_one_is_refused(size: str) -> None:
    with pytest.raises(ValueError, match=rf"^Signal 0: position_size must lie in \(0, 1\], got {D(size)}\.$"):
        one(position_size=size)


def test_a_hold_needs_no_position_size_but_a_trade_does() -> None:
    hold = one(signal_type="HOLD", position_size=None)
    assert hold.position_size == D(0) and hold.signal_type == "HOLD"
    assert one(signal_type="HOLD", position_size="0.3").position_size == D("0.3")
    with pytest.raises(ValueError, match=r"^Signal 0: position_size is missing\.$"):
        one(signal_type="BUY", position_size=None)
    with pytest.raises(ValueError, match=r"^Signal 0: position_size is missing\.$"):
        one(signal_type="SELL", position_size="")


# ---- refusals, with the record's index -------------------------------------------------------------------------


def test_a_missing_time_is_refused() -> None:
    fields = record()
    del fields["time"]
    with pytest.raises(ValueError, match=r"^Signal 1: time is missing\.$"):
        external_signals([record(), fields])


@pytest.mark.parametrize("signal_type", ["SHORT", "", None])
def test_an_unknown_signal_type_is_refused(signal_type) -> None:
    expected = rf"^Signal 0: signal_type must be BUY, SELL or HOLD, got {signal_type!r}\.$"
    with pytest.raises(ValueError, match=expected):
        one(signal_type=signal_type)


def test_a_signal_type_is_read_in_any_case() -> None:
    assert one(signal_type="Buy").signal_type == "BUY"


def test_a_missing_signal_type_is_refused() -> None:
    fields = record()
    del fields["signal_type"]
    with pytest.raises(ValueError, match=r"^Signal 0: signal_type must be BUY, SELL or HOLD, got None\.$"):
        external_signals([fields])


@pytest.mark.parametrize("symbol", ["", None])
def test_a_missing_symbol_is_refused(symbol) -> None:
    with pytest.raises(ValueError, match=r"^Signal 0: symbol is missing\.$"):
        one(symbol=symbol)


def test_a_symbol_is_kept_as_given() -> None:
    assert one(symbol="BRK.B").symbol == "BRK.B"


@pytest.mark.parametrize("name", ["stop_loss", "take_profit", "target_price", "confidence", "position_size"])
def test_a_price_that_is_not_a_number_is_refused_by_name(name: str) -> None:
    with pytest.raises(ValueError, match=rf"^Signal 0: {name} 'abc' is not a number\.$"):
        one(**{name: "abc"})


@pytest.mark.parametrize("name", ["stop_loss", "take_profit", "target_price", "confidence"])
def test_a_price_that_is_not_finite_is_refused_by_name(name: str) -> None:
    with pytest.raises(ValueError, match=rf"^Signal 0: {name} 'Infinity' is not a finite number\.$"):
        one(**{name: "Infinity"})
    with pytest.raises(ValueError, match=rf"^Signal 0: {name} nan is not a finite number\.$"):
        one(**{name: float("nan")})


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^Signal 0: time '2026-03-02T14:30:00' must carry a time zone\.$"):
        one(time="2026-03-02T14:30:00")
    naive_expiry = datetime(2026, 3, 2, 15)
    expected = rf"^Signal 0: expires_at {re.escape(repr(naive_expiry))} must carry a time zone\.$"
    with pytest.raises(ValueError, match=expected):
        one(expires_at=naive_expiry)


def test_a_time_that_is_not_a_time_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^Signal 0: time 12 is not a time\.$"):
        one(time=12)
    with pytest.raises(ValueError, match=r"^Signal 0: expires_at 12 is not a time\.$"):
        one(expires_at=12)


def test_an_expiry_is_read_as_given() -> None:
    expires = T0 + timedelta(minutes=3)
    assert one(expires_at=expires).expires_at == expires


def test_a_time_zone_without_an_offset_is_refused() -> None:
    class NoOffset(tzinfo):
        def utcoffset(self, dt: datetime | None) -> None:
            return None

    at = datetime(2026, 3, 2, 14, 30, tzinfo=NoOffset())
    with pytest.raises(ValueError, match=r"^Signal 0: time .* must carry a time zone\.$"):
        one(time=at)


def test_numpy_numbers_are_read_by_their_value() -> None:
    # Records taken from a DataFrame row by row carry numpy scalars (numpy 2 spells their repr np.float64(...)).
    signal = one(position_size=np.float64(0.5), stop_loss=np.float64(99.1), take_profit=np.int64(120))
    assert (signal.position_size, signal.stop_loss, signal.take_profit) == (D("0.5"), D("99.1"), D(120))
