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
       day_start_equity``: refused when ``loss >= limit``. Evaluated for the account
       and, when given, for the strategy (``strategy_equity`` / ``strategy_day_start_equity``).
    m) ``max_drawdown_exceeded``: ``drawdown = high_water_mark - equity`` reaches
       ``max_drawdown * high_water_mark``: refused when ``drawdown >= limit``; account and strategy.

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
    Each limit check passes for every quantity up to a bound (reducing capacity
    plus the headroom divided by the price per unit); the recommendation is
    the smallest bound rounded down to ``lot_size``, floored at 0 (0 when a gate
    refuses), and is given only when the order is invalid.

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
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from trading.core.orders import Side
from trading.core.positions import split_reducing
from trading.core.sizing import round_to_lot

_ZERO = Decimal(0)
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
    pending_opening: tuple[tuple[PendingOrder, Decimal], ...]


def _build_scope(holdings: tuple[Holding, ...], orders: tuple[PendingOrder, ...], buffer: Decimal) -> _Scope:
    net: dict[str, Decimal] = {}
    holdings_cost = short_collateral = _ZERO
    for h in holdings:
        net[h.symbol] = net.get(h.symbol, _ZERO) + h.quantity
        cost = h.quantity * h.average_price
        holdings_cost += abs(cost)
        if h.quantity < 0:
            short_collateral -= cost
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


def _utilization(used: Decimal, available: Decimal) -> Decimal:
    if available <= 0:
        return Decimal(1) if used > 0 else _ZERO
    return used / available


@dataclass(frozen=True)
class _Evaluation:
    violations: tuple[Violation, ...]
    utilizations: tuple[Decimal, ...]


