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
    refused by a *limit* check: every limit check below applies only when the
    intent's opening quantity in that check's scope is > 0. *Gate* checks
    (kill switch, halt, market hours, stale data, price band, order rate,
    self-cross, pattern day trader) refuse any order, closing ones included.

Reservation
    ``opening_qty * reference_price * (1 + buffer)``; the buffer covers slippage
    and commission on orders whose fill price is not capped (market, stop). It
    is ``limits.reserve_buffer`` unless the order or intent carries its own
    ``reserve_buffer`` (0 for a limit order, which never fills beyond its price).

Marks
    A symbol's mark ``px`` is ``snapshot.prices[symbol]`` when given, else the
    holding's average price (for holdings) or the order's reference price (for
    pending orders). The intent is valued at its ``reference_price``.
    Exposure counts holdings at their marks plus the opening parts of pending
    account orders at their reference prices (no buffer):
    ``gross = sum(abs(H_s) * px_s) + sum(opening_o * p_o)``,
    ``net = sum(H_s * px_s) + sum(sign_o * opening_o * p_o)``, and the sector
    exposure is ``gross`` restricted to the symbols of one sector.

Limit checks (quantity-bounded; a limit left ``None`` is off)
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
    d) ``max_position_quantity_exceeded``: ``abs(H + P + s * qty) > max_position_quantity``.
    e) ``max_gross_exposure_exceeded``: ``gross + opening * price > max_gross_exposure * equity``.
    f) ``max_net_exposure_exceeded``: ``net_after = net + s * qty * price``; refused when
       ``abs(net_after) > max_net_exposure * equity`` and ``abs(net_after) > abs(net)``.
    g) ``max_sector_exposure_exceeded``: ``sector_gross + opening * price >
       max(max_sector_exposure, max_position_fraction) * equity`` for the intent's
       sector (a sector can always hold one full-size position).
    h) ``max_order_notional_exceeded``: ``qty * price > max_order_notional``.
    i) ``reduce_only``: the account (or the strategy) is REDUCE_ONLY and the order opens.
    j) ``restricted_symbol``: the symbol is in ``restricted_symbols`` and the order opens.
    k) ``not_easy_to_borrow``: a SELL whose account opening part is > 0 (it opens or
       grows a short) in a symbol that is not shortable.
    l) ``daily_loss_limit_exceeded``: ``loss = day_start_equity - equity`` (realized +
       unrealized since the trading day began) reaches ``daily_loss_limit *
       day_start_equity``: refused when ``loss > 0 and loss >= limit`` (a limit of 0
       allows no loss at all; having lost nothing never reaches it). Evaluated for the account and,
       when given, for the strategy (``strategy_equity`` / ``strategy_day_start_equity``).
    m) ``max_drawdown_exceeded``: ``drawdown = high_water_mark - equity`` reaches
       ``max_drawdown * high_water_mark``: refused when ``drawdown > 0 and drawdown >=
       limit``; account and strategy.
    l) and m) are ``daily_loss`` and ``drawdown`` below, the same definitions by which
    ``risk.core.states`` moves an account or strategy to its breach action.

Gate checks (binary; the recommended quantity is then 0)
    ``kill_switch_engaged`` (any scope engaged), ``trading_halted`` (account or
    strategy HALTED), ``market_closed`` (``market_hours`` REGULAR needs session
    REGULAR; EXTENDED accepts REGULAR or EXTENDED; ANY accepts all),
    ``stale_market_data`` (the symbol is stale and ``reject_stale_prices``),
    ``price_band_exceeded`` (``abs(limit_price - last) / last > max_price_deviation``),
    ``order_rate_exceeded`` (orders created in ``(now - 60 s, now]`` for the strategy,
    then the account, already reach their per-minute limit), ``self_cross`` (a BUY
    at ``limit_price`` (market: any price) ``>=`` a resting account SELL limit, or a
    SELL ``<=`` a resting BUY limit), ``pattern_day_trader`` (margin account with
    equity < 25,000 and 3 or more day trades in 5 business days, and the order
    reduces a position in a symbol opened today).

``max_quantity``
    Each limit check passes every whole-lot quantity up to its bound: its reducing
    capacity, or beyond it as long as its measure, which grows by a fixed amount per
    unit opened, stays within the limit (the net exposure: within the larger of the
    limit and today's ``abs(net)``, measured along the intent's side). The
    recommendation is the smallest bound (0 when a gate refuses), and is given only
    when the order is invalid. Bounds are exact: the checks run at a precision at
    which the snapshot's sums and products are exact and a bound is an integer
    division, so the recommendation passes every check and one lot more fails one.

Auto-resize
    When every violation's code is in ``limits.resize`` (a subset of the limit
    checks) and ``max_quantity > 0``, the order is valid at ``approved_quantity
    = max_quantity``; ``recommended_adjustments`` then holds ``quantity`` and
    ``requested_quantity``, and ``resized_for`` names the codes.

