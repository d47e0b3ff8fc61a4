from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.core.stops import STOP_LOSS, TAKE_PROFIT, TRAILING_STOP, StopMonitor, StopSpec, levels_for

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
