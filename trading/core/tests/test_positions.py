import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.core.orders import Side
from trading.core.positions import (
    PositionState,
    apply_fill,
    cash_delta,
    cost_basis,
    split_reducing,
    unrealized_pnl,
)

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


def fills(*steps: tuple[Side, str, str], commission: str = "0") -> PositionState:
    state = PositionState()
    for side, quantity, price in steps:
        state = apply_fill(state, side=side, quantity=D(quantity), price=D(price), commission=D(commission))
    return state


def test_open_long() -> None:
    assert fills((BUY, "100", "10")) == PositionState(quantity=D(100), average_price=D(10))


def test_add_moves_to_weighted_average() -> None:
    state = fills((BUY, "100", "10"), (BUY, "300", "12"))
    assert state.quantity == D(400)
    assert state.average_price == D("11.5")
    assert state.realized_pnl == 0


def test_partial_reduce_realizes_and_keeps_average() -> None:
    state = fills((BUY, "100", "10"), (SELL, "40", "12.5"))
    assert state.quantity == D(60)
    assert state.average_price == D(10)
    assert state.realized_pnl == D(100)


def test_close_to_flat_resets_average() -> None:
    state = fills((BUY, "100", "10"), (SELL, "100", "9"))
    assert state == PositionState(realized_pnl=D(-100))


@pytest.mark.parametrize(
    ("steps", "quantity", "average", "realized"),
    [
        # long 100 @10, sell 150 @12: +200 realized, short 50 @12
        (((BUY, "100", "10"), (SELL, "150", "12")), D(-50), D(12), D(200)),
        # short 100 @10, buy 150 @12: -200 realized, long 50 @12
        (((SELL, "100", "10"), (BUY, "150", "12")), D(50), D(12), D(-200)),
    ],
)
def test_flip(steps: tuple, quantity: Decimal, average: Decimal, realized: Decimal) -> None:
    state = fills(*steps)
    assert (state.quantity, state.average_price, state.realized_pnl) == (quantity, average, realized)


def test_short_profits_when_price_falls() -> None:
    state = fills((SELL, "100", "20"), (SELL, "100", "22"), (BUY, "50", "18"))
    assert state.quantity == D(-150)
    assert state.average_price == D(21)
    assert state.realized_pnl == D(150)
    assert unrealized_pnl(state, D(20)) == D(150)


def test_commissions_reduce_realized_pnl() -> None:
    state = fills((BUY, "100", "10"), (SELL, "100", "11"), commission="1.25")
    assert state.commissions == D("2.50")
    assert state.realized_pnl == D("97.50")


@pytest.mark.parametrize(
    ("quantity", "average", "price", "expected"),
    [("100", "10", "12", "200"), ("-100", "10", "12", "-200"), ("0", "0", "12", "0")],
)
def test_unrealized_pnl(quantity: str, average: str, price: str, expected: str) -> None:
    state = PositionState(quantity=D(quantity), average_price=D(average))
    assert unrealized_pnl(state, D(price)) == D(expected)


def test_cost_basis_uses_absolute_quantity() -> None:
    assert cost_basis(PositionState(quantity=D(-30), average_price=D(5))) == D(150)


@pytest.mark.parametrize(("side", "expected"), [(BUY, D("-1001.5")), (SELL, D("998.5"))])
def test_cash_delta(side: Side, expected: Decimal) -> None:
    assert cash_delta(side=side, quantity=D(100), price=D(10), commission=D("1.5")) == expected


@pytest.mark.parametrize(
    ("position", "side", "quantity", "expected"),
    [
        ("100", SELL, "150", ("100", "50")),
        ("100", SELL, "40", ("40", "0")),
        ("100", BUY, "10", ("0", "10")),
        ("0", BUY, "10", ("0", "10")),
        ("0", SELL, "10", ("0", "10")),
        ("-100", BUY, "100", ("100", "0")),
        ("-100", SELL, "5", ("0", "5")),
    ],
)
def test_split_reducing(position: str, side: Side, quantity: str, expected: tuple[str, str]) -> None:
    assert split_reducing(D(position), side, D(quantity)) == (D(expected[0]), D(expected[1]))


@pytest.mark.parametrize(("quantity", "price"), [("0", "10"), ("-1", "10"), ("10", "0"), ("10", "-5"), ("NaN", "10")])
def test_apply_fill_rejects_non_positive_inputs(quantity: str, price: str) -> None:
    with pytest.raises(ValueError, match="must be a positive number"):
        apply_fill(PositionState(), side=BUY, quantity=D(quantity), price=D(price))