``risk_score``
    ``100 * max(u_a, u_b, u_c, ...)`` capped at 100 and quantized to 0.01, where the
    utilizations after the order are ``u_a = (used + reservation) /
    strategy_capital``, ``u_b = (cash - buying_power + reservation) / cash``,
    ``u_c = projected / (max_position_fraction * equity)`` and, for each limit
    d)-h), l), m) that is set, its ``actual / limit``. A non-positive
    denominator counts as full utilization when its numerator is positive, else 0.

In the code each limit is one object in ``LIMIT_CHECKS`` (its violation, its
utilization and its bound) and each gate one in ``GATES``; ``validate_order``
runs the lists in this order.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import cached_property
from typing import Any, Protocol

from trading.core.orders import Side
from trading.core.positions import split_reducing
from trading.core.verdicts import Violation  # one refusal type for every check that can refuse an order

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_SCORE_STEP = Decimal("0.01")
RATE_WINDOW = timedelta(seconds=60)
PDT_EQUITY_MINIMUM = Decimal(25000)
PDT_MAX_DAY_TRADES = 3

STRATEGY_CAPITAL_EXCEEDED = "strategy_capital_exceeded"
INSUFFICIENT_FUNDS = "insufficient_funds"
MAX_POSITION_SIZE_EXCEEDED = "max_position_size_exceeded"
MAX_POSITION_QUANTITY_EXCEEDED = "max_position_quantity_exceeded"
MAX_GROSS_EXPOSURE_EXCEEDED = "max_gross_exposure_exceeded"
MAX_NET_EXPOSURE_EXCEEDED = "max_net_exposure_exceeded"
MAX_SECTOR_EXPOSURE_EXCEEDED = "max_sector_exposure_exceeded"
MAX_ORDER_NOTIONAL_EXCEEDED = "max_order_notional_exceeded"
REDUCE_ONLY = "reduce_only"
RESTRICTED_SYMBOL = "restricted_symbol"
NOT_EASY_TO_BORROW = "not_easy_to_borrow"
DAILY_LOSS_LIMIT_EXCEEDED = "daily_loss_limit_exceeded"
MAX_DRAWDOWN_EXCEEDED = "max_drawdown_exceeded"
KILL_SWITCH_ENGAGED = "kill_switch_engaged"
TRADING_HALTED = "trading_halted"
MARKET_CLOSED = "market_closed"
STALE_MARKET_DATA = "stale_market_data"
PRICE_BAND_EXCEEDED = "price_band_exceeded"
ORDER_RATE_EXCEEDED = "order_rate_exceeded"
SELF_CROSS = "self_cross"
PATTERN_DAY_TRADER = "pattern_day_trader"

# Checks a breach of which can be cured by a smaller quantity (the only ones auto-resize may apply to).
RESIZABLE = frozenset(
    {
        STRATEGY_CAPITAL_EXCEEDED,
        INSUFFICIENT_FUNDS,
        MAX_POSITION_SIZE_EXCEEDED,
        MAX_POSITION_QUANTITY_EXCEEDED,
        MAX_GROSS_EXPOSURE_EXCEEDED,
        MAX_NET_EXPOSURE_EXCEEDED,
        MAX_SECTOR_EXPOSURE_EXCEEDED,
        MAX_ORDER_NOTIONAL_EXCEEDED,
        REDUCE_ONLY,
        RESTRICTED_SYMBOL,
        NOT_EASY_TO_BORROW,
        DAILY_LOSS_LIMIT_EXCEEDED,
        MAX_DRAWDOWN_EXCEEDED,
    }
)

ACTIVE, REDUCING, HALTED = "ACTIVE", "REDUCE_ONLY", "HALTED"
SESSION_REGULAR, SESSION_EXTENDED, SESSION_CLOSED = "REGULAR", "EXTENDED", "CLOSED"
HOURS_ANY, HOURS_REGULAR, HOURS_EXTENDED = "ANY", "REGULAR", "EXTENDED"


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
    limit_price: Decimal | None = None  # resting limit orders: what a new order could cross


@dataclass(frozen=True)
class OrderIntent:
    symbol: str
    side: Side
    quantity: Decimal
    reference_price: Decimal
    lot_size: Decimal = Decimal(1)
    reserve_buffer: Decimal | None = None
    limit_price: Decimal | None = None
    sector: str | None = None
    shortable: bool = True


