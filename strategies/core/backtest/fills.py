"""Backtest fill conventions on top of ``trading.core.fills``: fill prices on a bar, commission, slippage.

Market orders (``FillTiming``)
    ``NEXT_OPEN``: an order decided on a bar's close fills at the open of the
    symbol's next bar (the default, and backtesting.py's). ``THIS_CLOSE``: it fills
    at the close of the bar that decided it (backtesting.py's ``trade_on_close``).

Limit and stop orders, on a bar ``(open, high, low, close)``
    A buy limit at ``L`` triggers when ``low <= L`` and fills at ``L``, or at the
    open when the bar opens at or below ``L`` (the gap rule: a bar that opens
    beyond the level fills at the open, here a better price than the limit).
    A sell limit mirrors it: ``high >= L``, fills at ``L`` or at an open ``>= L``.
    A buy stop at ``S`` triggers when ``high >= S`` and fills at ``S``, or at the open
    when the bar opens at or above ``S`` (gapped through the stop: a worse price).
    A sell stop mirrors it: ``low <= S``, fills at ``S`` or at an open ``<= S``.
    Slippage applies to market and stop fills (a stop becomes a market order when
    it triggers), never to a limit fill (a limit never fills beyond its price).
    When a position's stop loss and take profit both lie within one bar's range, the
    one the open already reaches fills first (at the open); if the open reaches neither,
    the stop fills first (the pessimistic reading of a bar whose path inside is unknown).

Commission (``commission(quantity, price) -> Decimal`` per fill; entry and exit each pay)
    ``PerShare(rate, minimum)``, ``PerOrder(fee)`` and ``Bps(bps)`` are
    ``trading.core.fills.FillModel``'s models (the live paper venue's), rounded
    half-up to the cent as it does (the tests hold them to FillModel's amounts). ``PercentOfValue(percent)`` is
    ``quantity * price * percent / 100``. Each takes ``quantum``: the cent by default,
    or ``None`` for the exact amount (backtesting.py does not round commissions;
    the oracle test uses ``None``).

Slippage (``price(side, price) -> Decimal``, always against the trader)
    ``NO_SLIPPAGE``; ``BpsSlippage(bps, tick_size)``: ``price * (1 +/- bps / 10000)``,
    with a tick size rounded against the trader exactly as ``FillModel.market_price``
    does (it is that function), without one exact; ``FixedSlippage(amount)``:
    ``price +/- amount`` (a sell never at or below 0: one step of the price's own grid instead).
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

from trading.core.bars import Bar
from trading.core.fills import FillModel
from trading.core.orders import OrderType, Side

CENT = Decimal("0.01")
_BPS = Decimal(10000)
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


class FillTiming(StrEnum):
    NEXT_OPEN = "next_open"
    THIS_CLOSE = "this_close"


# ---- fill prices on a bar -----------------------------------------------------------------------------------------


def market_fill_price(bar: Bar, timing: FillTiming) -> Decimal:
    """The price a market order fills at on ``bar``: its open (NEXT_OPEN) or its close (THIS_CLOSE)."""
    return bar.open if timing is FillTiming.NEXT_OPEN else bar.close


def limit_fill_price(side: Side, limit: Decimal, bar: Bar) -> Decimal | None:
    """Fill price of a limit order working through ``bar``, or None when the bar does not reach it.

    The limit, or the open when it is better (the bar opened beyond the limit; ``low <= open <= high``).
    """
    if side is Side.BUY:
        return min(bar.open, limit) if bar.low <= limit else None
    return max(bar.open, limit) if bar.high >= limit else None


def stop_fill_price(side: Side, stop: Decimal, bar: Bar) -> Decimal | None:
    """Fill price (before slippage) of a stop order working through ``bar``, or None when not triggered.

    The stop, or the open when it is worse (the bar gapped through the stop; ``low <= open <= high``).
    """
    if side is Side.BUY:
        return max(bar.open, stop) if bar.high >= stop else None
    return min(bar.open, stop) if bar.low <= stop else None


def reached_at_open(order_type: OrderType, side: Side, level: Decimal, bar: Bar) -> bool:
    """True when the bar's open alone triggers a stop or reaches a limit at ``level`` (it then fills at the open)."""
    if order_type is OrderType.STOP:
        return bar.open >= level if side is Side.BUY else bar.open <= level
    return bar.open <= level if side is Side.BUY else bar.open >= level


