"""Paper venue fill model: slippage, tick rounding, commission, order triggers."""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from trading.core.orders import Side

_BPS = Decimal(10000)
_CENT = Decimal("0.01")


def _require_positive(name: str, value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ValueError(f"The {name} must be a positive number, got {value}.")


@dataclass(frozen=True)
class FillModel:
    slippage_bps: Decimal = Decimal("5")
    commission_per_share: Decimal = Decimal("0.005")
    commission_minimum: Decimal = Decimal("1.00")
    tick_size: Decimal = Decimal("0.01")

    def __post_init__(self) -> None:
        if self.slippage_bps < 0:
            raise ValueError(f"The slippage must not be negative, got {self.slippage_bps}.")
        if self.commission_per_share < 0 or self.commission_minimum < 0:
            raise ValueError("Commission rates must not be negative.")
        _require_positive("tick size", self.tick_size)

    def _to_tick(self, price: Decimal, rounding: str) -> Decimal:
        ticks = (price / self.tick_size).to_integral_value(rounding=rounding)
        return ticks * self.tick_size

    def market_price(self, side: Side, last_price: Decimal) -> Decimal:
        """Price a market order fills at: slippage against the trader, on the tick grid."""
        _require_positive("last price", last_price)
        slipped = last_price * (1 + side.sign * self.slippage_bps / _BPS)
        # Round against the trader so tick rounding never undoes slippage.
        return self._to_tick(slipped, ROUND_CEILING if side is Side.BUY else ROUND_FLOOR)

    def commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Per-share commission with a per-order minimum, in cents."""
        _require_positive("quantity", quantity)
        _require_positive("price", price)
        fee = max(self.commission_per_share * quantity, self.commission_minimum)
        return fee.quantize(_CENT, rounding=ROUND_HALF_UP)

    def limit_fill_price(self, side: Side, limit_price: Decimal, last_price: Decimal) -> Decimal | None:
        """Fill price of a marketable limit order, or None if it would rest."""
        _require_positive("limit price", limit_price)
        _require_positive("last price", last_price)
        if side is Side.BUY:
            if last_price <= limit_price:
                return min(limit_price, self.market_price(side, last_price))
            return None
        if last_price >= limit_price:
            return max(limit_price, self.market_price(side, last_price))
        return None

    def stop_triggered(self, side: Side, stop_price: Decimal, last_price: Decimal) -> bool:
        """Sell stops trigger on a fall to the stop, buy stops on a rise to it."""
        _require_positive("stop price", stop_price)
        _require_positive("last price", last_price)
        if side is Side.BUY:
            return last_price >= stop_price
        return last_price <= stop_price
