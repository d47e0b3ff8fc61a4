"""How many shares an entry buys or sells (exits always close the whole position).

``FixedQuantity(quantity)``
    That quantity, rounded down to the lot.
``FractionOfEquity(fraction)``
    ``fraction * equity / price`` in whole lots (``trading.core.sizing.quantity_for_fraction``);
    ``fraction=None`` takes the signal's ``position_size``. Equity compounds.
``FractionOfCapital(fraction)``
    ``fraction * capital / price`` with the strategy's fixed capital, as live sizing does
    (``risk.services.position_size_raw``'s fixed fraction); ``None`` takes the signal's.
``AllIn()``
    The largest whole-lot quantity whose cost and commission fit what is available,
    ``q * price + commission(q, price) <= available``, where ``available = equity -
    gross exposure`` (backtesting.py's ``margin_available`` at leverage 1; the cash
    when the account holds no shorts). For a percent-of-value commission ``r`` this is
    ``floor(available / (price * (1 + r)))``, backtesting.py's rule for ``buy()`` with
    its default size; checked exactly in ``Decimal`` rather than in float.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from strategies.core.backtest.fills import Commission
from trading.core.sizing import quantity_for_fraction, round_to_lot

_ZERO = Decimal(0)


class Sizing(Protocol):
    def quantity(
        self,
        *,
        price: Decimal,
        equity: Decimal,
        available: Decimal,
        capital: Decimal,
        signal_fraction: Decimal | None,
        lot_size: Decimal,
        commission: Commission,
    ) -> Decimal: ...

    def describe(self) -> str: ...


def _fraction(own: Decimal | None, signal_fraction: Decimal | None) -> Decimal:
    fraction = own if own is not None else signal_fraction
    if fraction is None:
        raise ValueError("This sizing takes the signal's position_size, and the signal has none.")
    return fraction


@dataclass(frozen=True)
class FixedQuantity:
    quantity_each: Decimal

    def __post_init__(self) -> None:
        if not self.quantity_each.is_finite() or self.quantity_each <= 0:
            raise ValueError(f"The fixed quantity must be positive, got {self.quantity_each}.")

    def quantity(self, *, lot_size: Decimal, **_: object) -> Decimal:
        return round_to_lot(self.quantity_each, lot_size)

    def describe(self) -> str:
        return f"{self.quantity_each} shares"


@dataclass(frozen=True)
class FractionOfEquity:
    fraction: Decimal | None = None

    def quantity(
        self,
        *,
        price: Decimal,
        equity: Decimal,
        signal_fraction: Decimal | None,
        lot_size: Decimal,
        **_: object,
    ) -> Decimal:
        fraction = _fraction(self.fraction, signal_fraction)
        return quantity_for_fraction(fraction=fraction, capital=max(equity, _ZERO), price=price, lot_size=lot_size)

    def describe(self) -> str:
        return f"{self.fraction if self.fraction is not None else 'the signal position_size'} of equity"


@dataclass(frozen=True)
class FractionOfCapital:
    fraction: Decimal | None = None

    def quantity(
        self,
        *,
        price: Decimal,
        capital: Decimal,
        signal_fraction: Decimal | None,
        lot_size: Decimal,
        **_: object,
    ) -> Decimal:
        fraction = _fraction(self.fraction, signal_fraction)
        return quantity_for_fraction(fraction=fraction, capital=capital, price=price, lot_size=lot_size)

    def describe(self) -> str:
        return f"{self.fraction if self.fraction is not None else 'the signal position_size'} of capital"


def _cost(quantity: Decimal, price: Decimal, commission: Commission) -> Decimal:
    return quantity * price + commission.commission(quantity, price)


@dataclass(frozen=True)
class AllIn:
    def quantity(
        self,
        *,
        price: Decimal,
        available: Decimal,
        lot_size: Decimal,
        commission: Commission,
        **_: object,
    ) -> Decimal:
        return all_in_quantity(available=available, price=price, lot_size=lot_size, commission=commission)

    def describe(self) -> str:
        return "all in, whole lots"


def all_in_quantity(*, available: Decimal, price: Decimal, lot_size: Decimal, commission: Commission) -> Decimal:
    """The largest whole-lot ``q`` with ``q * price + commission(q, price) <= available`` (0 if none)."""
    upper = round_to_lot(available / price, lot_size)
    if upper <= 0:
        return _ZERO
    fee = commission.commission(upper, price)
    if upper * price + fee <= available:
        return upper
    # The per-unit fee at the upper bound gives an estimate within a lot or two (below upper, which is known
    # too dear, so the climb stops there at the latest); exact checks settle it.
    quantity = round_to_lot(available / (price + fee / upper), lot_size)
    while quantity > 0 and _cost(quantity, price, commission) > available:
        quantity -= lot_size
    while _cost(quantity + lot_size, price, commission) <= available:
        quantity += lot_size
    return quantity


ALL_IN = AllIn()