# ---- commission -------------------------------------------------------------------------------------------------


class Commission(Protocol):
    def commission(self, quantity: Decimal, price: Decimal) -> Decimal: ...

    def describe(self) -> str: ...


def _round(fee: Decimal, quantum: Decimal | None) -> Decimal:
    return fee if quantum is None else fee.quantize(quantum, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class NoCommission:
    def commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        return _ZERO

    def describe(self) -> str:
        return "no commission"


@dataclass(frozen=True)
class PerShare:
    """``max(rate * quantity, minimum)`` per fill (FillModel's PER_SHARE)."""

    rate: Decimal
    minimum: Decimal = _ZERO
    quantum: Decimal | None = CENT

    def __post_init__(self) -> None:
        if min(self.rate, self.minimum) < 0:
            raise ValueError("Commission rates must not be negative.")

    def commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        return _round(max(self.rate * quantity, self.minimum), self.quantum)

    def describe(self) -> str:
        return f"{self.rate} per share, at least {self.minimum}"


@dataclass(frozen=True)
class PerOrder:
    """A flat ``fee`` per fill (FillModel's PER_ORDER)."""

    fee: Decimal
    quantum: Decimal | None = CENT

    def __post_init__(self) -> None:
        if self.fee < 0:
            raise ValueError("Commission rates must not be negative.")

    def commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        return _round(self.fee, self.quantum)

    def describe(self) -> str:
        return f"{self.fee} per order"


@dataclass(frozen=True)
class Bps:
    """``quantity * price * bps / 10000`` (FillModel's BPS)."""

    bps: Decimal
    quantum: Decimal | None = CENT

    def __post_init__(self) -> None:
        if self.bps < 0:
            raise ValueError("Commission rates must not be negative.")

    def commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        return _round(quantity * price * self.bps / _BPS, self.quantum)

    def describe(self) -> str:
        return f"{self.bps} bps of value"


@dataclass(frozen=True)
class PercentOfValue:
    """``quantity * price * percent / 100``: ``PercentOfValue(Decimal("0.2"))`` is 0.2 % of each fill's value."""

    percent: Decimal
    quantum: Decimal | None = CENT

    def __post_init__(self) -> None:
        if self.percent < 0:
            raise ValueError("Commission rates must not be negative.")

    @property
    def rate(self) -> Decimal:
        """The fraction of value: 0.2 % is 0.002."""
        return self.percent / _HUNDRED

    def commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        return _round(quantity * price * self.percent / _HUNDRED, self.quantum)

    def describe(self) -> str:
        return f"{self.percent} % of value"


NO_COMMISSION = NoCommission()


# ---- slippage ---------------------------------------------------------------------------------------------------


class Slippage(Protocol):
    def price(self, side: Side, price: Decimal) -> Decimal: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class NoSlippage:
    def price(self, side: Side, price: Decimal) -> Decimal:
        return price

    def describe(self) -> str:
        return "no slippage"


@dataclass(frozen=True)
class BpsSlippage:
    bps: Decimal
    tick_size: Decimal | None = None
    _model: FillModel | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.bps < 0:
            raise ValueError(f"The slippage must not be negative, got {self.bps}.")
        if self.tick_size is not None:
            object.__setattr__(self, "_model", FillModel(slippage_bps=self.bps, tick_size=self.tick_size))

    def price(self, side: Side, price: Decimal) -> Decimal:
        if self._model is not None:
            return self._model.market_price(side, price)
        return price * (1 + side.sign * self.bps / _BPS)

    def describe(self) -> str:
        tick = f" on a {self.tick_size} tick" if self.tick_size is not None else ""
        return f"{self.bps} bps{tick}"


@dataclass(frozen=True)
class FixedSlippage:
    amount: Decimal

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(f"The slippage must not be negative, got {self.amount}.")

    def price(self, side: Side, price: Decimal) -> Decimal:
        slipped = price + side.sign * self.amount
        if slipped <= 0:
            # A sell never fills at or below zero: the smallest step of the price's own grid instead.
            return Decimal(1).scaleb(min(price.as_tuple().exponent, 0))  # type: ignore[arg-type]
        return slipped

    def describe(self) -> str:
        return f"{self.amount} a share"


NO_SLIPPAGE = NoSlippage()
