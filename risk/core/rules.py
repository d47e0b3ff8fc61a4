"""Pure pre-trade risk checks over a snapshot of one account and strategy.

The database layer builds the ``RiskSnapshot`` under the account row lock; the
backtester builds it from its own books. Nothing here reads a clock or a table.

Definitions (this docstring is the documentation of the rules):

Scope
    The strategy scope is ``strategy_holdings`` + ``strategy_orders``; the account
    scope is ``account_holdings`` + ``account_orders``. Holdings in a scope are
    netted per symbol (their signed quantities summed).

Reducing and opening quantity
    In a scope, let ``H`` be the net holding in the symbol. Pending orders on the
    side opposite to ``H`` claim reducing capacity in tuple order, up to
    ``abs(H)``; whatever they do not claim is their opening part, as are pending
    orders on the same side as ``H`` (or any side when ``H == 0``). The intent
    then splits (``split_reducing``) against the unclaimed capacity
    ``max(0, abs(H) - claimed)``. Reducing quantity reserves nothing and is never
    refused: every check below applies only when the intent's opening quantity
    in that check's scope is > 0.

Reservation
    ``opening_qty * reference_price * (1 + buffer)``; the buffer covers slippage
    and commission on orders whose fill price is not capped (market, stop). It
    is ``limits.reserve_buffer`` unless the order or intent carries its own
    ``reserve_buffer`` (0 for a limit order, which never fills beyond its price).

Checks
    a) ``strategy_capital_exceeded``: ``used = sum(abs(q) * avg)`` over strategy
       holdings + reservations of pending strategy orders. Refused when
       ``used + reservation > strategy_capital``.
       limit = strategy_capital, actual = used + reservation.
    b) ``insufficient_funds``: ``buying_power = cash - sum(abs(q) * avg)`` over
       account holdings with ``q < 0`` (short proceeds held as collateral) -
       reservations of pending account orders. Refused when ``reservation > buying_power``.
       limit = buying_power, actual = reservation.
    c) ``max_position_size_exceeded``: ``projected = abs(H + P + s * qty) *
       reference_price`` in the account scope, where ``s`` is the intent's side
       sign and ``P`` the signed remaining quantity of every pending order in the
       symbol on the intent's side (worst case: they all fill, no opposite order
       does). Refused when ``projected > max_position_fraction * equity``.
       limit = max_position_fraction * equity, actual = projected.

``max_quantity``
    Each check passes for every quantity up to a bound (reducing capacity plus
    the headroom divided by the reserved price per unit); the recommendation is
    the smallest bound rounded down to ``lot_size``, floored at 0, and is given
    only when the order is invalid.

``risk_score``
    ``100 * max(u_a, u_b, u_c)`` capped at 100 and quantized to 0.01, where the
    utilizations after the order are ``u_a = (used + reservation) /
    strategy_capital``, ``u_b = (cash - buying_power + reservation) / cash`` and
    ``u_c = projected / (max_position_fraction * equity)``. A non-positive
    denominator counts as full utilization when its numerator is positive, else 0.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from trading.core.orders import Side
from trading.core.positions import split_reducing
from trading.core.sizing import round_to_lot

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_SCORE_STEP = Decimal("0.01")

STRATEGY_CAPITAL_EXCEEDED = "strategy_capital_exceeded"
INSUFFICIENT_FUNDS = "insufficient_funds"
MAX_POSITION_SIZE_EXCEEDED = "max_position_size_exceeded"


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    limit: Decimal | None = None
    actual: Decimal | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "message": self.message,
            "limit": None if self.limit is None else str(self.limit),
            "actual": None if self.actual is None else str(self.actual),
        }


@dataclass(frozen=True)
class Holding:
    symbol: str
    quantity: Decimal
    average_price: Decimal


@dataclass(frozen=True)
class PendingOrder:
    symbol: str
    side: Side
    remaining_quantity: Decimal
    reference_price: Decimal
    reserve_buffer: Decimal | None = None


@dataclass(frozen=True)
class OrderIntent:
    symbol: str
    side: Side
    quantity: Decimal
    reference_price: Decimal
    lot_size: Decimal = Decimal(1)
    reserve_buffer: Decimal | None = None


@dataclass(frozen=True)
class RiskLimits:
    max_position_fraction: Decimal = Decimal("0.10")
    reserve_buffer: Decimal = Decimal("0.02")


@dataclass(frozen=True)
class RiskSnapshot:
    cash: Decimal
    equity: Decimal
    strategy_capital: Decimal
    strategy_holdings: tuple[Holding, ...]
    strategy_orders: tuple[PendingOrder, ...]
    account_holdings: tuple[Holding, ...]
    account_orders: tuple[PendingOrder, ...]
    limits: RiskLimits = field(default_factory=RiskLimits)


@dataclass(frozen=True)
class RiskValidation:
    is_valid: bool
    risk_score: Decimal
    violations: tuple[Violation, ...]
    recommended_adjustments: dict[str, str]
    validation_timestamp: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "is_valid": self.is_valid,
            "risk_score": str(self.risk_score),
            "violations": [violation.as_dict() for violation in self.violations],
            "recommended_adjustments": dict(self.recommended_adjustments),
            "validation_timestamp": self.validation_timestamp.isoformat(),
        }


def _net_holding(holdings: Iterable[Holding], symbol: str) -> Decimal:
    return sum((h.quantity for h in holdings if h.symbol == symbol), _ZERO)


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


@dataclass(frozen=True)
class _Scope:
    """One scope's books reduced to what the checks need."""

    net_by_symbol: dict[str, Decimal]
    holdings_cost: Decimal
    short_collateral: Decimal
    pending_reservations: Decimal
    unclaimed_capacity: dict[str, Decimal]