@dataclass(frozen=True)
class RiskLimits:
    max_position_fraction: Decimal = Decimal("0.10")
    reserve_buffer: Decimal = Decimal("0.02")
    max_position_quantity: Decimal | None = None
    max_gross_exposure: Decimal | None = None
    max_net_exposure: Decimal | None = None
    max_sector_exposure: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_strategy_orders_per_minute: int | None = None
    max_account_orders_per_minute: int | None = None
    max_price_deviation: Decimal | None = None
    daily_loss_limit: Decimal | None = None
    max_drawdown: Decimal | None = None
    reject_stale_prices: bool = True
    market_hours: str = HOURS_ANY
    restricted_symbols: frozenset[str] = frozenset()
    prevent_self_cross: bool = False
    margin_account: bool = False
    resize: frozenset[str] = frozenset()


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
    prices: Mapping[str, Decimal] = field(default_factory=dict)
    sectors: Mapping[str, str] = field(default_factory=dict)
    trading_state: str = ACTIVE
    strategy_trading_state: str = ACTIVE
    kill_switches: tuple[str, ...] = ()
    market_session: str = SESSION_REGULAR
    stale_symbols: frozenset[str] = frozenset()
    strategy_order_times: tuple[datetime, ...] = ()
    account_order_times: tuple[datetime, ...] = ()
    day_start_equity: Decimal | None = None
    high_water_mark: Decimal | None = None
    strategy_equity: Decimal | None = None
    strategy_day_start_equity: Decimal | None = None
    strategy_high_water_mark: Decimal | None = None
    day_trades: int = 0
    opened_today: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RiskValidation:
    is_valid: bool
    risk_score: Decimal
    violations: tuple[Violation, ...]
    recommended_adjustments: dict[str, str]
    validation_timestamp: datetime
    approved_quantity: Decimal | None = None
    resized_for: tuple[Violation, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "is_valid": self.is_valid,
            "risk_score": str(self.risk_score),
            "violations": [violation.as_dict() for violation in self.violations],
            "recommended_adjustments": dict(self.recommended_adjustments),
            "validation_timestamp": self.validation_timestamp.isoformat(),
            "approved_quantity": None if self.approved_quantity is None else str(self.approved_quantity),
            "resized_for": [violation.as_dict() for violation in self.resized_for],
        }


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
    pending_opening: tuple[tuple[PendingOrder, Decimal], ...]


def _build_scope(holdings: tuple[Holding, ...], orders: tuple[PendingOrder, ...], buffer: Decimal) -> _Scope:
    net: dict[str, Decimal] = {}
    holdings_cost = short_collateral = _ZERO
    for h in holdings:
        net[h.symbol] = net.get(h.symbol, _ZERO) + h.quantity
        cost = h.quantity * h.average_price
        holdings_cost += abs(cost)
        short_collateral -= min(_ZERO, cost)  # a short's proceeds
    capacity = {symbol: abs(quantity) for symbol, quantity in net.items()}
    reservations = _ZERO
    opening_parts = []
    for order in orders:
        held = net.get(order.symbol, _ZERO)
        # Remaining capacity keeps the holding's sign so split_reducing sees direction.
        _, opening = split_reducing(
            _sign(held) * capacity.get(order.symbol, _ZERO), order.side, order.remaining_quantity
        )
        if order.symbol in capacity:
            capacity[order.symbol] -= order.remaining_quantity - opening
        order_buffer = buffer if order.reserve_buffer is None else order.reserve_buffer
        reservations += opening * order.reference_price * (1 + order_buffer)
        opening_parts.append((order, opening))
    return _Scope(
        net_by_symbol=net,
        holdings_cost=holdings_cost,
        short_collateral=short_collateral,
        pending_reservations=reservations,
        unclaimed_capacity=capacity,
        pending_opening=tuple(opening_parts),
    )


# Ratios (utilizations, the price band's deviation) keep the usual 28 digits. Everything else runs
# at _EXACT_DIGITS, where sums and products of figures of up to 30 significant digits are exact (a
# database decimal has 20), so a bound and the check it bounds never disagree by a rounding.
_REPORTED = Context()
_EXACT_DIGITS = 100


def _utilization(used: Decimal, available: Decimal) -> Decimal:
    if available <= 0:
        return _ONE if used > 0 else _ZERO
    return _REPORTED.divide(used, available)


# ---- loss limits: one definition for the pre-trade checks and the trading-state monitor ---------
@dataclass(frozen=True)
class LossLimit:
    """A loss from a reference equity (the day's start, the high-water mark) against a fraction of it."""

    loss: Decimal
    limit: Decimal

    @property
    def reached(self) -> bool:
        return self.loss > 0 and self.loss >= self.limit


def daily_loss(*, equity: Decimal, day_start: Decimal | None, fraction: Decimal | None) -> LossLimit | None:
    """l) The loss since the trading day began; None when the limit is off or the day has no start."""
    if fraction is None or day_start is None:
        return None
    return LossLimit(loss=day_start - equity, limit=fraction * day_start)


def drawdown(*, equity: Decimal, high_water_mark: Decimal | None, fraction: Decimal | None) -> LossLimit | None:
    """m) The fall from the high-water mark; None when the limit is off or there is no mark."""
    if fraction is None or high_water_mark is None:
        return None
    return LossLimit(loss=high_water_mark - equity, limit=fraction * high_water_mark)


# ---- what the checks read ---------------------------------------------------------------------------
_ACCOUNT, _STRATEGY = "account", "strategy"


