"""Sizing rules: each mode's formula and inputs, the fixed quantity's bounds, and all-in's exact search."""

from decimal import Decimal

import pytest

from strategies.core.backtest.fills import NO_COMMISSION, PercentOfValue, PerOrder, PerShare
from strategies.core.backtest.sizing import ALL_IN, AllIn, FixedQuantity, FractionOfCapital, FractionOfEquity
from strategies.core.backtest.sizing import all_in_quantity as all_in

D = Decimal
NO_SIGNAL = "This sizing takes the signal's position_size, and the signal has none."


def inputs(**given) -> dict:
    """Every keyword a sizing receives, each with a value no other has (so a swapped input shows)."""
    return {
        "price": D(40),
        "equity": D(10000),
        "available": D(5000),
        "capital": D(2000),
        "signal_fraction": None,
        "lot_size": D(1),
        "commission": NO_COMMISSION,
        **given,
    }


class Counting:
    """A percent commission that counts how often it is asked."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, 0

    def commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        self.calls += 1
        return self.inner.commission(quantity, price)

    def describe(self) -> str:
        return "counting"


# ---- fixed quantity ----------------------------------------------------------------------------------------------


def test_a_fixed_quantity_is_rounded_down_to_the_lot() -> None:
    assert FixedQuantity(D("250")).quantity(**inputs(lot_size=D(100))) == D(200)
    assert FixedQuantity(D("7.9")).quantity(**inputs()) == D(7)
    assert FixedQuantity(D(1)).quantity(**inputs()) == D(1)  # the smallest whole quantity is allowed


@pytest.mark.parametrize("quantity", ["0", "-1", "Infinity"])
def test_a_fixed_quantity_must_be_positive_and_finite(quantity: str) -> None:
    with pytest.raises(ValueError, match=rf"^The fixed quantity must be positive, got {quantity}\.$"):
        FixedQuantity(D(quantity))


def test_a_fractional_fixed_quantity_is_allowed() -> None:
    assert FixedQuantity(D("0.5")).quantity(**inputs(lot_size=D("0.1"))) == D("0.5")


# ---- fractions -------------------------------------------------------------------------------------------------------


def test_a_fraction_of_equity_uses_the_equity_and_the_lot() -> None:
    # 0.5 * 10000 / 40 = 125, in lots of 50: 100.
    assert FractionOfEquity(D("0.5")).quantity(**inputs(lot_size=D(50))) == D(100)
    assert FractionOfEquity(D("0.5")).quantity(**inputs(price=D(80))) == D("62")  # 62.5 down


def test_a_fraction_of_equity_buys_nothing_once_equity_is_gone() -> None:
    assert FractionOfEquity(D("0.5")).quantity(**inputs(equity=D(-300))) == 0
    assert FractionOfEquity(D("0.5")).quantity(**inputs(equity=D(0))) == 0


def test_a_fraction_of_capital_uses_the_fixed_capital() -> None:
    # 0.5 * 2000 / 40 = 25 (the equity and the available cash play no part).
    assert FractionOfCapital(D("0.5")).quantity(**inputs()) == D(25)
    assert FractionOfCapital(D("0.5")).quantity(**inputs(lot_size=D(10))) == D(20)
    assert FractionOfCapital(D("0.5")).quantity(**inputs(price=D(30))) == D(33)  # 33.3 down


@pytest.mark.parametrize("sizing", [FractionOfEquity, FractionOfCapital])
def test_an_own_fraction_wins_over_the_signal_and_none_takes_the_signal(sizing) -> None:
    base = D(10000) if sizing is FractionOfEquity else D(2000)
    assert sizing(D("0.2")).quantity(**inputs(signal_fraction=D("0.8"))) == base * D("0.2") / 40
    assert sizing().quantity(**inputs(signal_fraction=D("0.8"))) == base * D("0.8") / 40
    with pytest.raises(ValueError, match=rf"^{NO_SIGNAL}$"):
        sizing().quantity(**inputs())
    # An own fraction needs no signal.
    assert sizing(D("0.2")).quantity(**inputs()) == base * D("0.2") / 40


def test_descriptions() -> None:
    assert FixedQuantity(D(10)).describe() == "10 shares"
    assert FractionOfEquity(D("0.5")).describe() == "0.5 of equity"
    assert FractionOfEquity().describe() == "the signal position_size of equity"
    assert FractionOfCapital(D("0.25")).describe() == "0.25 of capital"
    assert FractionOfCapital().describe() == "the signal position_size of capital"
    assert ALL_IN.describe() == "all in, whole lots"


# ---- all in ---------------------------------------------------------------------------------------------------------


def test_all_in_passes_the_available_cash_price_lot_and_commission() -> None:
    # 5000 available at 40 with 1 % commission: 5000 / 40.4 = 123.7 -> 123 (124 would cost 5009.60).
    one_percent = PercentOfValue(D(1), quantum=None)
    assert AllIn().quantity(**inputs(commission=one_percent)) == D(123)
    assert AllIn().quantity(**inputs(commission=one_percent, lot_size=D(10))) == D(120)


def brute_force(available: Decimal, price: Decimal, lot: Decimal, commission) -> Decimal:
    best, quantity = D(0), lot
    while quantity * price <= available:
        if quantity * price + commission.commission(quantity, price) <= available:
            best = quantity
        quantity += lot
    return best


class Impact:
    """A fee that grows faster than the quantity (``quantity ** 2 / 100``): the per-unit fee at the upper bound
    overstates it for smaller quantities, so the estimate falls short and the search climbs."""

    def commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        return quantity * quantity / 100

    def describe(self) -> str:
        return "impact"


COMMISSIONS = [
    Impact(),
    NO_COMMISSION,
    PerOrder(D(2)),
    PerOrder(D(7)),
    PerShare(D("0.5"), D(3)),
    PercentOfValue(D("0.2"), quantum=None),
    PercentOfValue(D(3)),
]


@pytest.mark.parametrize("commission", COMMISSIONS, ids=lambda c: c.describe())
def test_all_in_is_the_largest_affordable_whole_lot(commission) -> None:
    for available in ("0", "-50", "4", "9.99", "10", "15", "32", "37", "100", "101.5", "250", "999"):
        for price, lot in ((D(10), D(1)), (D("3.3"), D(2))):
            expected = brute_force(D(available), price, lot, commission)
            assert all_in(available=D(available), price=price, lot_size=lot, commission=commission) == expected, (
                available,
                price,
                lot,
            )


def test_all_in_boundaries() -> None:
    flat = PerOrder(D(5))
    assert all_in(available=D(15), price=D(10), lot_size=D(1), commission=flat) == D(1)  # exactly 10 + 5
    assert all_in(available=D("14.99"), price=D(10), lot_size=D(1), commission=flat) == 0
    assert all_in(available=D(4), price=D(1), lot_size=D(1), commission=flat) == 0  # the fee alone is too dear
    assert all_in(available=D(4), price=D(10), lot_size=D(1), commission=flat) == 0  # not one share
    assert all_in(available=D(10), price=D(10), lot_size=D(1), commission=NO_COMMISSION) == D(1)
    assert all_in(available=D("0.5"), price=D("0.1"), lot_size=D(1), commission=NO_COMMISSION) == D(5)
    # Exactly affordable at the upper bound (32 = 3 * 10 + 2), where 2 / 3 rounds up in the last digit.
    assert all_in(available=D(32), price=D(10), lot_size=D(1), commission=PerOrder(D(2))) == D(3)
    # Exactly affordable below it: 9950 shares at 1 and 50 of fee cost 10000.
    assert all_in(available=D(10000), price=D(1), lot_size=D(1), commission=PerOrder(D(50))) == D(9950)


@pytest.mark.parametrize(
    ("available", "fee", "expected", "checks"),
    [
        (D(10000), D(50), D(9950), 3),  # the estimate is exact: it and the next lot are checked
        (D(10000), D(0), D(10000), 1),  # the upper bound is affordable: one look settles it
        (D("10049.99"), D(50), D(9999), 4),  # the estimate is one lot too many
    ],
)
def test_all_in_settles_in_a_few_exact_checks(available: Decimal, fee: Decimal, expected: Decimal, checks: int) -> None:
    counting = Counting(PerOrder(fee))
    assert all_in(available=available, price=D(1), lot_size=D(1), commission=counting) == expected
    assert counting.calls == checks


def test_all_in_climbs_from_a_short_estimate_to_an_exactly_affordable_quantity() -> None:
    # 60 shares at 1 with an impact fee of 36 cost exactly 96; the estimate 96 / (1 + 92.16 / 96) is 48.
    assert all_in(available=D(96), price=D(1), lot_size=D(1), commission=Impact()) == D(60)
    assert all_in(available=D("95.99"), price=D(1), lot_size=D(1), commission=Impact()) == D(59)


def test_all_in_settles_a_rounded_estimate_in_a_few_checks() -> None:
    # A minimum per-share fee makes the per-unit fee at the upper bound an underestimate for smaller lots.
    counting = Counting(PerShare(D("0.01"), D(40)))
    expected = brute_force(D(2000), D(1), D(1), PerShare(D("0.01"), D(40)))
    assert all_in(available=D(2000), price=D(1), lot_size=D(1), commission=counting) == expected == D(1960)
    assert counting.calls <= 4
