"""Feed health: staleness at its threshold, gaps against the usual interval, reconnect backoff."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from trading.core.feedhealth import Gap, Health, StalenessTracker, Transition, backoff_delays

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.mark.parametrize("threshold", [timedelta(0), -S])
def test_the_staleness_threshold_must_be_positive(threshold: timedelta) -> None:
    with pytest.raises(ValueError, match=r"^The staleness threshold must be positive\.$"):
        StalenessTracker(threshold)


def test_defaults() -> None:
    tracker = StalenessTracker(S)
    assert (tracker.stale_after, tracker.gap_factor, tracker.gap_minimum) == (S, 10.0, S)
    assert StalenessTracker(S, gap_factor=3.0, gap_minimum=5 * S).gap_minimum == 5 * S


def test_a_symbol_goes_stale_strictly_after_the_threshold() -> None:
    tracker = StalenessTracker(10 * S)
    tracker.seen(["AAA"], T0)
    assert tracker.sweep(T0 + 10 * S) == []
    assert tracker.sweep(T0 + 10 * S + timedelta(microseconds=1)) == [
        Transition("AAA", Health.STALE, T0, T0 + 10 * S + timedelta(microseconds=1))
    ]
    assert tracker.is_stale("AAA")
    assert tracker.stale_symbols == frozenset({"AAA"})
    assert tracker.sweep(T0 + 100 * S) == []  # once


def test_an_expected_symbol_that_never_ticks_goes_stale_from_when_it_was_expected() -> None:
    tracker = StalenessTracker(10 * S)
    tracker.expect(["AAA"], T0)
    assert tracker.knows("AAA") and tracker.last_seen("AAA") is None
    tracker.expect(["AAA"], T0 + 5 * S)  # expecting it again does not move the start
    assert tracker.sweep(T0 + 10 * S) == []
    assert tracker.sweep(T0 + 11 * S) == [Transition("AAA", Health.STALE, None, T0 + 11 * S)]
    # It recovers with its first tick, and that first tick is no gap.
    assert tracker.seen(["AAA"], T0 + 12 * S) == ([Transition("AAA", Health.RECOVERED, None, T0 + 12 * S)], [])


def test_expecting_a_symbol_already_seen_keeps_its_last_tick() -> None:
    tracker = StalenessTracker(10 * S)
    tracker.seen(["AAA"], T0)
    tracker.expect(["AAA"], T0 + 5 * S)
    assert tracker.last_seen("AAA") == T0
    assert [t.symbol for t in tracker.sweep(T0 + 11 * S)] == ["AAA"]


def test_forget_drops_everything_about_a_symbol() -> None:
    tracker = StalenessTracker(10 * S)
    tracker.expect(["AAA", "BBB"], T0)
    tracker.seen(["AAA"], T0 + S)
    tracker.seen(["AAA"], T0 + 2 * S)
    tracker.sweep(T0 + 20 * S)
    tracker.forget(["AAA", "CCC"])
    assert not tracker.knows("AAA") and not tracker.is_stale("AAA")
    assert tracker.stale_symbols == frozenset({"BBB"})
    # Seen again from scratch: no usual interval yet, so no gap however long the silence was.
    assert tracker.seen(["AAA"], T0 + 100 * S) == ([], [])
    assert tracker.seen(["AAA"], T0 + 200 * S) == ([], [])
    assert tracker.sweep(T0 + 205 * S) == []


def test_a_gap_is_a_silence_above_factor_times_the_usual_interval() -> None:
    tracker = StalenessTracker(60 * S, gap_factor=10.0, gap_minimum=timedelta(0))
    tracker.seen(["AAA"], T0)
    tracker.seen(["AAA"], T0 + 2 * S)  # usual interval 2 s
    # 20 s is exactly 10 x 2 s: no gap, and it teaches the average: 0.9 x 2 + 0.1 x 20 = 3.8 s.
    assert tracker.seen(["AAA"], T0 + 22 * S) == ([], [])
    _, gaps = tracker.seen(["AAA"], T0 + 60 * S)  # 38 s: not above 38
    assert gaps == []
    # Now usual = 0.9 x 3.8 + 0.1 x 38 = 7.22 s; 72.2 s is the line.
    _, gaps = tracker.seen(["AAA"], T0 + 60 * S + timedelta(seconds=72.3))
    assert gaps == [Gap("AAA", timedelta(seconds=72.3), timedelta(seconds=7.22), T0 + 60 * S + timedelta(seconds=72.3))]
    # A gap does not teach the average: the same silence is a gap again.
    at = T0 + 60 * S + timedelta(seconds=72.3)
    assert tracker.seen(["AAA"], at + timedelta(seconds=72.3))[1][0].usual == timedelta(seconds=7.22)


def test_a_gap_must_also_exceed_the_minimum() -> None:
    tracker = StalenessTracker(60 * S, gap_factor=2.0, gap_minimum=5 * S)
    tracker.seen(["AAA"], T0)
    tracker.seen(["AAA"], T0 + S)  # usual 1 s: 2 x 1 s is below the 5 s minimum
    assert tracker.seen(["AAA"], T0 + 6 * S)[1] == []  # 5 s: not above the minimum
    tracker = StalenessTracker(60 * S, gap_factor=2.0, gap_minimum=5 * S)
    tracker.seen(["AAA"], T0)
    tracker.seen(["AAA"], T0 + S)
    assert [g.silence for g in tracker.seen(["AAA"], T0 + 6 * S + timedelta(microseconds=1))[1]] == [
        5 * S + timedelta(microseconds=1)
    ]


def test_a_stale_symbol_recovers_once_with_its_last_tick_time() -> None:
    tracker = StalenessTracker(10 * S)
    tracker.seen(["AAA", "BBB"], T0)
    tracker.sweep(T0 + 11 * S)
    recovered, _ = tracker.seen(["AAA"], T0 + 12 * S)
    assert recovered == [Transition("AAA", Health.RECOVERED, T0, T0 + 12 * S)]
    assert not tracker.is_stale("AAA") and tracker.is_stale("BBB")
    assert tracker.seen(["AAA"], T0 + 13 * S)[0] == []
    assert tracker.last_seen("AAA") == T0 + 13 * S


@pytest.mark.parametrize(("base", "cap"), [(0, 8), (-1, 8), (2, 1)])
def test_backoff_needs_a_positive_base_below_the_cap(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape('Backoff needs 0 < base <= cap.')}$"):
        next(backoff_delays(base=base, cap=cap))


def test_backoff_doubles_from_its_base_up_to_its_cap() -> None:
    delays = backoff_delays(base=0.5, cap=3)
    assert [next(delays) for _ in range(6)] == [0.5, 1, 2, 3, 3, 3]
    defaults = backoff_delays()
    assert [next(defaults) for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    equal = backoff_delays(base=2, cap=2)
    assert [next(equal) for _ in range(2)] == [2, 2]


def test_a_sweep_looks_past_symbols_that_are_already_stale() -> None:
    tracker = StalenessTracker(10 * S)
    tracker.seen(["AAA", "BBB", "CCC"], T0)
    tracker.seen(["BBB", "CCC"], T0 + 5 * S)
    assert [t.symbol for t in tracker.sweep(T0 + 11 * S)] == ["AAA"]
    assert [t.symbol for t in tracker.sweep(T0 + 16 * S)] == ["BBB", "CCC"]