class _Book:
    """The snapshot seen from one intent: what the checks share, computed once per validation."""

    def __init__(self, snapshot: RiskSnapshot, intent: OrderIntent, now: datetime) -> None:
        limits = snapshot.limits
        self.snapshot = snapshot
        self.limits = limits
        self.intent = intent
        self.now = now
        self.price = intent.reference_price
        buffer = limits.reserve_buffer if intent.reserve_buffer is None else intent.reserve_buffer
        self.unit_reserve = self.price * (1 + buffer)
        strategy = _build_scope(snapshot.strategy_holdings, snapshot.strategy_orders, limits.reserve_buffer)
        account = _build_scope(snapshot.account_holdings, snapshot.account_orders, limits.reserve_buffer)
        self.scopes = {_STRATEGY: strategy, _ACCOUNT: account}
        self.strategy_used = strategy.holdings_cost + strategy.pending_reservations
        self.buying_power = snapshot.cash - account.short_collateral - account.pending_reservations
        self.position_limit = limits.max_position_fraction * snapshot.equity
        same_side_pending = sum(
            o.remaining_quantity for o in snapshot.account_orders if o.symbol == intent.symbol and o.side is intent.side
        )
        # Worst-case position before the intent, measured along the intent's direction.
        self.base_along_side = intent.side.sign * account.net_by_symbol.get(intent.symbol, _ZERO) + same_side_pending
        self.sector = intent.sector or snapshot.sectors.get(intent.symbol)

    def capacity(self, scope: str) -> Decimal:
        """The intent's unclaimed reducing capacity in a scope (0 unless it trades against the holding)."""
        books = self.scopes[scope]
        if _sign(books.net_by_symbol.get(self.intent.symbol, _ZERO)) != -self.intent.side.sign:
            return _ZERO
        return books.unclaimed_capacity[self.intent.symbol]

    def opening(self, scope: str, quantity: Decimal) -> Decimal:
        capacity = self.capacity(scope)
        # Without capacity the quantity opens as it is, with its own digits.
        return quantity - min(capacity, quantity) if capacity else quantity

    def closing_lots(self, scope: str) -> Decimal:
        """The whole lots of the capacity: the largest quantity that opens nothing in the scope."""
        lot = self.intent.lot_size
        return self.capacity(scope) // lot * lot

    def largest(self, scope: str, reach: Decimal, per_unit: Decimal) -> Decimal:
        """Largest whole-lot q with q <= capacity (it opens nothing) or per_unit * q <= reach (per_unit > 0).

        ``//`` is the exact integer part of the quotient; where it truncates a negative one
        towards 0, the capacity's lots (never below 0) are the larger anyway.
        """
        lot = self.intent.lot_size
        return max(self.closing_lots(scope), reach // (per_unit * lot) * lot)

    @cached_property
    def exposure(self) -> tuple[Decimal, Decimal, Decimal]:
        """(gross, net, gross of the intent's sector) of the account, as the docstring's Marks define them."""
        snapshot, account = self.snapshot, self.scopes[_ACCOUNT]
        prices, sectors = snapshot.prices, snapshot.sectors
        gross = net = sector_gross = _ZERO
        averages: dict[str, Decimal] = {}
        for h in snapshot.account_holdings:
            averages.setdefault(h.symbol, h.average_price)
        for symbol, quantity in account.net_by_symbol.items():
            value = quantity * prices.get(symbol, averages[symbol])
            gross += abs(value)
            net += value
            if sectors.get(symbol) == self.sector:
                sector_gross += abs(value)
        for order, opening in account.pending_opening:
            value = opening * order.reference_price
            gross += value
            net += order.side.sign * value
            if sectors.get(order.symbol) == self.sector:
                sector_gross += value
        return gross, net, sector_gross


# ---- limit checks (quantity-bounded) -------------------------------------------------------------
class _Limit:
    """A limit on a measure that grows by a fixed amount per unit the order opens in ``scope``.

    A check states its measure (``actual``), its ``limit`` (None: off) and its sentence;
    the violation, the utilization and the bound all follow from those.
    """

    code: str
    scope = _ACCOUNT

    def limit(self, book: _Book) -> Decimal | None:
        raise NotImplementedError

    def actual(self, book: _Book, quantity: Decimal) -> Decimal:
        raise NotImplementedError

    def message(self, book: _Book, quantity: Decimal, actual: Decimal, limit: Decimal) -> str:
        raise NotImplementedError

    def breached(self, book: _Book, actual: Decimal, limit: Decimal) -> bool:
        return actual > limit

    def violation(self, book: _Book, quantity: Decimal) -> Violation | None:
        limit = self.limit(book)
        if limit is None or not book.opening(self.scope, quantity):
            return None
        actual = self.actual(book, quantity)
        if not self.breached(book, actual, limit):
            return None
        return Violation(self.code, self.message(book, quantity, actual, limit), limit=limit, actual=actual)

    def utilization(self, book: _Book, quantity: Decimal) -> Decimal | None:
        limit = self.limit(book)
        return None if limit is None else _utilization(self.actual(book, quantity), limit)

    def bound(self, book: _Book) -> Decimal | None:
        """Largest whole-lot quantity that passes: past the capacity the measure is linear in the quantity."""
        limit = self.limit(book)
        if limit is None:
            return None
        capacity = book.capacity(self.scope)
        at_capacity = self.actual(book, capacity)
        per_unit = self.actual(book, capacity + 1) - at_capacity
        return book.largest(self.scope, limit - at_capacity + per_unit * capacity, per_unit)


class _StrategyCapital(_Limit):
    """a) The strategy's committed capital."""

    code, scope = STRATEGY_CAPITAL_EXCEEDED, _STRATEGY

    def limit(self, book: _Book) -> Decimal:
        return book.snapshot.strategy_capital

    def actual(self, book: _Book, quantity: Decimal) -> Decimal:
        return book.strategy_used + book.opening(_STRATEGY, quantity) * book.unit_reserve

    def message(self, book: _Book, quantity: Decimal, actual: Decimal, limit: Decimal) -> str:
        return f"The order would bring the strategy's committed capital to {actual}, above its allocation of {limit}."


class _BuyingPower(_Limit):
    """b) The account's buying power; its utilization is the share of cash committed."""

    code = INSUFFICIENT_FUNDS

    def limit(self, book: _Book) -> Decimal:
        return book.buying_power

    def actual(self, book: _Book, quantity: Decimal) -> Decimal:
        return book.opening(_ACCOUNT, quantity) * book.unit_reserve

    def message(self, book: _Book, quantity: Decimal, actual: Decimal, limit: Decimal) -> str:
        return f"The order needs {actual} of buying power but the account has {limit} available."

    def utilization(self, book: _Book, quantity: Decimal) -> Decimal:
        cash = book.snapshot.cash
        return _utilization(cash - book.buying_power + self.actual(book, quantity), cash)


class _PositionSize(_Limit):
    """c) One symbol's worst-case position, valued at the intent's price."""

    code = MAX_POSITION_SIZE_EXCEEDED

    def limit(self, book: _Book) -> Decimal:
        return book.position_limit

    def actual(self, book: _Book, quantity: Decimal) -> Decimal:
        return abs(book.base_along_side + quantity) * book.price

    def message(self, book: _Book, quantity: Decimal, actual: Decimal, limit: Decimal) -> str:
        return (
            f"The order would bring the position in {book.intent.symbol} to {actual}, above the limit of {limit} "
            f"({book.limits.max_position_fraction} of equity)."
        )


class _PositionQuantity(_Limit):
    """d) One symbol's worst-case position, in units."""

    code = MAX_POSITION_QUANTITY_EXCEEDED

    def limit(self, book: _Book) -> Decimal | None:
        return book.limits.max_position_quantity

    def actual(self, book: _Book, quantity: Decimal) -> Decimal:
        return abs(book.base_along_side + quantity)

    def message(self, book: _Book, quantity: Decimal, actual: Decimal, limit: Decimal) -> str:
        symbol = book.intent.symbol
        return f"The order would bring the position in {symbol} to {actual} units, above the limit of {limit}."


class _GrossExposure(_Limit):
    """e) The account's gross exposure."""

    code = MAX_GROSS_EXPOSURE_EXCEEDED

    def limit(self, book: _Book) -> Decimal | None:
        fraction = book.limits.max_gross_exposure
        return None if fraction is None else fraction * book.snapshot.equity

    def actual(self, book: _Book, quantity: Decimal) -> Decimal:
        return book.exposure[0] + book.opening(_ACCOUNT, quantity) * book.price

    def message(self, book: _Book, quantity: Decimal, actual: Decimal, limit: Decimal) -> str:
        return (
            f"The order would bring the gross exposure to {actual}, above the limit of {limit} "
            f"({book.limits.max_gross_exposure} of equity)."
        )


class _NetExposure(_Limit):
    """f) The account's net exposure: refused only when it grows beyond the limit."""

    code = MAX_NET_EXPOSURE_EXCEEDED

    def limit(self, book: _Book) -> Decimal | None:
        fraction = book.limits.max_net_exposure
        return None if fraction is None else fraction * book.snapshot.equity

    def net_after(self, book: _Book, quantity: Decimal) -> Decimal:
        return book.exposure[1] + book.intent.side.sign * quantity * book.price

    def actual(self, book: _Book, quantity: Decimal) -> Decimal:
        return abs(self.net_after(book, quantity))

    def breached(self, book: _Book, actual: Decimal, limit: Decimal) -> bool:
        return actual > limit and actual > abs(book.exposure[1])

    def message(self, book: _Book, quantity: Decimal, actual: Decimal, limit: Decimal) -> str:
        return (
            f"The order would bring the net exposure to {self.net_after(book, quantity)}, beyond the limit of {limit} "
            f"({book.limits.max_net_exposure} of equity)."
        )

    def bound(self, book: _Book) -> Decimal | None:
        # Measured along the intent's side the net grows by the price per unit; both conditions of a
        # breach hold exactly when it passes the larger of the limit and today's abs(net).
        limit = self.limit(book)
        if limit is None:
            return None
        net = book.exposure[1]
        return book.largest(_ACCOUNT, max(limit, abs(net)) - book.intent.side.sign * net, book.price)


class _SectorExposure(_Limit):
    """g) The gross exposure of the intent's sector; a sector can always hold one full-size position."""

    code = MAX_SECTOR_EXPOSURE_EXCEEDED

    def fraction(self, book: _Book) -> Decimal:
        return max(book.limits.max_sector_exposure, book.limits.max_position_fraction)

    def limit(self, book: _Book) -> Decimal | None:
        if book.limits.max_sector_exposure is None or book.sector is None:
            return None
        return self.fraction(book) * book.snapshot.equity

    def actual(self, book: _Book, quantity: Decimal) -> Decimal:
        return book.exposure[2] + book.opening(_ACCOUNT, quantity) * book.price

    def message(self, book: _Book, quantity: Decimal, actual: Decimal, limit: Decimal) -> str:
        return (
            f"The order would bring the exposure to {book.sector} to {actual}, above the limit "
            f"of {limit} ({self.fraction(book)} of equity)."
        )


class _OrderNotional(_Limit):
    """h) The order's own notional."""

    code = MAX_ORDER_NOTIONAL_EXCEEDED

    def limit(self, book: _Book) -> Decimal | None:
        return book.limits.max_order_notional

    def actual(self, book: _Book, quantity: Decimal) -> Decimal:
        return quantity * book.price

    def message(self, book: _Book, quantity: Decimal, actual: Decimal, limit: Decimal) -> str:
        return f"The order's notional {actual} is above the per-order limit of {limit}."


class _Refusal:
    """Refuses every quantity that opens exposure in ``scope`` while ``refusal`` has a violation to give."""

    code: str
    scope = _ACCOUNT

    def refusal(self, book: _Book) -> Violation | None:
        raise NotImplementedError

    def violation(self, book: _Book, quantity: Decimal) -> Violation | None:
        return self.refusal(book) if book.opening(self.scope, quantity) else None

    def utilization(self, book: _Book, quantity: Decimal) -> Decimal | None:
        return None

    def bound(self, book: _Book) -> Decimal | None:
        """While it refuses, only the reducing capacity passes."""
        return None if self.refusal(book) is None else book.closing_lots(self.scope)


class _ReduceOnly:
    """i) The account, else the strategy, is REDUCE_ONLY: only closing quantity passes (one violation at most)."""

    code = REDUCE_ONLY

    def scopes(self, book: _Book) -> list[str]:
        states = ((_ACCOUNT, book.snapshot.trading_state), (_STRATEGY, book.snapshot.strategy_trading_state))
        return [scope for scope, state in states if state == REDUCING]

    def violation(self, book: _Book, quantity: Decimal) -> Violation | None:
        for scope in self.scopes(book):
            if book.opening(scope, quantity):
                message = f"The {scope} is reduce-only: an order in {book.intent.symbol} may only close exposure."
                return Violation(REDUCE_ONLY, message)
        return None

    def utilization(self, book: _Book, quantity: Decimal) -> Decimal | None:
        return None

    def bound(self, book: _Book) -> Decimal | None:
        return min((book.closing_lots(scope) for scope in self.scopes(book)), default=None)


class _RestrictedSymbol(_Refusal):
    """j) The symbol is on the restricted list."""

    code = RESTRICTED_SYMBOL

    def refusal(self, book: _Book) -> Violation | None:
        symbol = book.intent.symbol
        if symbol not in book.limits.restricted_symbols:
            return None
        return Violation(RESTRICTED_SYMBOL, f"{symbol} is on the restricted list.")


class _NotEasyToBorrow(_Refusal):
    """k) A SELL that opens or grows a short in a symbol that cannot be borrowed."""

    code = NOT_EASY_TO_BORROW

    def refusal(self, book: _Book) -> Violation | None:
        intent = book.intent
        if intent.side is not Side.SELL or intent.shortable:
            return None
        return Violation(
            NOT_EASY_TO_BORROW, f"{intent.symbol} is not on the easy-to-borrow list; it cannot be sold short."
        )


@dataclass(frozen=True)
class _LossCheck(_Refusal):
    """l), m) A loss limit reached in ``scope`` (the strategy's only when its equity is given)."""

    scope: str

    def figures(self, book: _Book) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """(equity, day start equity, high-water mark) of the scope."""
        s = book.snapshot
        if self.scope == _ACCOUNT:
            return s.equity, s.day_start_equity, s.high_water_mark
        return s.strategy_equity, s.strategy_day_start_equity, s.strategy_high_water_mark

    def measure(self, book: _Book) -> LossLimit | None:
        raise NotImplementedError

    def message(self, book: _Book, measure: LossLimit) -> str:
        raise NotImplementedError

    def refusal(self, book: _Book) -> Violation | None:
        measure = self.measure(book)
        if measure is None or not measure.reached:
            return None
        return Violation(self.code, self.message(book, measure), limit=measure.limit, actual=measure.loss)

    def utilization(self, book: _Book, quantity: Decimal) -> Decimal | None:
        measure = self.measure(book)
        return None if measure is None else _utilization(measure.loss, measure.limit)


@dataclass(frozen=True)
class _DailyLoss(_LossCheck):
    code = DAILY_LOSS_LIMIT_EXCEEDED

    def measure(self, book: _Book) -> LossLimit | None:
        equity, day_start, _ = self.figures(book)
        if equity is None:
            return None
        return daily_loss(equity=equity, day_start=day_start, fraction=book.limits.daily_loss_limit)

    def message(self, book: _Book, measure: LossLimit) -> str:
        return (
            f"The {self.scope} has lost {measure.loss} today, reaching its daily loss limit of {measure.limit}; "
            f"only closing orders are allowed."
        )


@dataclass(frozen=True)
class _Drawdown(_LossCheck):
    code = MAX_DRAWDOWN_EXCEEDED

    def measure(self, book: _Book) -> LossLimit | None:
        equity, _, high_water = self.figures(book)
        if equity is None:
            return None
        return drawdown(equity=equity, high_water_mark=high_water, fraction=book.limits.max_drawdown)

    def message(self, book: _Book, measure: LossLimit) -> str:
        high_water = self.figures(book)[2]
        return (
            f"The {self.scope} is {measure.loss} below its high-water mark of {high_water}, reaching its "
            f"maximum drawdown of {measure.limit}; only closing orders are allowed."
        )


class _Check(Protocol):
    code: str

    def violation(self, book: _Book, quantity: Decimal) -> Violation | None: ...

    def utilization(self, book: _Book, quantity: Decimal) -> Decimal | None: ...

    def bound(self, book: _Book) -> Decimal | None: ...


# In the docstring's order, which is the order of the violations.
LIMIT_CHECKS: tuple[_Check, ...] = (
    _StrategyCapital(),
    _BuyingPower(),
    _PositionSize(),
    _PositionQuantity(),
    _GrossExposure(),
    _NetExposure(),
    _SectorExposure(),
    _OrderNotional(),
    _ReduceOnly(),
    _RestrictedSymbol(),
    _NotEasyToBorrow(),
    _DailyLoss(_ACCOUNT),
    _Drawdown(_ACCOUNT),
    _DailyLoss(_STRATEGY),
    _Drawdown(_STRATEGY),
)


# ---- gates (refuse any quantity) ---------------------------------------------------------------------
class _KillSwitch:
    def violation(self, book: _Book) -> Violation | None:
        if not book.snapshot.kill_switches:
            return None
        scopes = ", ".join(book.snapshot.kill_switches)
        return Violation(
            KILL_SWITCH_ENGAGED, f"The emergency stop is engaged ({scopes}); no new orders until it is released."
        )


@dataclass(frozen=True)
class _Halted:
    scope: str

    def violation(self, book: _Book) -> Violation | None:
        s = book.snapshot
        state = s.trading_state if self.scope == _ACCOUNT else s.strategy_trading_state
        if state != HALTED:
            return None
        return Violation(TRADING_HALTED, f"Trading is halted on this {self.scope}.")


# The sessions each market_hours setting trades in.
_SESSIONS = {
    HOURS_REGULAR: frozenset({SESSION_REGULAR}),
    HOURS_EXTENDED: frozenset({SESSION_REGULAR, SESSION_EXTENDED}),
}


class _MarketHours:
    def violation(self, book: _Book) -> Violation | None:
        s, hours = book.snapshot, book.limits.market_hours
        if hours not in _SESSIONS or s.market_session in _SESSIONS[hours]:
            return None
        return Violation(
            MARKET_CLOSED,
            f"The market for {book.intent.symbol} is {s.market_session.lower()}; "
            f"this account trades only in {hours.lower()} hours.",
        )


class _StaleMarketData:
    def violation(self, book: _Book) -> Violation | None:
        symbol = book.intent.symbol
        if not book.limits.reject_stale_prices or symbol not in book.snapshot.stale_symbols:
            return None
        return Violation(STALE_MARKET_DATA, f"The market data for {symbol} is stale.")


class _PriceBand:
    def violation(self, book: _Book) -> Violation | None:
        band, limit_price = book.limits.max_price_deviation, book.intent.limit_price
        last = book.snapshot.prices.get(book.intent.symbol)
        if band is None or limit_price is None or last is None or last <= 0:
            return None
        deviation = _REPORTED.divide(abs(limit_price - last), last)
        if deviation <= band:
            return None
        return Violation(
            PRICE_BAND_EXCEEDED,
            f"The limit price {limit_price} is {deviation:.2%} away from the last price {last}, "
            f"beyond the band of {band:.2%}.",
            limit=band,
            actual=deviation,
        )


@dataclass(frozen=True)
class _OrderRate:
    scope: str

    def violation(self, book: _Book) -> Violation | None:
        s, limits, now = book.snapshot, book.limits, book.now
        if self.scope == _ACCOUNT:
            times, maximum = s.account_order_times, limits.max_account_orders_per_minute
        else:
            times, maximum = s.strategy_order_times, limits.max_strategy_orders_per_minute
        if maximum is None:
            return None
        since = now - RATE_WINDOW
        recent = sum(1 for t in times if since < t <= now)
        if recent < maximum:
            return None
        return Violation(
            ORDER_RATE_EXCEEDED,
            f"The {self.scope} already sent {recent} orders in the last minute; the limit is {maximum} per minute.",
            limit=Decimal(maximum),
            actual=Decimal(recent + 1),
        )


class _SelfCross:
    def violation(self, book: _Book) -> Violation | None:
        if not book.limits.prevent_self_cross:
            return None
        crossed = self.crossed_order(book)
        if crossed is None:
            return None
        return Violation(
            SELF_CROSS,
            f"The order would trade against the account's own resting {crossed.side} limit order "
            f"in {book.intent.symbol} at {crossed.limit_price}.",
        )

    def crossed_order(self, book: _Book) -> PendingOrder | None:
        intent = book.intent
        for order in book.snapshot.account_orders:
            if order.symbol != intent.symbol or order.side is intent.side or order.limit_price is None:
                continue
            # A market order (no limit price) crosses any resting limit on the other side.
            if intent.limit_price is None:
                return order
            if intent.side is Side.BUY and intent.limit_price >= order.limit_price:
                return order
            if intent.side is Side.SELL and intent.limit_price <= order.limit_price:
                return order
        return None


class _PatternDayTrader:
    def violation(self, book: _Book) -> Violation | None:
        s, symbol = book.snapshot, book.intent.symbol
        if not (
            book.limits.margin_account
            and s.equity < PDT_EQUITY_MINIMUM
            and s.day_trades >= PDT_MAX_DAY_TRADES
            and symbol in s.opened_today
            and book.capacity(_ACCOUNT) > 0
        ):
            return None
        return Violation(
            PATTERN_DAY_TRADER,
            f"A margin account under {PDT_EQUITY_MINIMUM} of equity has made {s.day_trades} day trades "
            f"in five business days; closing {symbol} today would be another.",
            limit=Decimal(PDT_MAX_DAY_TRADES - 1),
            actual=Decimal(s.day_trades),
        )


class _Gate(Protocol):
    def violation(self, book: _Book) -> Violation | None: ...


# In the docstring's order, which is the order of the violations.
GATES: tuple[_Gate, ...] = (
    _KillSwitch(),
    _Halted(_ACCOUNT),
    _Halted(_STRATEGY),
    _MarketHours(),
    _StaleMarketData(),
    _PriceBand(),
    _OrderRate(_STRATEGY),
    _OrderRate(_ACCOUNT),
    _SelfCross(),
    _PatternDayTrader(),
)


# ---- the validation ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Evaluation:
    violations: tuple[Violation, ...]
    utilizations: tuple[Decimal, ...]


def _evaluate(book: _Book, gates: tuple[Violation, ...], quantity: Decimal) -> _Evaluation:
    violations, utilizations = list(gates), []
    for check in LIMIT_CHECKS:
        violation = check.violation(book, quantity)
        if violation is not None:
            violations.append(violation)
        utilization = check.utilization(book, quantity)
        if utilization is not None:
            utilizations.append(utilization)
    return _Evaluation(violations=tuple(violations), utilizations=tuple(utilizations))


def _max_quantity(book: _Book, gates: tuple[Violation, ...]) -> Decimal:
    """Largest whole-lot quantity passing every check: the smallest bound (0 when a gate refuses).

    Each check's bound is the exact largest whole-lot quantity it passes (``_Limit.bound``,
    ``_Book.largest``; the sums and products behind them are exact at ``_EXACT_DIGITS``), and a
    quantity passes all checks exactly when it passes each: the smallest bound passes them all and
    one lot more fails the check it came from. So nothing is evaluated again to find it.
    """
    if gates:
        return _ZERO
    # The position-size limit is never off, so there is always a bound.
    return min(bound for check in LIMIT_CHECKS if (bound := check.bound(book)) is not None)


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

    with localcontext() as context:
        context.prec = _EXACT_DIGITS
        book = _Book(snapshot, intent, now)
        gates = tuple(violation for gate in GATES if (violation := gate.violation(book)) is not None)
        evaluation = _evaluate(book, gates, intent.quantity)
        if not evaluation.violations:
            return RiskValidation(
                is_valid=True,
                risk_score=_score(evaluation.utilizations),
                violations=(),
                recommended_adjustments={},
                validation_timestamp=now,
                approved_quantity=intent.quantity,
            )
        maximum = _max_quantity(book, gates)
        resize = snapshot.limits.resize & RESIZABLE
        if maximum > 0 and all(v.code in resize for v in evaluation.violations):
            resized = _evaluate(book, gates, maximum)
            return RiskValidation(
                is_valid=True,
                risk_score=_score(resized.utilizations),
                violations=(),
                recommended_adjustments={"quantity": str(maximum), "requested_quantity": str(intent.quantity)},
                validation_timestamp=now,
                approved_quantity=maximum,
                resized_for=evaluation.violations,
            )
        return RiskValidation(
            is_valid=False,
            risk_score=_score(evaluation.utilizations),
            violations=evaluation.violations,
            recommended_adjustments={"max_quantity": str(maximum)},
            validation_timestamp=now,
        )
