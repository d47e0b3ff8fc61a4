"""Net position and P&L math for one account + strategy + instrument.

Quantity is signed: long > 0, short < 0. All values are ``Decimal``.
Conservation holds for any fill sequence:
``sum(cash_delta) + quantity * p == realized_pnl + unrealized_pnl(p)``.
"""

from dataclasses import dataclass
from decimal import Decimal

from trading.core.orders import Side

_ZERO = Decimal(0)


@dataclass(frozen=True)
class PositionState:
    quantity: Decimal = _ZERO
    average_price: Decimal = _ZERO
    realized_pnl: Decimal = _ZERO
    commissions: Decimal = _ZERO


def _require_positive(name: str, value: Decimal) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"The {name} must be a Decimal, got {type(value).__name__}.")
    if not value.is_finite() or value <= 0:
        raise ValueError(f"The {name} must be a positive number, got {value}.")


def split_reducing(position_quantity: Decimal, side: Side, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """Split an order into (reducing_qty, opening_qty) against a signed position.

    The reducing part closes existing exposure; the opening part adds new
    exposure (same direction, from flat, or past zero on a flip).
    """
    if quantity < 0:
        raise ValueError(f"The order quantity must not be negative, got {quantity}.")
    if position_quantity * side.sign < 0:
        reducing = min(abs(position_quantity), quantity)
        return reducing, quantity - reducing
    return _ZERO, quantity


def apply_fill(
    state: PositionState,
    *,
    side: Side,
    quantity: Decimal,
    price: Decimal,
    commission: Decimal = _ZERO,
) -> PositionState:
    """The position after one fill (PositionManager.calculate_pnl, realized); commission is charged to realized P&L."""
    _require_positive("fill quantity", quantity)
    _require_positive("fill price", price)
    reducing, opening = split_reducing(state.quantity, side, quantity)
    # Reducing trades against the position: a sell closes a long, a buy a short.
    realized = state.realized_pnl - side.sign * (price - state.average_price) * reducing
    new_quantity = state.quantity + side.sign * quantity
    if new_quantity == 0:
        average = _ZERO
    elif reducing == 0:
        # Adding to (or opening) a position: quantity-weighted average price.
        average = (abs(state.quantity) * state.average_price + quantity * price) / abs(new_quantity)
    elif opening > 0:
        # Flipped through zero: the new exposure was all bought at this price.
        average = price
    else:
        average = state.average_price
    return PositionState(
        quantity=new_quantity,
        average_price=average,
        realized_pnl=realized - commission,
        commissions=state.commissions + commission,
    )


def unrealized_pnl(state: PositionState, price: Decimal) -> Decimal:
    """Mark-to-market P&L of the open quantity at ``price`` (PositionManager.calculate_pnl, unrealized)."""
    return (price - state.average_price) * state.quantity


def cash_delta(*, side: Side, quantity: Decimal, price: Decimal, commission: Decimal) -> Decimal:
    """Cash change of one fill: buyers pay, sellers receive, everyone pays commission."""
    return -side.sign * quantity * price - commission


def cost_basis(state: PositionState) -> Decimal:
    """Capital tied up in the open position at its average price."""
    return abs(state.quantity) * state.average_price
