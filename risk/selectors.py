"""Risk reads: parameters, trading states, the pre-trade snapshot, the portfolio assessment, sizing.

Nothing here writes. The pre-trade snapshot observes the equity marks (day start,
high-water mark) the way the portfolio monitor would move them, without storing
them: the monitor (``risk.services.portfolio_risk_monitor``) is their one writer.
"""

import itertools
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from risk import marketdata
from risk.core import sizing, states
from risk.core.assessment import AssessedPosition, RiskAssessment, assess, daily_returns
from risk.core.rules import (
    ACTIVE,
    HOURS_ANY,
    RATE_WINDOW,
    Holding,
    OrderIntent,
    PendingOrder,
    RiskLimits,
    RiskSnapshot,
    RiskValidation,
    validate_order,
)
from risk.models import KillSwitch, RiskParameters, RiskState
from trading.core.orders import WORKING_STATUSES, OrderType, Side
from trading.models import Account, Bar, Instrument
from trading.selectors import Book, BookOrder, BookPosition, book_read, executions_since, order_times

VAR_LOOKBACK_DAYS = 250
# A limit order never fills beyond its price, so it reserves exactly its notional.
CAPPED_PRICE_BUFFER = Decimal(0)


# ---- parameters -------------------------------------------------------------------------------------


def risk_parameters_for(*, account: Account, strategy=None) -> RiskParameters:
    """The strategy's own parameters when it has them, else the account's, else the defaults."""
    return risk_parameters_pair(account, strategy)[0]


def risk_parameters_pair(account: Account, strategy) -> tuple[RiskParameters, RiskParameters | None]:
    """(the parameters that apply, the account's own when those are the strategy's), in one query."""
    scope = Q(account=account) | Q(strategy=strategy) if strategy is not None else Q(account=account)
    found = {row.strategy_id is not None: row for row in RiskParameters.objects.filter(scope)}
    account_parameters = found.get(False)
    if True in found:
        return found[True], account_parameters
    return account_parameters or RiskParameters(account=account), None


def parameters_get(*, account, strategy=None) -> RiskParameters:
    if strategy is not None:
        return RiskParameters.objects.filter(strategy=strategy).first() or RiskParameters(strategy=strategy)
    return RiskParameters.objects.filter(account=account).first() or RiskParameters(account=account)


def risk_limits(parameters: RiskParameters, *, account_parameters: RiskParameters | None = None) -> RiskLimits:
    restricted = set(parameters.restricted_symbols or [])
    if account_parameters is not None:
        restricted |= set(account_parameters.restricted_symbols or [])
    return RiskLimits(
        max_position_fraction=parameters.max_position_size,
        reserve_buffer=parameters.reserve_buffer,
        max_position_quantity=parameters.max_position_quantity,
        max_gross_exposure=parameters.max_portfolio_exposure,
        max_net_exposure=parameters.max_net_exposure,
        max_sector_exposure=parameters.max_sector_exposure,
        max_order_notional=parameters.max_order_notional,
        max_strategy_orders_per_minute=parameters.max_strategy_orders_per_minute,
        max_account_orders_per_minute=parameters.max_account_orders_per_minute,
        max_price_deviation=parameters.max_price_deviation,
        daily_loss_limit=parameters.daily_loss_limit,
        max_drawdown=parameters.max_drawdown,
        reject_stale_prices=parameters.reject_stale_prices,
        market_hours=parameters.market_hours,
        restricted_symbols=frozenset(restricted),
        prevent_self_cross=parameters.prevent_self_cross,
        margin_account=parameters.margin_account,
        resize=frozenset(code for code, action in (parameters.check_actions or {}).items() if action == "RESIZE"),
    )


# ---- trading states and equity marks ------------------------------------------------------------------


def risk_states(account: Account, strategy=None) -> tuple[RiskState, RiskState | None]:
    """The account's risk state and the strategy's (None without a strategy), in one query.

    A scope the engine has not marked yet reads as a fresh, unsaved state: ACTIVE, no marks.
    """
    scope = Q(account=account, strategy__isnull=True)
    if strategy is not None:
        scope |= Q(strategy=strategy)
    found = {row.strategy_id: row for row in RiskState.objects.filter(scope)}
    account_state = found.get(None) or RiskState(account=account, strategy=None)
    if strategy is None:
        return account_state, None
    return account_state, found.get(strategy.pk) or RiskState(account=account, strategy=strategy)


