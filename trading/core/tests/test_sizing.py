import re
from decimal import Decimal

import pytest

from trading.core.sizing import quantity_for_fraction, round_to_lot

D = Decimal


@pytest.mark.parametrize(
    ("quantity", "lot", "expected"),
    [
        ("7.9", "1", "7"),
        ("7", "1", "7"),
        ("99", "10", "90"),
        ("100", "10", "100"),
        ("199.99", "100", "100"),
        ("99", "100", "0"),
        ("3.7", "0.5", "3.5"),
        ("3.5", "0.5", "3.5"),
        ("0.49", "0.5", "0"),
        ("-7.9", "1", "-7"),
        ("-250", "100", "-200"),
    ],
)
def test_round_to_lot(quantity: str, lot: str, expected: str) -> None:
    assert round_to_lot(D(quantity), D(lot)) == D(expected)


@pytest.mark.parametrize("quantity", ["0.01", "1.99", "57.3", "1234.5678"])
@pytest.mark.parametrize("lot", ["1", "10", "100", "0.5"])
def test_round_to_lot_never_rounds_up(quantity: str, lot: str) -> None:
    rounded = round_to_lot(D(quantity), D(lot))
    assert D(0) <= rounded <= D(quantity)
    assert D(quantity) - rounded < D(lot)
    assert rounded % D(lot) == 0


@pytest.mark.parametrize("lot", ["0", "-1", "NaN"])
def test_round_to_lot_rejects_bad_lot(lot: str) -> None:
    with pytest.raises(ValueError, match="lot size must be a positive number"):
        round_to_lot(D(10), D(lot))


@pytest.mark.parametrize(
    ("fraction", "capital", "price", "lot", "expected"),
    [
        ("0.10", "100000", "150", "1", "66"),
        ("0.10", "100000", "150", "10", "60"),
        ("0.5", "1000", "3", "0.5", "166.5"),
        ("0", "1000", "3", "1", "0"),
    ],
)
def test_quantity_for_fraction(fraction: str, capital: str, price: str, lot: str, expected: str) -> None:
    quantity = quantity_for_fraction(fraction=D(fraction), capital=D(capital), price=D(price), lot_size=D(lot))
    assert quantity == D(expected)


@pytest.mark.parametrize(
    ("fraction", "capital", "price", "match"),
    [
        ("0.1", "1000", "0", "price must be a positive number"),
        ("0.1", "1000", "-1", "price must be a positive number"),
        ("-0.1", "1000", "10", "fraction must not be negative"),
        ("0.1", "-1000", "10", "capital must not be negative"),
    ],
)
def test_quantity_for_fraction_rejects_bad_input(fraction: str, capital: str, price: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        quantity_for_fraction(fraction=D(fraction), capital=D(capital), price=D(price), lot_size=D(1))


@pytest.mark.parametrize(
    ("fraction", "capital", "price", "expected"),
    [
        # The boundaries of the checks are valid: no capital, a price below 1, a capital below 1.
        ("0.5", "0", "10", "0"),
        ("1", "0.5", "0.25", "2"),
        ("0.5", "10", "1", "5"),
    ],
)
def test_quantity_for_fraction_at_its_boundaries(fraction: str, capital: str, price: str, expected: str) -> None:
    quantity = quantity_for_fraction(fraction=D(fraction), capital=D(capital), price=D(price), lot_size=D(1))
    assert quantity == D(expected)


@pytest.mark.parametrize("quantity", ["NaN", "Infinity", "-Infinity"])
def test_round_to_lot_rejects_a_quantity_that_is_not_finite(quantity: str) -> None:
    with pytest.raises(ValueError, match=rf"^The quantity must be a finite number, got {quantity}\.$"):
        round_to_lot(D(quantity), D(1))


@pytest.mark.parametrize(
    ("fraction", "capital", "price", "lot", "message"),
    [
        ("0.1", "1000", "0", "1", "The price must be a positive number, got 0."),
        ("0.1", "1000", "NaN", "1", "The price must be a positive number, got NaN."),
        ("-0.1", "1000", "10", "1", "The capital fraction must not be negative, got -0.1."),
        ("0.1", "-1000", "10", "1", "The capital must not be negative, got -1000."),
        ("0.1", "1000", "10", "0", "The lot size must be a positive number, got 0."),
        ("0.1", "1000", "10", "Infinity", "The lot size must be a positive number, got Infinity."),
    ],
)
def test_sizing_errors_say_what_was_wrong(fraction: str, capital: str, price: str, lot: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        quantity_for_fraction(fraction=D(fraction), capital=D(capital), price=D(price), lot_size=D(lot))