def _build_scope(holdings: tuple[Holding, ...], orders: tuple[PendingOrder, ...], buffer: Decimal) -> _Scope:
    symbols = {h.symbol for h in holdings} | {o.symbol for o in orders}
    net = {symbol: _net_holding(holdings, symbol) for symbol in symbols}
    capacity = {symbol: abs(quantity) for symbol, quantity in net.items()}
    reservations = _ZERO
    for order in orders:
        held = net[order.symbol]
        # Remaining capacity keeps the holding's sign so split_reducing sees direction.
        _, opening = split_reducing(_sign(held) * capacity[order.symbol], order.side, order.remaining_quantity)
        capacity[order.symbol] -= order.remaining_quantity - opening
        order_buffer = buffer if order.reserve_buffer is None else order.reserve_buffer
        reservations += opening * order.reference_price * (1 + order_buffer)
    return _Scope(
        net_by_symbol=net,
        holdings_cost=sum((abs(h.quantity) * h.average_price for h in holdings), _ZERO),
        short_collateral=sum((-h.quantity * h.average_price for h in holdings if h.quantity < 0), _ZERO),
        pending_reservations=reservations,
        unclaimed_capacity=capacity,
    )


def _utilization(used: Decimal, available: Decimal) -> Decimal:
    if available <= 0:
        return Decimal(1) if used > 0 else _ZERO
    return used / available


@dataclass(frozen=True)
class _Evaluation:
    violations: tuple[Violation, ...]
    utilizations: tuple[Decimal, ...]