def trading_state_get(*, account: Account, strategy=None) -> str:
    """ACTIVE, REDUCE_ONLY or HALTED: the account's, or one strategy's."""
    account_state, strategy_state = risk_states(account, strategy)
    return (strategy_state or account_state).trading_state


def marks_observed(state: RiskState, equity: Decimal, now: datetime) -> states.EquityMarks:
    """The scope's marks as they stand at this equity (a new trading day starts here), without storing them."""
    return states.marks_observe(
        day=state.trading_day,
        day_start=state.day_start_equity,
        high_water=state.high_water_mark,
        equity=equity,
        now=now,
    )


# ---- the pre-trade snapshot ------------------------------------------------------------------------------


def kill_switch_scopes(account: Account, strategy) -> tuple[str, ...]:
    condition = Q(scope=KillSwitch.Scope.GLOBAL) | Q(scope=KillSwitch.Scope.ACCOUNT, account=account)
    if strategy is not None:
        condition |= Q(scope=KillSwitch.Scope.STRATEGY, strategy=strategy)
    found = KillSwitch.objects.filter(condition, released_at__isnull=True).values_list("scope", flat=True)
    return tuple(sorted({scope.lower() for scope in found}))


def kill_switch_active(*, account: Account | None = None, strategy=None) -> list[KillSwitch]:
    switches = KillSwitch.objects.filter(released_at__isnull=True)
    if account is not None:
        condition = Q(scope=KillSwitch.Scope.GLOBAL) | Q(account=account) | Q(strategy__account=account)
        switches = switches.filter(condition)
    if strategy is not None:
        switches = switches.filter(
            Q(scope=KillSwitch.Scope.GLOBAL) | Q(account_id=strategy.account_id) | Q(strategy=strategy)
        )
    return list(switches)


def day_trades(account: Account, now: datetime) -> tuple[int, frozenset[str]]:
    """Day trades in the last five business days, and symbols traded today (a close today would be one)."""
    today = states.trading_day(now)
    sides: dict[tuple[str, Any], set[str]] = {}
    for symbol, side, at in executions_since(account=account, since=now - timedelta(days=7)):
        sides.setdefault((symbol, states.trading_day(at)), set()).add(side)
    count = sum(1 for found in sides.values() if len(found) == 2)
    opened_today = frozenset(symbol for (symbol, day) in sides if day == today)
    return count, opened_today


def _pending(order: BookOrder) -> PendingOrder:
    return PendingOrder(
        symbol=order.symbol,
        side=order.side,
        remaining_quantity=order.remaining_quantity,
        reference_price=order.price or order.stop_price or order.reference_price,
        reserve_buffer=CAPPED_PRICE_BUFFER if order.order_type == OrderType.LIMIT else None,
        limit_price=order.price if order.order_type == OrderType.LIMIT and order.status in WORKING_STATUSES else None,
    )


def _holding(position: BookPosition) -> Holding:
    return Holding(symbol=position.symbol, quantity=position.quantity, average_price=position.average_price)


