"""1-minute bars from ticks: boundaries of a minute, the bounded outbox, draining and requeueing."""

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

import pytest

from trading.core.bars import MINUTE, Bar, BarAggregator, minute_floor

D = Decimal
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
EST = timezone(timedelta(hours=-5))


class _NoOffset(tzinfo):
    """A time zone that does not know its offset: such a time is as good as naive."""

    def utcoffset(self, dt):
        return None


def bar(symbol: str, minute: datetime, *ohlcv: str) -> Bar:
    return Bar(symbol, minute, *(D(v) for v in ohlcv))


def test_minute_floor_is_the_utc_start_of_the_minute() -> None:
    at = datetime(2026, 3, 2, 10, 0, 59, 999999, tzinfo=EST)
    assert minute_floor(at) == T0
    assert minute_floor(at).tzinfo is UTC


@pytest.mark.parametrize("at", [datetime(2026, 3, 2, 15, 0), datetime(2026, 3, 2, 15, 0, tzinfo=_NoOffset())])
def test_minute_floor_refuses_a_time_without_an_offset(at: datetime) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(f'A tick time must carry a time zone, got {at!r}.')}$"):
        minute_floor(at)


def test_a_bar_takes_open_high_low_close_and_volume() -> None:
    bars = BarAggregator()
    assert bars.open_bar("AAA") is None
    assert bars.add("AAA", D("10"), D("5"), T0 + timedelta(seconds=30))
    assert bars.open_bar("AAA") == bar("AAA", T0, "10", "10", "10", "10", "5")
    for seconds, price, size in [(31, "12", "1"), (32, "11", "2"), (33, "9", "3"), (34, "9.5", "4")]:
        assert bars.add("AAA", D(price), D(size), T0 + timedelta(seconds=seconds))
    assert bars.open_bar("AAA") == bar("AAA", T0, "10", "12", "9", "9.5", "15")
    assert bars.pending == 0


def test_a_tick_at_the_minute_start_belongs_to_it_and_one_before_is_refused() -> None:
    bars = BarAggregator()
    bars.add("AAA", D("10"), D("1"), T0 + timedelta(seconds=30))
    assert bars.add("AAA", D("11"), D("1"), T0)
    assert not bars.add("AAA", D("50"), D("1"), T0 - timedelta(microseconds=1))
    assert bars.open_bar("AAA") == bar("AAA", T0, "10", "11", "10", "11", "2")


def test_a_tick_at_the_minute_end_closes_the_bar_and_opens_the_next() -> None:
    bars = BarAggregator()
    bars.add("AAA", D("10"), D("1"), T0)
    assert bars.add("AAA", D("10.5"), D("2"), T0 + MINUTE - timedelta(microseconds=1))
    assert bars.pending == 0
    assert bars.add("AAA", D("11"), D("3"), T0 + MINUTE)
    assert bars.drain() == [bar("AAA", T0, "10", "10.5", "10", "10.5", "3")]
    assert bars.open_bar("AAA") == bar("AAA", T0 + MINUTE, "11", "11", "11", "11", "3")


def test_close_until_closes_bars_whose_minute_has_ended() -> None:
    bars = BarAggregator()
    bars.add("AAA", D("1"), D("1"), T0)
    bars.add("BBB", D("2"), D("1"), T0 + MINUTE)
    assert bars.close_until(T0 + MINUTE - timedelta(microseconds=1)) == 0
    assert bars.close_until(T0 + MINUTE) == 1
    assert bars.open_bar("AAA") is None
    assert bars.drain() == [bar("AAA", T0, "1", "1", "1", "1", "1")]
    assert bars.open_bar("BBB") is not None


def test_the_outbox_is_bounded_and_counts_what_it_drops() -> None:
    bars = BarAggregator(max_pending=2)
    for i in range(2):
        bars.add("AAA", D(i), D(1), T0 + i * MINUTE)
    bars.add("AAA", D(9), D(1), T0 + 2 * MINUTE)  # closes the second bar: two pending, none dropped
    assert (bars.pending, bars.dropped) == (2, 0)
    bars.add("AAA", D(9), D(1), T0 + 3 * MINUTE)
    assert (bars.pending, bars.dropped) == (2, 1)
    assert [b.minute for b in bars.drain()] == [T0 + MINUTE, T0 + 2 * MINUTE]


def test_drain_hands_out_the_oldest_first_at_most_limit() -> None:
    bars = BarAggregator()
    for i in range(4):
        bars.add("AAA", D(i), D(1), T0 + i * MINUTE)
    assert [b.open for b in bars.drain(2)] == [D(0), D(1)]
    assert [b.open for b in bars.drain(5)] == [D(2)]
    assert bars.drain() == []
    assert bars.pending == 0


def test_requeue_puts_a_batch_back_ahead_of_newer_bars_within_the_bound() -> None:
    bars = BarAggregator(max_pending=3)
    for i in range(3):
        bars.add("AAA", D(i), D(1), T0 + i * MINUTE)
    batch = bars.drain(2)  # bars 0 and 1; bar 2 is still open
    bars.add("AAA", D(3), D(1), T0 + 3 * MINUTE)  # bar 2 closes meanwhile
    bars.requeue(batch)
    assert (bars.pending, bars.dropped) == (3, 0)
    assert [b.open for b in bars.drain()] == [D(0), D(1), D(2)]
    for i in (4, 5):
        bars.add("AAA", D(i), D(1), T0 + i * MINUTE)  # bars 3 and 4 close
    bars.requeue(batch)  # room for one: the newest of the batch goes back, the older is dropped
    assert (bars.pending, bars.dropped) == (3, 1)
    assert [b.open for b in bars.drain()] == [D(1), D(3), D(4)]


def test_the_default_outbox_holds_100_000_bars() -> None:
    bars = BarAggregator()
    bars.requeue([bar("AAA", T0, "1", "1", "1", "1", "1")] * 100_001)
    assert (bars.pending, bars.dropped) == (100_000, 1)


def test_every_dropped_bar_is_counted() -> None:
    bars = BarAggregator(max_pending=1)
    for i in range(4):
        bars.add("AAA", D(i), D(1), T0 + i * MINUTE)  # closes bars 0, 1 and 2: two are dropped
    assert (bars.pending, bars.dropped) == (1, 2)
    batch = [bar("AAA", T0 + i * MINUTE, str(i), str(i), str(i), str(i), "1") for i in range(3)]
    bars.requeue(batch)  # the outbox is full: all three are dropped
    assert (bars.pending, bars.dropped) == (1, 5)
    assert [b.open for b in bars.drain()] == [D(2)]
