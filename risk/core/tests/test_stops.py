from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.core import stops
from risk.core.stops import STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, StopBreach, StopMonitor, StopSpec, levels_for

D = Decimal
OPENED = datetime(2024, 3, 1, 14, 0, tzinfo=UTC)
AT = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)


def monitor(*specs: StopSpec) -> StopMonitor:
    m = StopMonitor()
    for spec in specs:
        m.track(spec)
    return m


@pytest.mark.parametrize(
    ("quantity", "price", "kind"),
    [
        (D(10), "95.01", None),
        (D(10), "95", STOP_LOSS),
        (D(10), "110", TAKE_PROFIT),
        (D(10), "109.99", None),
        (D(-10), "105", STOP_LOSS),
        (D(-10), "104.99", None),
        (D(-10), "90", TAKE_PROFIT),
    ],
)
def test_stop_and_target_at_their_levels(quantity: Decimal, price: str, kind: str | None) -> None:
    stop, target = (D(95), D(110)) if quantity > 0 else (D(105), D(90))
    m = monitor(StopSpec(1, "AAA", quantity, OPENED, stop_loss=stop, take_profit=target))
    breaches = m.on_price("AAA", D(price), AT)
    assert [b.kind for b in breaches] == ([kind] if kind else [])


def test_a_breach_fires_once_per_position_life() -> None:
    spec = StopSpec(1, "AAA", D(10), OPENED, stop_loss=D(95))
    m = monitor(spec)
    assert len(m.on_price("AAA", D(94), AT)) == 1
    assert m.on_price("AAA", D(93), AT) == []
    m.replace_all([spec])  # a reload of the same position life does not re-arm it
    assert m.on_price("AAA", D(92), AT) == []
    m.track(StopSpec(1, "AAA", D(10), AT, stop_loss=D(95)))  # reopened: a new life
    assert len(m.on_price("AAA", D(92), AT)) == 1


def test_trailing_stop_follows_the_best_price() -> None:
    m = monitor(StopSpec(1, "AAA", D(10), OPENED, trailing_fraction=D("0.05")))
    for price in ("100", "110", "120"):
        assert m.on_price("AAA", D(price), AT) == []
    assert m.on_price("AAA", D("114.01"), AT) == []
    (breach,) = m.on_price("AAA", D(114), AT)
    assert (breach.kind, breach.trigger_price) == (TRAILING_STOP, D("114.00"))


def test_trailing_peak_survives_a_reload() -> None:
    spec = StopSpec(1, "AAA", D(-10), OPENED, trailing_fraction=D("0.10"))
    m = monitor(spec)
    m.on_price("AAA", D(80), AT)
    m.replace_all([spec])
    assert m.on_price("AAA", D("87.99"), AT) == []
    assert [b.kind for b in m.on_price("AAA", D(88), AT)] == [TRAILING_STOP]


def test_other_symbols_and_untracked_positions_are_ignored() -> None:
    m = monitor(StopSpec(1, "AAA", D(10), OPENED, stop_loss=D(95)), StopSpec(2, "BBB", D(10), OPENED, stop_loss=D(5)))
    assert m.on_price("CCC", D(1), AT) == []
    m.replace_all([StopSpec(2, "BBB", D(10), OPENED, stop_loss=D(5))])
    assert m.on_price("AAA", D(1), AT) == []
    assert len(m) == 1


def test_levels_from_percentages_unless_explicit() -> None:
    assert levels_for(
        quantity=D(10), average_price=D(100), stop_loss_fraction=D("0.05"), take_profit_fraction=D("0.10")
    ) == (D("95.00"), D("110.00"))
    assert levels_for(
        quantity=D(-10), average_price=D(100), stop_loss_fraction=D("0.05"), take_profit_fraction=D(0)
    ) == (D("105.00"), None)
    assert levels_for(
        quantity=D(10), average_price=D(100), stop_loss_fraction=D("0.05"), take_profit_fraction=None, stop_loss=D(90)
    ) == (D(90), None)


class _CheckEveryPosition(StopMonitor):
    """The same monitor without its quiet-tick shortcut: the reference the shortcut must agree with."""

    def on_price(self, symbol, price, at):
        breaches = []
        for entry in list(self._by_symbol.get(symbol, {}).values()):
            breach = self._check(entry, price, at)
            if breach is not None:
                breaches.append(breach)
                self._fired.add((entry.spec.key, entry.spec.opened_at))
                self.untrack(entry.spec.key)
        return breaches