def risk_snapshot(
    *,
    account: Account,
    strategy,
    parameters: RiskParameters,
    book: Book,
    now: datetime | None = None,
    symbol: str | None = None,
    exchange: str | None = None,
    account_parameters: RiskParameters | None = None,
) -> RiskSnapshot:
    """Everything the rules need, read while the caller holds the account's row lock.

    account_parameters: the account's own parameters when ``parameters`` are a strategy's and the
    caller has read them already (its restricted symbols apply as well).
    """
    now = now or timezone.now()
    strategy_id = strategy.pk if strategy is not None else None
    equity = book.equity
    if parameters.strategy_id is not None and account_parameters is None:
        account_parameters = RiskParameters.objects.filter(account=account).first()
    limits = risk_limits(parameters, account_parameters=account_parameters)

    account_state, strategy_state = risk_states(account, strategy)
    account_marks = marks_observed(account_state, equity, now)
    strategy_equity = strategy_marks = None
    if strategy is not None:
        strategy_equity = strategy.capital + book.strategy_pnl(strategy.pk)
        strategy_marks = marks_observed(strategy_state, strategy_equity, now)

    recent: list[tuple[int | None, datetime]] = []
    if limits.max_strategy_orders_per_minute is not None or limits.max_account_orders_per_minute is not None:
        recent = order_times(account=account, since=now - RATE_WINDOW)
    session = "REGULAR"
    if limits.market_hours != HOURS_ANY and exchange:
        session = marketdata.market_session(exchange, now)
    stale = frozenset()
    if limits.reject_stale_prices and symbol and marketdata.symbol_is_stale(symbol, now):
        stale = frozenset({symbol})
    trades, opened_today = 0, frozenset()
    if limits.margin_account and equity < Decimal(25000):
        trades, opened_today = day_trades(account, now)

    holdings = [(p.strategy_id, _holding(p)) for p in book.open_positions]
    pending = [(o.strategy_id, _pending(o)) for o in book.orders]
    return RiskSnapshot(
        cash=account.cash,
        equity=equity,
        strategy_capital=strategy.capital if strategy is not None else equity,
        strategy_holdings=tuple(h for owner, h in holdings if owner == strategy_id),
        strategy_orders=tuple(o for owner, o in pending if owner == strategy_id),
        account_holdings=tuple(h for _, h in holdings),
        account_orders=tuple(o for _, o in pending),
        limits=limits,
        prices=book.prices,
        sectors=book.sectors,
        trading_state=account_state.trading_state,
        strategy_trading_state=strategy_state.trading_state if strategy_state is not None else ACTIVE,
        kill_switches=kill_switch_scopes(account, strategy),
        market_session=session,
        stale_symbols=stale,
        strategy_order_times=tuple(t for s, t in recent if s == strategy_id),
        account_order_times=tuple(t for _, t in recent),
        day_start_equity=account_marks.day_start_equity,
        high_water_mark=account_marks.high_water_mark,
        strategy_equity=strategy_equity,
        strategy_day_start_equity=strategy_marks.day_start_equity if strategy_marks else None,
        strategy_high_water_mark=strategy_marks.high_water_mark if strategy_marks else None,
        day_trades=trades,
        opened_today=opened_today,
    )


def order_validate(
    *,
    account: Account,
    strategy,
    symbol: str,
    side: Side,
    order_type: OrderType,
    quantity: Decimal,
    reference_price: Decimal,
    lot_size: Decimal,
    now: datetime,
    limit_price: Decimal | None = None,
    instrument=None,
    book: Book | None = None,
) -> RiskValidation:
    """RiskEngine.validate_order: the pre-trade checks for one order (a pure read).

    ``validation.approved_quantity`` is the quantity to send: the requested one, or a smaller one
    when the parameters auto-resize the breached checks. To act on it, take the account's row lock
    first and keep it until the order is saved (``trading.services.placement.order_place`` does).
    """
    parameters, account_parameters = risk_parameters_pair(account, strategy)
    snapshot = risk_snapshot(
        account=account,
        strategy=strategy,
        parameters=parameters,
        account_parameters=account_parameters,
        book=book or book_read(account=account, extra_symbols=[symbol]),
        now=now,
        symbol=symbol,
        exchange=instrument.exchange if instrument is not None else None,
    )
    intent = OrderIntent(
        symbol=symbol,
        side=side,
        quantity=quantity,
        reference_price=reference_price,
        lot_size=lot_size,
        reserve_buffer=CAPPED_PRICE_BUFFER if order_type == OrderType.LIMIT else None,
        limit_price=limit_price if order_type == OrderType.LIMIT else None,
        sector=instrument.sector if instrument is not None else None,
        shortable=instrument.shortable if instrument is not None else True,
    )
    return validate_order(snapshot, intent, now=now)


def check_position_limits(*, account: Account, strategy, symbol: str, quantity: Decimal) -> RiskValidation:
    """RiskEngine.check_position_limits: would a signed ``quantity`` more of ``symbol`` pass? (read-only)"""
    instrument = Instrument.objects.get(symbol=symbol)
    price = marketdata.price_get(symbol) or instrument.reference_price
    return order_validate(
        account=account,
        strategy=strategy,
        symbol=symbol,
        side=Side.BUY if quantity > 0 else Side.SELL,
        order_type=OrderType.MARKET,
        quantity=abs(quantity),
        reference_price=price,
        lot_size=instrument.lot_size,
        now=timezone.now(),
        instrument=instrument,
    )


# ---- position sizing ---------------------------------------------------------------------------------


