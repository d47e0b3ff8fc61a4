"""Position sizing in ``Decimal``, always rounded to whole lots."""

from decimal import ROUND_DOWN, Decimal


def round_to_lot(quantity: Decimal, lot_size: Decimal) -> Decimal:
    """Round ``quantity`` toward zero to a whole number of lots."""
    if not lot_size.is_finite() or lot_size <= 0:
        raise ValueError(f"The lot size must be a positive number, got {lot_size}.")
    if not quantity.is_finite():
        raise ValueError(f"The quantity must be a finite number, got {quantity}.")
    # Toward zero so sizing never exceeds what was asked for.
    lots = (quantity / lot_size).to_integral_value(rounding=ROUND_DOWN)
    return lots * lot_size


def quantity_for_fraction(*, fraction: Decimal, capital: Decimal, price: Decimal, lot_size: Decimal) -> Decimal:
    """Whole-lot quantity whose notional at ``price`` is at most ``fraction`` of ``capital``."""
    if not price.is_finite() or price <= 0:
        raise ValueError(f"The price must be a positive number, got {price}.")
    if fraction < 0:
        raise ValueError(f"The capital fraction must not be negative, got {fraction}.")
    if capital < 0:
        raise ValueError(f"The capital must not be negative, got {capital}.")
    return round_to_lot(fraction * capital / price, lot_size)