class _Checker:
    """Evaluates the three checks for any quantity of one intent's symbol and side."""

    def __init__(self, snapshot: RiskSnapshot, intent: OrderIntent) -> None:
        limits = snapshot.limits
        self.snapshot = snapshot
        self.intent = intent
        buffer = limits.reserve_buffer if intent.reserve_buffer is None else intent.reserve_buffer
        self.unit_reserve = intent.reference_price * (1 + buffer)
        self.strategy = _build_scope(snapshot.strategy_holdings, snapshot.strategy_orders, limits.reserve_buffer)
        self.account = _build_scope(snapshot.account_holdings, snapshot.account_orders, limits.reserve_buffer)
        self.strategy_used = self.strategy.holdings_cost + self.strategy.pending_reservations
        self.buying_power = snapshot.cash - self.account.short_collateral - self.account.pending_reservations
        self.position_limit = limits.max_position_fraction * snapshot.equity
        same_side_pending = sum(
            (
                o.remaining_quantity
                for o in snapshot.account_orders
                if o.symbol == intent.symbol and o.side is intent.side
            ),
            _ZERO,
        )
        # Worst-case position before the intent, measured along the intent's direction.
        self.base_along_side = (
            intent.side.sign * self.account.net_by_symbol.get(intent.symbol, _ZERO) + same_side_pending
        )

    def _opening(self, scope: _Scope, quantity: Decimal) -> Decimal:
        held = scope.net_by_symbol.get(self.intent.symbol, _ZERO)
        capacity = scope.unclaimed_capacity.get(self.intent.symbol, _ZERO)
        _, opening = split_reducing(_sign(held) * capacity, self.intent.side, quantity)
        return opening

    def _capacity(self, scope: _Scope) -> Decimal:
        held = scope.net_by_symbol.get(self.intent.symbol, _ZERO)
        if _sign(held) != -self.intent.side.sign:
            return _ZERO
        return scope.unclaimed_capacity.get(self.intent.symbol, _ZERO)

    def evaluate(self, quantity: Decimal) -> _Evaluation:
        price = self.intent.reference_price
        violations: list[Violation] = []

        strategy_reserve = self._opening(self.strategy, quantity) * self.unit_reserve
        strategy_total = self.strategy_used + strategy_reserve
        capital = self.snapshot.strategy_capital
        if strategy_reserve > 0 and strategy_total > capital:
            violations.append(
                Violation(
                    code=STRATEGY_CAPITAL_EXCEEDED,
                    message=(
                        f"The order would bring the strategy's committed capital to "
                        f"{strategy_total}, above its allocation of {capital}."
                    ),
                    limit=capital,
                    actual=strategy_total,
                )
            )

        account_opening = self._opening(self.account, quantity)
        account_reserve = account_opening * self.unit_reserve
        if account_reserve > 0 and account_reserve > self.buying_power:
            violations.append(
                Violation(
                    code=INSUFFICIENT_FUNDS,
                    message=(
                        f"The order needs {account_reserve} of buying power but the "
                        f"account has {self.buying_power} available."
                    ),
                    limit=self.buying_power,
                    actual=account_reserve,
                )
            )

        projected = abs(self.base_along_side + quantity) * price
        if account_opening > 0 and projected > self.position_limit:
            violations.append(
                Violation(
                    code=MAX_POSITION_SIZE_EXCEEDED,
                    message=(
                        f"The order would bring the position in {self.intent.symbol} to "
                        f"{projected}, above the limit of {self.position_limit} "
                        f"({self.snapshot.limits.max_position_fraction} of equity)."
                    ),
                    limit=self.position_limit,
                    actual=projected,
                )
            )

        cash_used = self.snapshot.cash - self.buying_power + account_reserve
        utilizations = (
            _utilization(strategy_total, capital),
            _utilization(cash_used, self.snapshot.cash),
            _utilization(projected, self.position_limit),
        )
        return _Evaluation(violations=tuple(violations), utilizations=utilizations)

    def max_quantity(self) -> Decimal:
        """Largest whole-lot quantity passing every check."""
        bounds = [
            self._capacity(self.strategy)
            + max(self.snapshot.strategy_capital - self.strategy_used, _ZERO) / self.unit_reserve,
            self._capacity(self.account) + max(self.buying_power, _ZERO) / self.unit_reserve,
            max(
                self._capacity(self.account),
                max(self.position_limit, _ZERO) / self.intent.reference_price - self.base_along_side,
            ),
        ]
        lot = self.intent.lot_size
        candidate = max(round_to_lot(min(bounds), lot), _ZERO)
        # Rounding to 28 digits can lift a bound just under a lot boundary onto it.
        if candidate > 0 and self.evaluate(candidate).violations:
            return candidate - lot
        return candidate


def _score(utilizations: tuple[Decimal, ...]) -> Decimal:
    score = min(max(utilizations) * _HUNDRED, _HUNDRED)
    return max(score, _ZERO).quantize(_SCORE_STEP, rounding=ROUND_HALF_UP)


def validate_order(snapshot: RiskSnapshot, intent: OrderIntent, *, now: datetime) -> RiskValidation:
    """Run the pre-trade checks for ``intent`` against ``snapshot`` at time ``now``."""
    if not intent.quantity.is_finite() or intent.quantity <= 0:
        raise ValueError(f"The order quantity must be a positive number, got {intent.quantity}.")
    if not intent.reference_price.is_finite() or intent.reference_price <= 0:
        raise ValueError(f"The reference price must be a positive number, got {intent.reference_price}.")
    if not intent.lot_size.is_finite() or intent.lot_size <= 0:
        raise ValueError(f"The lot size must be a positive number, got {intent.lot_size}.")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("The validation time must be timezone-aware.")

    checker = _Checker(snapshot, intent)
    evaluation = checker.evaluate(intent.quantity)
    is_valid = not evaluation.violations
    adjustments = {} if is_valid else {"max_quantity": str(checker.max_quantity())}
    return RiskValidation(
        is_valid=is_valid,
        risk_score=_score(evaluation.utilizations),
        violations=evaluation.violations,
        recommended_adjustments=adjustments,
        validation_timestamp=now,
    )