_levels = st.decimals(min_value=50, max_value=150, places=2)


@settings(max_examples=150, deadline=None)
@given(
    positions=st.lists(
        st.tuples(
            st.sampled_from(["AAA", "BBB"]),
            st.sampled_from([Decimal(10), Decimal(-10)]),
            st.none() | _levels,
            st.none() | _levels,
            st.none() | st.sampled_from([Decimal("0.02"), Decimal("0.05")]),
        ),
        max_size=12,
    ),
    ticks=st.lists(st.tuples(st.sampled_from(["AAA", "BBB"]), _levels), max_size=60),
)
def test_the_quiet_tick_shortcut_reports_exactly_what_checking_every_position_reports(positions, ticks):
    fast, reference = StopMonitor(), _CheckEveryPosition()
    opened = datetime(2026, 1, 5, 15, tzinfo=UTC)
    for key, (symbol, quantity, stop_loss, take_profit, trailing) in enumerate(positions):
        spec = StopSpec(key, symbol, quantity, opened, stop_loss, take_profit, trailing)
        fast.track(spec)
        reference.track(spec)
    for symbol, price in ticks:
        assert fast.on_price(symbol, price, opened) == reference.on_price(symbol, price, opened)


def test_a_breach_reports_the_position_the_level_and_the_tick() -> None:
    m = monitor(StopSpec("p1", "AAA", D(10), OPENED, stop_loss=D(95), take_profit=D(110)))
    assert m.on_price("AAA", D("94.5"), AT) == [StopBreach("p1", "AAA", STOP_LOSS, D(95), D("94.5"), AT, OPENED)]
    m = monitor(StopSpec("p2", "AAA", D(-10), OPENED, stop_loss=D(105), take_profit=D(90)))
    assert m.on_price("AAA", D("89.5"), AT) == [StopBreach("p2", "AAA", TAKE_PROFIT, D(90), D("89.5"), AT, OPENED)]


@pytest.mark.parametrize(
    ("price", "fired"),
    [
        # Two longs on one symbol, stops at 95 and 94.5: a tick between them fires only the higher one,
        # a tick within a unit above a stop fires nothing of it.
        ("94.8", [1]),
        ("94.5", [1, 2]),
        ("95.5", []),
        # Their targets at 110 and 110.5.
        ("110.2", [1]),
        ("110.5", [1, 2]),
    ],
)
def test_each_position_on_a_symbol_fires_at_its_own_level(price: str, fired: list[int]) -> None:
    m = monitor(
        StopSpec(1, "AAA", D(10), OPENED, stop_loss=D(95), take_profit=D(110)),
        StopSpec(2, "AAA", D(5), OPENED, stop_loss=D("94.5"), take_profit=D("110.5")),
        StopSpec(3, "AAA", D(1), OPENED, stop_loss=D(90), take_profit=D("111.5")),  # a long of one share
    )
    assert [b.key for b in m.on_price("AAA", D(price), AT)] == fired


@pytest.mark.parametrize(
    ("prices", "fired_at"),
    [
        # Short with a 10 % trailing stop: the best price is the low; 80 -> stop 88.
        (["100", "80", "87.9"], None),
        (["100", "80", "88"], ("88", "88.0")),
        # A rise that is not a new low does not move the stop: 80 then 85 keeps the stop at 88.
        (["100", "80", "85", "88"], ("88", "88.0")),
        # A new low within a unit of the old one still moves it: 80 then 79.5 -> stop 87.45.
        (["100", "80", "79.5", "87.6"], ("87.6", "87.450")),
    ],
)
def test_a_short_trailing_stop_follows_the_low(prices: list[str], fired_at) -> None:
    m = monitor(StopSpec(1, "AAA", D(-10), OPENED, trailing_fraction=D("0.10")))
    breaches = [b for price in prices for b in m.on_price("AAA", D(price), AT)]
    if fired_at is None:
        assert breaches == []
    else:
        (breach,) = breaches
        assert (breach.kind, breach.price, breach.trigger_price) == (TRAILING_STOP, D(fired_at[0]), D(fired_at[1]))


def test_a_long_trailing_stop_moves_up_with_a_new_high_of_less_than_a_unit() -> None:
    m = monitor(StopSpec(1, "AAA", D(10), OPENED, trailing_fraction=D("0.10")))
    for price in ("100", "100.5"):
        assert m.on_price("AAA", D(price), AT) == []
    (breach,) = m.on_price("AAA", D("90.45"), AT)
    assert breach.trigger_price == D("90.450")