def position_size_raw(*, strategy, signal, instrument, price: Decimal) -> Decimal:
    """The quantity the strategy's sizing method asks for (configuration["sizing"]), before lots and limits.

    Without a configured method it is fixed fraction: position_size x capital / price.
    """
    config = (strategy.configuration or {}).get("sizing", {})
    method = config.get("method", sizing.FIXED_FRACTION)

    def dec(name: str, default: str | None = None) -> Decimal | None:
        value = config.get(name, default)
        return None if value is None else Decimal(str(value))

    volatility = None
    if method == sizing.VOLATILITY_TARGET:
        closes = daily_closes({instrument.symbol}, days=int(config.get("lookback", 20))).get(instrument.symbol, [])
        returns = [(b - a) / a for a, b in itertools.pairwise(closes) if a > 0]
        # Without history yet: the instrument's annual volatility scaled to one day.
        daily_from_annual = instrument.annual_volatility / Decimal(252).sqrt()
        volatility = sizing.stdev(returns) if len(returns) >= 2 else daily_from_annual
    return sizing.raw_quantity(
        method=method,
        capital=strategy.capital,
        price=price,
        fraction=dec("fraction") or signal.position_size,
        confidence=signal.confidence_score,
        volatility=volatility,
        target_volatility=dec("target_volatility", "0.01"),
        win_probability=dec("win_probability"),
        payoff_ratio=dec("payoff_ratio", "1"),
        kelly_fraction=dec("kelly_fraction", "0.5"),
        kelly_cap=dec("kelly_cap", "0.25"),
    )


def position_size_calculate(*, strategy, signal, instrument, price: Decimal, now: datetime | None = None):
    """RiskEngine.calculate_position_size: the strategy's sizing method, then clamped to every risk limit."""
    method = (strategy.configuration or {}).get("sizing", {}).get("method", sizing.FIXED_FRACTION)
    raw = position_size_raw(strategy=strategy, signal=signal, instrument=instrument, price=price)
    probe = sizing.round_to_lot(raw, instrument.lot_size)
    max_quantity = None
    if probe > 0:
        validation = order_validate(
            account=strategy.account,
            strategy=strategy,
            symbol=instrument.symbol,
            side=Side(signal.signal_type),
            order_type=OrderType.MARKET,
            quantity=probe,
            reference_price=price,
            lot_size=instrument.lot_size,
            now=now or timezone.now(),
            instrument=instrument,
        )
        if not validation.is_valid:
            max_quantity = Decimal(validation.recommended_adjustments.get("max_quantity", "0"))
    return sizing.position_size(raw=raw, lot_size=instrument.lot_size, max_quantity=max_quantity, method=method)


# ---- the portfolio assessment ---------------------------------------------------------------------------


def daily_closes(symbols: set[str], *, days: int = VAR_LOOKBACK_DAYS) -> dict[str, list[Decimal]]:
    """Last close of each UTC day per symbol, from the minute bars the market-data feed stores."""
    closes: dict[str, dict] = defaultdict(dict)
    rows = Bar.objects.filter(symbol__in=symbols).order_by("symbol", "minute").values_list("symbol", "minute", "close")
    for symbol, minute, close in rows.iterator(chunk_size=5000):
        closes[symbol][minute.date()] = close  # ordered by minute: the day's last bar wins
    return {s: [c for _, c in sorted(by_day.items())][-days - 1 :] for s, by_day in closes.items()}


def portfolio_risk_assess(*, account, now: datetime | None = None) -> RiskAssessment:
    """RiskEngine.monitor_portfolio_risk for one account (read-only; the monitor task also enforces)."""
    now = now or timezone.now()
    book = book_read(account=account)
    parameters = risk_parameters_for(account=account)
    positions = [AssessedPosition(p.symbol, p.sector, p.quantity, book.prices[p.symbol]) for p in book.open_positions]
    state = RiskState.objects.filter(account=account, strategy__isnull=True).first()
    equity = book.equity
    day_start = state.day_start_equity if state and state.day_start_equity is not None else equity
    high_water = state.high_water_mark if state and state.high_water_mark is not None else equity
    returns = {s: daily_returns(c) for s, c in daily_closes({p.symbol for p in positions}).items()}
    return assess(
        positions=positions,
        cash=account.cash,
        returns=returns,
        day_start_equity=day_start,
        high_water_mark=high_water,
        limits={
            "max_position_size": parameters.max_position_size,
            "max_portfolio_exposure": parameters.max_portfolio_exposure,
            "max_net_exposure": parameters.max_net_exposure,
            "max_sector_exposure": parameters.max_sector_exposure,
            "daily_loss_limit": parameters.daily_loss_limit,
            "max_drawdown": parameters.max_drawdown,
        },
        at=now,
        trading_state=state.trading_state if state else ACTIVE,
    )