def test_apply_fill_rejects_floats() -> None:
    with pytest.raises(TypeError, match="must be a Decimal"):
        apply_fill(PositionState(), side=BUY, quantity=10.0, price=D(1))  # type: ignore[arg-type]


def test_split_reducing_rejects_negative_quantity() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        split_reducing(D(10), SELL, D(-1))


cents = st.integers(min_value=1, max_value=1_000_000).map(lambda n: D(n) / 100)
lots = st.integers(min_value=1, max_value=10_000).map(D)
fees = st.integers(min_value=0, max_value=500).map(lambda n: D(n) / 100)
fill_steps = st.lists(st.tuples(st.sampled_from(Side), lots, cents, fees), min_size=1, max_size=30)


@given(steps=fill_steps, mark=cents)
def test_pnl_is_conserved(steps: list[tuple[Side, Decimal, Decimal, Decimal]], mark: Decimal) -> None:
    state = PositionState()
    cash = D(0)
    for side, quantity, price, commission in steps:
        state = apply_fill(state, side=side, quantity=quantity, price=price, commission=commission)
        cash += cash_delta(side=side, quantity=quantity, price=price, commission=commission)
    assert state.commissions == sum((step[3] for step in steps), D(0))
    # Weighted averages are rounded to 28 significant digits, so allow that much drift.
    assert abs(cash + state.quantity * mark - (state.realized_pnl + unrealized_pnl(state, mark))) < D("1e-12")


def test_split_reducing_takes_a_zero_quantity() -> None:
    # Zero is the boundary of "must not be negative": nothing reduces, nothing opens.
    assert split_reducing(D(10), SELL, D(0)) == (D(0), D(0))
    assert split_reducing(D(-10), BUY, D(0)) == (D(0), D(0))


@pytest.mark.parametrize(
    ("quantity", "price", "match"),
    [
        ("0", "10", "The fill quantity must be a positive number, got 0."),
        ("10", "0", "The fill price must be a positive number, got 0."),
        ("Infinity", "10", "The fill quantity must be a positive number, got Infinity."),
        ("10", "-Infinity", "The fill price must be a positive number, got -Infinity."),
    ],
)
def test_apply_fill_names_the_bad_input(quantity: str, price: str, match: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(match)}$"):
        apply_fill(PositionState(), side=BUY, quantity=D(quantity), price=D(price))


def test_apply_fill_names_the_float_it_refused() -> None:
    with pytest.raises(TypeError, match=r"^The fill price must be a Decimal, got float\.$"):
        apply_fill(PositionState(), side=BUY, quantity=D(1), price=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^The order quantity must not be negative, got -1\.$"):
        split_reducing(D(10), SELL, D(-1))


@pytest.mark.parametrize(
    ("steps", "quantity", "average", "realized"),
    [
        # A short reduced at a loss and at a gain: the sign comes from the side that reduces.
        (((SELL, "10", "50"), (BUY, "4", "55")), D(-6), D(50), D(-20)),
        (((SELL, "10", "50"), (BUY, "4", "45")), D(-6), D(50), D(20)),
        # A long reduced at a loss.
        (((BUY, "10", "50"), (SELL, "4", "45")), D(6), D(50), D(-20)),
        # Adding to a short keeps the weighted average.
        (((SELL, "10", "50"), (SELL, "30", "54")), D(-40), D(53), D(0)),
    ],
)
def test_reductions_realize_with_the_positions_sign(steps, quantity: Decimal, average: Decimal, realized: Decimal):
    state = fills(*steps)
    assert (state.quantity, state.average_price, state.realized_pnl) == (quantity, average, realized)


def test_a_flip_by_half_a_share_opens_at_the_fill_price() -> None:
    state = fills((BUY, "1", "10"), (SELL, "1.5", "12"))
    assert (state.quantity, state.average_price, state.realized_pnl) == (D("-0.5"), D(12), D(2))


def test_half_a_share_is_a_position_to_reduce_or_add_to() -> None:
    assert split_reducing(D("0.5"), BUY, D(1)) == (D(0), D(1))
    assert split_reducing(D("0.5"), SELL, D(1)) == (D("0.5"), D("0.5"))
    assert split_reducing(D("-0.5"), BUY, D(1)) == (D("0.5"), D("0.5"))