class _Checker:
    """Evaluates every check for any quantity of one intent's symbol and side."""

    def __init__(self, snapshot: RiskSnapshot, intent: OrderIntent, now: datetime) -> None:
        limits = snapshot.limits
        self.snapshot = snapshot
        self.limits = limits
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
        self.sector = intent.sector or snapshot.sectors.get(intent.symbol)
        self._exposures()
        self.gates = tuple(self._gates(now))

    # ---- exposures -------------------------------------------------------------------------------
    def _exposures(self) -> None:
        limits, snapshot = self.limits, self.snapshot
        self.gross = self.net = self.sector_gross = _ZERO
        wants_exposure = (
            limits.max_gross_exposure is not None
            or limits.max_net_exposure is not None
            or (limits.max_sector_exposure is not None and self.sector is not None)
        )
        if not wants_exposure:
            return
        prices, sectors = snapshot.prices, snapshot.sectors
        gross = net = sector_gross = _ZERO
        averages: dict[str, Decimal] = {}
        for h in snapshot.account_holdings:
            averages.setdefault(h.symbol, h.average_price)
        for symbol, quantity in self.account.net_by_symbol.items():
            value = quantity * prices.get(symbol, averages.get(symbol, _ZERO))
            gross += abs(value)
            net += value
            if sectors.get(symbol) == self.sector:
                sector_gross += abs(value)
        for order, opening in self.account.pending_opening:
            value = opening * order.reference_price
            gross += value
            net += order.side.sign * value
            if sectors.get(order.symbol) == self.sector:
                sector_gross += value
        self.gross, self.net, self.sector_gross = gross, net, sector_gross

    # ---- gates -----------------------------------------------------------------------------------
    def _gates(self, now: datetime) -> Iterable[Violation]:
        snapshot, limits, intent = self.snapshot, self.limits, self.intent
        if snapshot.kill_switches:
            scopes = ", ".join(snapshot.kill_switches)
            yield Violation(
                KILL_SWITCH_ENGAGED, f"The emergency stop is engaged ({scopes}); no new orders until it is released."
            )
        for scope, state in (("account", snapshot.trading_state), ("strategy", snapshot.strategy_trading_state)):
            if state == HALTED:
                yield Violation(TRADING_HALTED, f"Trading is halted on this {scope}.")
        session_ok = {
            HOURS_ANY: True,
            HOURS_REGULAR: snapshot.market_session == SESSION_REGULAR,
            HOURS_EXTENDED: snapshot.market_session in (SESSION_REGULAR, SESSION_EXTENDED),
        }.get(limits.market_hours, True)
        if not session_ok:
            yield Violation(
                MARKET_CLOSED,
                f"The market for {intent.symbol} is {snapshot.market_session.lower()}; "
                f"this account trades only in {limits.market_hours.lower()} hours.",
            )
        if limits.reject_stale_prices and intent.symbol in snapshot.stale_symbols:
            yield Violation(STALE_MARKET_DATA, f"The market data for {intent.symbol} is stale.")
        last = snapshot.prices.get(intent.symbol)
        if limits.max_price_deviation is not None and intent.limit_price is not None and last and last > 0:
            deviation = abs(intent.limit_price - last) / last
            if deviation > limits.max_price_deviation:
                yield Violation(
                    PRICE_BAND_EXCEEDED,
                    f"The limit price {intent.limit_price} is {deviation:.2%} away from the last price {last}, "
                    f"beyond the band of {limits.max_price_deviation:.2%}.",
                    limit=limits.max_price_deviation,
                    actual=deviation,
                )
        since = now - RATE_WINDOW
        for scope, times, maximum in (
            ("strategy", snapshot.strategy_order_times, limits.max_strategy_orders_per_minute),
            ("account", snapshot.account_order_times, limits.max_account_orders_per_minute),
        ):
            if maximum is None:
                continue
            recent = sum(1 for t in times if since < t <= now)
            if recent >= maximum:
                yield Violation(
                    ORDER_RATE_EXCEEDED,
                    f"The {scope} already sent {recent} orders in the last minute; the limit is {maximum} per minute.",
                    limit=Decimal(maximum),
                    actual=Decimal(recent + 1),
                )
        if limits.prevent_self_cross:
            crossed = self._crossed_order()
            if crossed is not None:
                yield Violation(
                    SELF_CROSS,
                    f"The order would trade against the account's own resting {crossed.side} limit order "
                    f"in {intent.symbol} at {crossed.limit_price}.",
                )
        if (
            limits.margin_account
            and snapshot.equity < PDT_EQUITY_MINIMUM
            and snapshot.day_trades >= PDT_MAX_DAY_TRADES
            and intent.symbol in snapshot.opened_today
            and self._capacity(self.account) > 0
        ):
            yield Violation(
                PATTERN_DAY_TRADER,
                f"A margin account under {PDT_EQUITY_MINIMUM} of equity has made {snapshot.day_trades} day trades "
                f"in five business days; closing {intent.symbol} today would be another.",
                limit=Decimal(PDT_MAX_DAY_TRADES - 1),
                actual=Decimal(snapshot.day_trades),
            )

    def _crossed_order(self) -> PendingOrder | None:
        intent = self.intent
        for order in self.snapshot.account_orders:
            if order.symbol != intent.symbol or order.side is intent.side or order.limit_price is None:
                continue
            if intent.limit_price is None:
                return order
            if intent.side is Side.BUY and intent.limit_price >= order.limit_price:
                return order
            if intent.side is Side.SELL and intent.limit_price <= order.limit_price:
                return order
        return None

    # ---- limit checks ----------------------------------------------------------------------------
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

    def _loss_checks(self) -> Iterable[tuple[str, Decimal, Decimal | None, Decimal | None, Decimal | None]]:
        """(scope, equity, day start, high-water mark) per scope that has figures."""
        snapshot = self.snapshot
        yield ("account", snapshot.equity, snapshot.day_start_equity, snapshot.high_water_mark, None)
        if snapshot.strategy_equity is not None:
            yield (
                "strategy",
                snapshot.strategy_equity,
                snapshot.strategy_day_start_equity,
                snapshot.strategy_high_water_mark,
                None,
            )

    def evaluate(self, quantity: Decimal) -> _Evaluation:
        price = self.intent.reference_price
        limits, snapshot, symbol = self.limits, self.snapshot, self.intent.symbol
        violations: list[Violation] = list(self.gates)
        extra_utilizations: list[Decimal] = []

        strategy_opening = self._opening(self.strategy, quantity)
        strategy_reserve = strategy_opening * self.unit_reserve
        strategy_total = self.strategy_used + strategy_reserve
        capital = snapshot.strategy_capital
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

        projected_quantity = abs(self.base_along_side + quantity)
        projected = projected_quantity * price
        if account_opening > 0 and projected > self.position_limit:
            violations.append(
                Violation(
                    code=MAX_POSITION_SIZE_EXCEEDED,
                    message=(
                        f"The order would bring the position in {symbol} to "
                        f"{projected}, above the limit of {self.position_limit} "
                        f"({limits.max_position_fraction} of equity)."
                    ),
                    limit=self.position_limit,
                    actual=projected,
                )
            )

        def limit_check(code: str, actual: Decimal, limit: Decimal, breached: bool, message: str) -> None:
            extra_utilizations.append(_utilization(actual, limit))
            if breached:
                violations.append(Violation(code=code, message=message, limit=limit, actual=actual))

        if limits.max_position_quantity is not None:
            limit = limits.max_position_quantity
            limit_check(
                MAX_POSITION_QUANTITY_EXCEEDED,
                projected_quantity,
                limit,
                account_opening > 0 and projected_quantity > limit,
                f"The order would bring the position in {symbol} to {projected_quantity} units, "
                f"above the limit of {limit}.",
            )
        opening_value = account_opening * price
        if limits.max_gross_exposure is not None:
            limit = limits.max_gross_exposure * snapshot.equity
            gross = self.gross + opening_value
            limit_check(
                MAX_GROSS_EXPOSURE_EXCEEDED,
                gross,
                limit,
                account_opening > 0 and gross > limit,
                f"The order would bring the gross exposure to {gross}, above the limit of {limit} "
                f"({limits.max_gross_exposure} of equity).",
            )
        if limits.max_net_exposure is not None:
            limit = limits.max_net_exposure * snapshot.equity
            net = self.net + self.intent.side.sign * quantity * price
            limit_check(
                MAX_NET_EXPOSURE_EXCEEDED,
                abs(net),
                limit,
                account_opening > 0 and abs(net) > limit and abs(net) > abs(self.net),
                f"The order would bring the net exposure to {net}, beyond the limit of {limit} "
                f"({limits.max_net_exposure} of equity).",
            )
        if limits.max_sector_exposure is not None and self.sector is not None:
            fraction = max(limits.max_sector_exposure, limits.max_position_fraction)
            limit = fraction * snapshot.equity
            sector_gross = self.sector_gross + opening_value
            limit_check(
                MAX_SECTOR_EXPOSURE_EXCEEDED,
                sector_gross,
                limit,
                account_opening > 0 and sector_gross > limit,
                f"The order would bring the exposure to {self.sector} to {sector_gross}, above the limit "
                f"of {limit} ({fraction} of equity).",
            )
        if limits.max_order_notional is not None:
            limit = limits.max_order_notional
            notional = quantity * price
            limit_check(
                MAX_ORDER_NOTIONAL_EXCEEDED,
                notional,
                limit,
                account_opening > 0 and notional > limit,
                f"The order's notional {notional} is above the per-order limit of {limit}.",
            )
        if account_opening > 0 and snapshot.trading_state == REDUCING:
            violations.append(
                Violation(REDUCE_ONLY, f"The account is reduce-only: an order in {symbol} may only close exposure.")
            )
        elif strategy_opening > 0 and snapshot.strategy_trading_state == REDUCING:
            violations.append(
                Violation(REDUCE_ONLY, f"The strategy is reduce-only: an order in {symbol} may only close exposure.")
            )
        if account_opening > 0 and symbol in limits.restricted_symbols:
            violations.append(Violation(RESTRICTED_SYMBOL, f"{symbol} is on the restricted list."))
        if account_opening > 0 and self.intent.side is Side.SELL and not self.intent.shortable:
            violations.append(
                Violation(NOT_EASY_TO_BORROW, f"{symbol} is not on the easy-to-borrow list; it cannot be sold short.")
            )
        for scope, equity, day_start, high_water, _ in self._loss_checks():
            opening = account_opening if scope == "account" else strategy_opening
            if limits.daily_loss_limit is not None and day_start is not None:
                limit = limits.daily_loss_limit * day_start
                loss = day_start - equity
                limit_check(
                    DAILY_LOSS_LIMIT_EXCEEDED,
                    loss,
                    limit,
                    opening > 0 and loss >= limit,
                    f"The {scope} has lost {loss} today, reaching its daily loss limit of {limit}; "
                    f"only closing orders are allowed.",
                )
            if limits.max_drawdown is not None and high_water is not None:
                limit = limits.max_drawdown * high_water
                drawdown = high_water - equity
                limit_check(
                    MAX_DRAWDOWN_EXCEEDED,
                    drawdown,
                    limit,
                    opening > 0 and drawdown >= limit,
                    f"The {scope} is {drawdown} below its high-water mark of {high_water}, reaching its "
                    f"maximum drawdown of {limit}; only closing orders are allowed.",
                )

        cash_used = snapshot.cash - self.buying_power + account_reserve
        utilizations = (
            _utilization(strategy_total, capital),
            _utilization(cash_used, snapshot.cash),
            _utilization(projected, self.position_limit),
            *extra_utilizations,
        )
        return _Evaluation(violations=tuple(violations), utilizations=utilizations)

    def _bounds(self) -> list[Decimal]:
        limits, snapshot, price = self.limits, self.snapshot, self.intent.reference_price
        account_capacity = self._capacity(self.account)
        strategy_capacity = self._capacity(self.strategy)
        bounds = [
            strategy_capacity + max(snapshot.strategy_capital - self.strategy_used, _ZERO) / self.unit_reserve,
            account_capacity + max(self.buying_power, _ZERO) / self.unit_reserve,
            max(account_capacity, max(self.position_limit, _ZERO) / price - self.base_along_side),
        ]
        if limits.max_position_quantity is not None:
            bounds.append(max(account_capacity, limits.max_position_quantity - self.base_along_side))
        if limits.max_gross_exposure is not None:
            headroom = limits.max_gross_exposure * snapshot.equity - self.gross
            bounds.append(account_capacity + max(headroom, _ZERO) / price)
        if limits.max_net_exposure is not None:
            # An order may carry the net through zero as far as the larger of the limit and today's net.
            reach = max(limits.max_net_exposure * snapshot.equity, abs(self.net))
            headroom = reach - self.intent.side.sign * self.net
            bounds.append(max(account_capacity, headroom / price))
        if limits.max_sector_exposure is not None and self.sector is not None:
            fraction = max(limits.max_sector_exposure, limits.max_position_fraction)
            headroom = fraction * snapshot.equity - self.sector_gross
            bounds.append(account_capacity + max(headroom, _ZERO) / price)
        if limits.max_order_notional is not None:
            bounds.append(max(account_capacity, limits.max_order_notional / price))
        if snapshot.trading_state == REDUCING or self.intent.symbol in limits.restricted_symbols:
            bounds.append(account_capacity)
        if self.intent.side is Side.SELL and not self.intent.shortable:
            bounds.append(account_capacity)
        if snapshot.strategy_trading_state == REDUCING:
            bounds.append(strategy_capacity)
        for scope, equity, day_start, high_water, _ in self._loss_checks():
            capacity = account_capacity if scope == "account" else strategy_capacity
            daily_loss_reached = (
                limits.daily_loss_limit is not None
                and day_start is not None
                and day_start - equity >= limits.daily_loss_limit * day_start
            )
            drawdown_reached = (
                limits.max_drawdown is not None
                and high_water is not None
                and high_water - equity >= limits.max_drawdown * high_water
            )
            if daily_loss_reached or drawdown_reached:
                bounds.append(capacity)
        return bounds

    def max_quantity(self) -> Decimal:
        """Largest whole-lot quantity passing every check (0 when a gate refuses)."""
        if self.gates:
            return _ZERO
        lot = self.intent.lot_size
        candidate = max(round_to_lot(min(self._bounds()), lot), _ZERO)
        # Rounding to 28 digits can lift a bound just under a lot boundary onto it.
        for _ in range(3):
            if candidate <= 0 or not self.evaluate(candidate).violations:
                return candidate
            candidate -= lot
        # Every check is monotone in the quantity: search the lots below.
        low, high = 0, int(candidate / lot)
        while low < high:
            middle = (low + high + 1) // 2
            if self.evaluate(middle * lot).violations:
                high = middle - 1
            else:
                low = middle
        return low * lot


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

    checker = _Checker(snapshot, intent, now)
    evaluation = checker.evaluate(intent.quantity)
    if not evaluation.violations:
        return RiskValidation(
            is_valid=True,
            risk_score=_score(evaluation.utilizations),
            violations=(),
            recommended_adjustments={},
            validation_timestamp=now,
            approved_quantity=intent.quantity,
        )
    maximum = checker.max_quantity()
    resize = snapshot.limits.resize & RESIZABLE
    if maximum > 0 and all(v.code in resize for v in evaluation.violations):
        resized = checker.evaluate(maximum)
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
