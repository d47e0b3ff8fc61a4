"""Paper venue fill model: slippage, tick rounding, commission, liquidity, order triggers."""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

from trading.core.orders import Side

_BPS = Decimal(10000)
_CENT = Decimal("0.01")
_ONE = Decimal(1)


class CommissionModel(StrEnum):
    PER_SHARE = "per_share"  # per share, with a minimum per fill
    PER_ORDER = "per_order"  # a flat fee per fill
    BPS = "bps"  # basis points of the fill's notional


def _require_positive(name: str, value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ValueError(f"The {name} must be a positive number, got {value}.")


@dataclass(frozen=True)
class FillModel:
    slippage_bps: Decimal = Decimal("5")
    commission_per_share: Decimal = Decimal("0.005")
    commission_minimum: Decimal = Decimal("1.00")
    tick_size: Decimal = Decimal("0.01")
    commission_model: CommissionModel = CommissionModel.PER_SHARE
    commission_per_order: Decimal = Decimal("1.00")
    commission_bps: Decimal = Decimal("1")
    # Share of the available volume one fill may take; 1 means liquidity never limits a fill.
    max_participation: Decimal = Decimal("1")

    def __post_init__(self) -> None:
        if self.slippage_bps < 0:
            raise ValueError(f"The slippage must not be negative, got {self.slippage_bps}.")
        if min(self.commission_per_share, self.commission_minimum, self.commission_per_order, self.commission_bps) < 0:
            raise ValueError("Commission rates must not be negative.")
        object.__setattr__(self, "commission_model", CommissionModel(self.commission_model))
        _require_positive("tick size", self.tick_size)
        if not self.max_participation.is_finite() or not 0 < self.max_participation <= 1:
            raise ValueError(f"The participation must lie in (0, 1], got {self.max_participation}.")

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
        """Commission of one fill, in cents: per share (with a minimum), per order, or bps of notional."""
        _require_positive("quantity", quantity)
        _require_positive("price", price)
        if self.commission_model is CommissionModel.PER_ORDER:
            fee = self.commission_per_order
        elif self.commission_model is CommissionModel.BPS:
            fee = quantity * price * self.commission_bps / _BPS
        else:
            fee = max(self.commission_per_share * quantity, self.commission_minimum)
        return fee.quantize(_CENT, rounding=ROUND_HALF_UP)

    @property
    def liquidity_limited(self) -> bool:
        return self.max_participation < _ONE

    def fillable(self, quantity: Decimal, available: Decimal | None) -> Decimal:
        """How much of quantity one fill may take from the available volume (whole shares, never more)."""
        if not self.liquidity_limited or available is None:
            return quantity
        cap = max(available * self.max_participation, Decimal(0)).to_integral_value(rounding=ROUND_DOWN)
        return min(quantity, cap)

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

    def trail_best(self, side: Side, best: Decimal | None, last_price: Decimal) -> Decimal:
        """The best price since placement: the high for a sell trailing stop, the low for a buy one."""
        if best is None:
            return last_price
        return max(best, last_price) if side is Side.SELL else min(best, last_price)

    def trail_stop(
        self, side: Side, best: Decimal, *, amount: Decimal | None = None, percent: Decimal | None = None
    ) -> Decimal:
        """Stop price a trailing stop sits at: the trail behind the best price, on the tick grid."""
        _require_positive("best price", best)
        if (amount is None) == (percent is None):
            raise ValueError("A trailing stop needs exactly one of a trail amount or a trail percent.")
        trail = amount if amount is not None else best * percent / 100
        _require_positive("trail", trail)
        # Rounded towards the best price: the stop never sits further away than the trail.
        if side is Side.SELL:
            return self._to_tick(best - trail, ROUND_CEILING)
        return self._to_tick(best + trail, ROUND_FLOOR)