def test_levels_on_each_side_for_any_size() -> None:
    for quantity, expected in ((D(1), (D("95.00"), D("110.00"))), (D("0.5"), (D("95.00"), D("110.00")))):
        assert (
            levels_for(
                quantity=quantity, average_price=D(100), stop_loss_fraction=D("0.05"), take_profit_fraction=D("0.10")
            )
            == expected
        )
    assert levels_for(
        quantity=D(-1), average_price=D(100), stop_loss_fraction=D("0.05"), take_profit_fraction=D("0.10")
    ) == (D("105.00"), D("90.00"))
    assert levels_for(
        quantity=D(-1), average_price=D(100), stop_loss_fraction=None, take_profit_fraction=D("0.10"), take_profit=D(80)
    ) == (None, D(80))


def test_tracking_a_flat_or_fired_position_forgets_it() -> None:
    m = monitor(StopSpec(1, "AAA", D(10), OPENED, stop_loss=D(95)), StopSpec(2, "AAA", D(1), OPENED, stop_loss=D(96)))
    assert len(m) == 2
    m.track(StopSpec(1, "AAA", D(0), OPENED, stop_loss=D(95)))  # closed
    assert len(m) == 1
    assert [b.key for b in m.on_price("AAA", D(90), AT)] == [2]
    m.track(StopSpec(2, "AAA", D(1), OPENED, stop_loss=D(96)))  # the same life again: already fired
    assert len(m) == 0


def test_a_position_tracked_under_a_new_symbol_leaves_the_old_one() -> None:
    m = monitor(StopSpec(1, "AAA", D(10), OPENED, stop_loss=D(95)))
    m.track(StopSpec(1, "BBB", D(10), OPENED, stop_loss=D(95)))
    assert m.on_price("AAA", D(90), AT) == []
    assert [b.symbol for b in m.on_price("BBB", D(90), AT)] == ["BBB"]


def test_a_trailing_peak_follows_its_position_to_a_new_symbol_of_the_same_life() -> None:
    m = monitor(StopSpec(1, "AAA", D(10), OPENED, trailing_fraction=D("0.10")))
    m.on_price("AAA", D(120), AT)
    m.track(StopSpec(1, "BBB", D(10), OPENED, trailing_fraction=D("0.10")))
    (breach,) = m.on_price("BBB", D(108), AT)  # the peak of 120 came along: stop 108
    assert breach.trigger_price == D("108.00")


class _CountingBounds(stops._Bounds):
    made = 0

    def __init__(self, entries) -> None:
        type(self).made += 1
        super().__init__(entries)


def test_a_quiet_tick_checks_no_position_and_bounds_are_built_once_per_change(monkeypatch) -> None:
    checked = []
    check = StopMonitor._check

    def counting_check(entry, price, at):
        checked.append(entry.spec.key)
        return check(entry, price, at)

    monkeypatch.setattr(StopMonitor, "_check", staticmethod(counting_check))
    monkeypatch.setattr(stops, "_Bounds", _CountingBounds)
    _CountingBounds.made = 0
    m = monitor(
        StopSpec(1, "AAA", D(10), OPENED, stop_loss=D(95), take_profit=D(110)),
        StopSpec(2, "AAA", D(-10), OPENED, stop_loss=D(105), take_profit=D(90)),
        StopSpec(3, "AAA", D(10), OPENED, stop_loss=D(99)),
    )
    for price in ("100", "101", "104.99", "99.01"):
        assert m.on_price("AAA", D(price), AT) == []
    assert (checked, _CountingBounds.made) == ([], 1)
    m.untrack(3)  # the nearest fall is 95 again: 98 is quiet
    assert m.on_price("AAA", D(98), AT) == []
    assert (checked, _CountingBounds.made) == ([], 2)
    m.track(StopSpec(4, "AAA", D(10), OPENED, stop_loss=D("98.5")))  # a new nearest fall: 98 fires it
    assert [b.key for b in m.on_price("AAA", D(98), AT)] == [4]
    assert _CountingBounds.made == 3


def test_a_flat_position_has_no_levels() -> None:
    with pytest.raises(ValueError, match=r"^A flat position has no stop levels\.$"):
        levels_for(quantity=D(0), average_price=D(100), stop_loss_fraction=D("0.05"), take_profit_fraction=None)
