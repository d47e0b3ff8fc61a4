"""Position sizing methods (RiskEngine.calculate_position_size), in ``Decimal`` and whole lots.

The strategy's configuration picks one (``{"sizing": {"method": ..., ...}}``):
- ``fixed_fraction``: ``fraction * capital / price`` (the signal's ``position_size`` by default).
- ``confidence``: ``fraction * confidence * capital / price``.
- ``volatility_target``: ``target_volatility * capital / (price * volatility)`` where
  ``volatility`` is the daily standard deviation of recent returns, or ATR / price.
- ``kelly``: ``min(kelly_fraction * f*, cap) * capital / price`` with
  ``f* = p - (1 - p) / b`` (``p`` win probability, default the signal's confidence;
  ``b`` payoff ratio), floored at 0.
The result is rounded down to ``lot_size`` and then clamped to ``max_quantity``
(the largest quantity every risk limit allows), so it always respects both.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from trading.core.sizing import round_to_lot

FIXED_FRACTION = "fixed_fraction"
CONFIDENCE = "confidence"
VOLATILITY_TARGET = "volatility_target"
KELLY = "kelly"
METHODS = (FIXED_FRACTION, CONFIDENCE, VOLATILITY_TARGET, KELLY)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class PositionSize:
    quantity: Decimal
    method: str
    unclamped_quantity: Decimal
    limited_by_risk: bool


def stdev(values: Sequence[Decimal]) -> Decimal:
    if len(values) < 2:
        raise ValueError("At least two returns are needed for a volatility.")
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return variance.sqrt()


def average_true_range(highs: Sequence[Decimal], lows: Sequence[Decimal], closes: Sequence[Decimal]) -> Decimal:
    if not (len(highs) == len(lows) == len(closes)) or len(closes) < 2:
        raise ValueError("ATR needs at least two aligned bars.")
    ranges = [
        max(h - lo, abs(h - prev), abs(lo - prev)) for h, lo, prev in zip(highs[1:], lows[1:], closes[:-1], strict=True)
    ]
    return sum(ranges) / len(ranges)


def raw_quantity(
    *,
    method: str,
    capital: Decimal,
    price: Decimal,
    fraction: Decimal = _ZERO,
    confidence: Decimal = Decimal(1),
    volatility: Decimal | None = None,
    target_volatility: Decimal | None = None,
    win_probability: Decimal | None = None,
    payoff_ratio: Decimal = Decimal(1),
    kelly_fraction: Decimal = Decimal("0.5"),
    kelly_cap: Decimal = Decimal("0.25"),
) -> Decimal:
    if not price.is_finite() or price <= 0:
        raise ValueError(f"The price must be a positive number, got {price}.")
    if method == FIXED_FRACTION:
        notional = fraction * capital
    elif method == CONFIDENCE:
        notional = fraction * confidence * capital
    elif method == VOLATILITY_TARGET:
        if volatility is None or volatility <= 0 or target_volatility is None:
            raise ValueError("Volatility targeting needs a positive volatility and a target.")
        notional = target_volatility / volatility * capital
    elif method == KELLY:
        p = confidence if win_probability is None else win_probability
        if payoff_ratio <= 0:
            raise ValueError("The payoff ratio must be positive.")
        optimal = p - (1 - p) / payoff_ratio
        notional = min(max(optimal * kelly_fraction, _ZERO), kelly_cap) * capital
    else:
        raise ValueError(f"{method} is not a sizing method; use one of {', '.join(METHODS)}.")
    return max(notional / price, _ZERO)


def position_size(*, raw: Decimal, lot_size: Decimal, max_quantity: Decimal | None, method: str) -> PositionSize:
    quantity = round_to_lot(raw, lot_size)
    limited = max_quantity is not None and quantity > max_quantity
    if limited:
        quantity = max(round_to_lot(max_quantity, lot_size), _ZERO)
    return PositionSize(
        quantity=quantity, method=method, unclamped_quantity=round_to_lot(raw, lot_size), limited_by_risk=limited
    )
