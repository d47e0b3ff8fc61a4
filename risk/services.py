"""Risk use cases against the database; the rules themselves live in risk/core.

Lock order, as in trading.services: the account row first. ``order_validate``
expects the caller to hold that lock until the order is saved; every other
write here takes it itself.
"""

import itertools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from risk import marketdata
from risk.core import states
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
from risk.models import KillSwitch, RiskParameters, RiskState, StopTrigger
from strategies.models import Strategy
from trading.brokers.base import BrokerError
from trading.core.orders import OPEN_STATUSES, WORKING_STATUSES, OrderStatus, OrderType, Side
from trading.events import EventType, event_record
from trading.models import Account, Event, Execution, Order, Position
from trading.services import TradingError, account_lock, order_cancel, position_flatten_locked
from trading.services import position_close as trading_position_close

logger = logging.getLogger(__name__)

# A limit order never fills beyond its price, so it reserves exactly its notional.
CAPPED_PRICE_BUFFER = Decimal(0)
RISK_ENGINE = "risk-engine"


def risk_parameters_for(*, account: Account, strategy=None) -> RiskParameters:
    """The strategy's own parameters when it has them, else the account's, else the defaults."""
    return _risk_parameters_pair(account, strategy)[0]


def _risk_parameters_pair(account: Account, strategy) -> tuple[RiskParameters, RiskParameters | None]:
    """(the parameters that apply, the account's own when those are the strategy's), in one query."""
    scope = Q(account=account) | Q(strategy=strategy) if strategy is not None else Q(account=account)
    found = {row.strategy_id is not None: row for row in RiskParameters.objects.filter(scope)}
    account_parameters = found.get(False)
    if True in found:
        return found[True], account_parameters
    return account_parameters or RiskParameters(account=account), None


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


# ---- books ---------------------------------------------------------------------------------------


@dataclass
class Book:
    """One account's positions and open orders, read once (plain tuples: 1,000 rows in a few ms)."""

    account: Account
    positions: list[tuple] = field(default_factory=list)  # symbol, sector, strategy_id, qty, avg, realized
    orders: list[tuple] = field(default_factory=list)
    prices: dict[str, Decimal] = field(default_factory=dict)
    sectors: dict[str, str] = field(default_factory=dict)

    @property
    def market_value(self) -> Decimal:
        return sum((p[3] * self.prices[p[0]] for p in self.positions if p[3]), Decimal(0))

    @property
    def equity(self) -> Decimal:
        return self.account.cash + self.market_value

    def strategy_equity(self, strategy) -> Decimal:
        # A flat position's realized P&L counts; only open positions are marked (flat ones have no price read).
        pnl = sum(
            (p[5] + ((self.prices[p[0]] - p[4]) * p[3] if p[3] else 0) for p in self.positions if p[2] == strategy.pk),
            Decimal(0),
        )
        return strategy.capital + pnl


def book_read(*, account: Account, extra_symbols: Iterable[str] = ()) -> Book:
    positions = list(
        Position.objects.filter(account=account)
        .order_by()
        .values_list(
            "instrument__symbol", "instrument__sector", "strategy_id", "quantity", "average_price", "realized_pnl"
        )
    )
    # A protective order waiting for its entry reserves nothing until it is live.
    working = (
        Order.objects.filter(account=account, status__in=OPEN_STATUSES)
        .exclude(parent__isnull=False, status=OrderStatus.NEW)
        .order_by("pk")  # reducing capacity is claimed in the order the orders were placed
        .values_list(
            "instrument__symbol",
            "instrument__sector",
            "strategy_id",
            "side",
            "order_type",
            "quantity",
            "filled_quantity",
            "price",
            "stop_price",
            "reference_price",
            "status",
            "oco_group",
        )
    )
    # The exits of one bracket (an OCO group) never both fill: only the first claims the position.
    claimed: set[str] = set()
    orders = []
    for row in working:
        group = row[-1]
        if group:
            if group in claimed:
                continue
            claimed.add(group)
        orders.append(row[:-1])
    symbols = {p[0] for p in positions if p[3]} | set(extra_symbols)
    sectors = {p[0]: p[1] for p in positions} | {o[0]: o[1] for o in orders}
    return Book(
        account=account, positions=positions, orders=orders, prices=marketdata.prices_get(symbols), sectors=sectors
    )


def _pending(row: tuple) -> PendingOrder:
    symbol, _, _, side, order_type, quantity, filled, price, stop_price, reference_price, status = row
    return PendingOrder(
        symbol=symbol,
        side=Side(side),
        remaining_quantity=quantity - filled,
        reference_price=price or stop_price or reference_price,
        reserve_buffer=CAPPED_PRICE_BUFFER if order_type == OrderType.LIMIT else None,
        limit_price=price if order_type == OrderType.LIMIT and status in WORKING_STATUSES else None,
    )


def _holding(row: tuple) -> Holding:
    return Holding(symbol=row[0], quantity=row[3], average_price=row[4])


# ---- equity marks and trading states --------------------------------------------------------------


def _risk_state(account: Account, strategy=None) -> RiskState:
    if strategy is None:
        state, _ = RiskState.objects.get_or_create(account=account, strategy=None)
    else:
        state, _ = RiskState.objects.get_or_create(strategy=strategy, defaults={"account": account})
    return state


def _risk_states(account: Account, strategy) -> tuple[RiskState, RiskState | None]:
    """The account's risk state and the strategy's (None without a strategy), read in one query."""
    scope = Q(account=account, strategy__isnull=True)
    if strategy is not None:
        scope |= Q(strategy=strategy)
    found = {row.strategy_id: row for row in RiskState.objects.filter(scope)}
    account_state = found.get(None) or _risk_state(account)
    if strategy is None:
        return account_state, None
    return account_state, found.get(strategy.pk) or _risk_state(account, strategy)


def _marks_update(state: RiskState, equity: Decimal, now: datetime) -> states.EquityMarks:
    marks = states.marks_observe(
        day=state.trading_day,
        day_start=state.day_start_equity,
        high_water=state.high_water_mark,
        equity=equity,
        now=now,
    )
    if (marks.trading_day, marks.day_start_equity, marks.high_water_mark) != (
        state.trading_day,
        state.day_start_equity,
        state.high_water_mark,
    ):
        state.trading_day, state.day_start_equity = marks.trading_day, marks.day_start_equity
        state.high_water_mark = marks.high_water_mark
        state.save(update_fields=["trading_day", "day_start_equity", "high_water_mark", "updated_at"])
    return marks


def _loss_limits_watch(
    account: Account,
    strategy,
    parameters: RiskParameters,
    equity: Decimal,
    now: datetime,
    risk_state: RiskState | None = None,
) -> states.EquityMarks:
    """Move the scope's day-start and high-water marks to this equity, and act on a loss limit it reached.

    risk_state: the scope's RiskState when the caller has read it already (it is kept current).
    """
    risk_state = risk_state or _risk_state(account, strategy)
    marks = _marks_update(risk_state, equity, now)
    _loss_limits_enforce(
        account=account,
        strategy=strategy,
        parameters=parameters,
        scope_equity=equity,
        marks=marks,
        risk_state=risk_state,
    )
    return marks


def trading_state_set(
    *,
    account: Account,
    strategy=None,
    state: str,
    reason: str,
    actor: str,
    severity: str = Event.Severity.WARNING,
    risk_state: RiskState | None = None,
) -> str:
    """Move the account (strategy None) or one strategy to ACTIVE / REDUCE_ONLY / HALTED; caller holds the lock.

    risk_state: the strategy's RiskState when the caller holds it already (it is updated in place).
    """
    if state not in states.SEVERITY:
        raise ValueError(f"{state} is not a trading state.")
    if strategy is None:
        previous = account.trading_state
        if previous == state:
            return state
        account.trading_state = state
        # trading owns Account; only this one field is risk's to write (see the report).
        Account.objects.filter(pk=account.pk).update(trading_state=state, updated_at=timezone.now())
    else:
        risk_state = risk_state or _risk_state(account, strategy)
        previous = risk_state.trading_state
        if previous == state:
            return state
        risk_state.trading_state = state
        risk_state.save(update_fields=["trading_state", "updated_at"])
    event_record(
        type=EventType.RISK_TRADING_STATE_CHANGED,
        account=account,
        strategy=strategy,
        severity=severity,
        actor=actor,
        payload={"scope": "strategy" if strategy else "account", "from": previous, "to": state, "reason": reason},
    )
    return state


def _loss_limits_enforce(
    *,
    account: Account,
    strategy,
    parameters: RiskParameters,
    scope_equity: Decimal,
    marks: states.EquityMarks,
    risk_state: RiskState,
) -> list[states.Breach]:
    """A reached daily loss or drawdown limit moves the scope to its breach action, with a CRITICAL alert."""
    scope = "strategy" if strategy is not None else "account"
    found = states.breaches(
        scope=scope,
        equity=scope_equity,
        marks=marks,
        daily_loss_limit=parameters.daily_loss_limit,
        daily_loss_action=parameters.daily_loss_action,
        max_drawdown=parameters.max_drawdown,
        drawdown_action=parameters.drawdown_action,
    )
    for breach in found:
        current = account.trading_state if strategy is None else risk_state.trading_state
        target = states.state_after(current, breach.action)
        if target != current:
            trading_state_set(
                account=account,
                strategy=strategy,
                state=target,
                reason=breach.message,
                actor=RISK_ENGINE,
                severity=Event.Severity.CRITICAL,
                risk_state=risk_state if strategy is not None else None,
            )
            event_record(
                type=EventType.RISK_LIMIT_BREACHED,
                account=account,
                strategy=strategy,
                severity=Event.Severity.CRITICAL,
                actor=RISK_ENGINE,
                payload={
                    "code": breach.code,
                    "limit": breach.limit,
                    "actual": breach.actual,
                    "message": breach.message,
                },
            )
        if breach.action == states.EMERGENCY_STOP:
            risk_violation_handle(
                violation=RiskViolation(breach.code, breach.message, "CRITICAL", breach.limit, breach.actual),
                account=account,
                strategy=strategy,
            )
    return found


# ---- pre-trade validation ---------------------------------------------------------------------------


def _kill_switch_scopes(account: Account, strategy) -> tuple[str, ...]:
    condition = Q(scope=KillSwitch.Scope.GLOBAL) | Q(scope=KillSwitch.Scope.ACCOUNT, account=account)
    if strategy is not None:
        condition |= Q(scope=KillSwitch.Scope.STRATEGY, strategy=strategy)
    found = KillSwitch.objects.filter(condition, released_at__isnull=True).values_list("scope", flat=True)
    return tuple(sorted({scope.lower() for scope in found}))


def _day_trades(account: Account, now: datetime) -> tuple[int, frozenset[str]]:
    """Day trades in the last five business days, and symbols traded today (a close today would be one)."""
    today = states.trading_day(now)
    rows = Execution.objects.filter(account=account, executed_at__gte=now - timedelta(days=7)).values_list(
        "instrument__symbol", "side", "executed_at"
    )
    sides: dict[tuple[str, Any], set[str]] = {}
    for symbol, side, at in rows:
        sides.setdefault((symbol, states.trading_day(at)), set()).add(side)
    day_trades = sum(1 for found in sides.values() if len(found) == 2)
    opened_today = frozenset(symbol for (symbol, day) in sides if day == today)
    return day_trades, opened_today


def risk_snapshot(
    *,
    account: Account,
    strategy,
    parameters: RiskParameters,
    now: datetime | None = None,
    symbol: str | None = None,
    exchange: str | None = None,
    book: Book | None = None,
    account_parameters: RiskParameters | None = None,
) -> RiskSnapshot:
    """Everything the rules need, read while the caller holds the account's row lock.

    account_parameters: the account's own parameters when ``parameters`` are a strategy's and the
    caller has read them already (its restricted symbols apply as well).
    """
    now = now or timezone.now()
    book = book or book_read(account=account, extra_symbols=[symbol] if symbol else [])
    strategy_id = strategy.pk if strategy is not None else None
    live = [p for p in book.positions if p[3]]
    equity = book.equity
    if parameters.strategy_id is not None and account_parameters is None:
        account_parameters = RiskParameters.objects.filter(account=account).first()
    limits = risk_limits(parameters, account_parameters=account_parameters)

    account_state, strategy_state = _risk_states(account, strategy)
    account_marks = _loss_limits_watch(account, None, parameters, equity, now, account_state)
    strategy_equity = strategy_marks = None
    if strategy is not None:
        strategy_equity = book.strategy_equity(strategy)
        strategy_marks = _loss_limits_watch(account, strategy, parameters, strategy_equity, now, strategy_state)

    order_times: list[tuple[int | None, datetime]] = []
    if limits.max_strategy_orders_per_minute is not None or limits.max_account_orders_per_minute is not None:
        order_times = list(
            Order.objects.filter(account=account, parent__isnull=True, created_at__gt=now - RATE_WINDOW)
            .order_by()
            .values_list("strategy_id", "created_at")
        )
    session = "REGULAR"
    if limits.market_hours != HOURS_ANY and exchange:
        session = marketdata.market_session(exchange, now)
    stale = frozenset()
    if limits.reject_stale_prices and symbol and marketdata.symbol_is_stale(symbol, now):
        stale = frozenset({symbol})
    day_trades, opened_today = 0, frozenset()
    if limits.margin_account and equity < Decimal(25000):
        day_trades, opened_today = _day_trades(account, now)

    holdings = [(p[2], _holding(p)) for p in live]
    pending = [(o[2], _pending(o)) for o in book.orders]
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
        trading_state=account.trading_state,
        strategy_trading_state=strategy_state.trading_state if strategy_state is not None else ACTIVE,
        kill_switches=_kill_switch_scopes(account, strategy),
        market_session=session,
        stale_symbols=stale,
        strategy_order_times=tuple(t for s, t in order_times if s == strategy_id),
        account_order_times=tuple(t for _, t in order_times),
        day_start_equity=account_marks.day_start_equity,
        high_water_mark=account_marks.high_water_mark,
        strategy_equity=strategy_equity,
        strategy_day_start_equity=strategy_marks.day_start_equity if strategy_marks else None,
        strategy_high_water_mark=strategy_marks.high_water_mark if strategy_marks else None,
        day_trades=day_trades,
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
) -> RiskValidation:
    """RiskEngine.validate_order; the caller must hold the account's row lock until the order is saved.

    ``validation.approved_quantity`` is the quantity to send: the requested one,
    or a smaller one when the parameters auto-resize the breached checks.
    """
    parameters, account_parameters = _risk_parameters_pair(account, strategy)
    snapshot = risk_snapshot(
        account=account,
        strategy=strategy,
        parameters=parameters,
        account_parameters=account_parameters,
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
    """RiskEngine.check_position_limits: would a signed ``quantity`` more of ``symbol`` pass? (no lock, read-only)"""
    from trading.models import Instrument

    instrument = Instrument.objects.get(symbol=symbol)
    side = Side.BUY if quantity > 0 else Side.SELL
    price = marketdata.price_get(symbol) or instrument.reference_price
    with transaction.atomic():
        return order_validate(
            account=account,
            strategy=strategy,
            symbol=symbol,
            side=side,
            order_type=OrderType.MARKET,
            quantity=abs(quantity),
            reference_price=price,
            lot_size=instrument.lot_size,
            now=timezone.now(),
            instrument=instrument,
        )


# ---- kill switch ------------------------------------------------------------------------------------


def _accounts_in_scope(scope: str, account: Account | None, strategy) -> list[Account]:
    if scope == KillSwitch.Scope.GLOBAL:
        return list(Account.objects.select_for_update(no_key=True).order_by("pk"))
    account_id = strategy.account_id if scope == KillSwitch.Scope.STRATEGY else account.pk
    return [account_lock(account_id)]


def kill_switch_engage(
    *, scope: str, actor: str, reason: str, account: Account | None = None, strategy=None, flatten: bool = False
) -> KillSwitch:
    """Emergency stop: refuse new orders in scope, cancel its open orders, optionally flatten its positions.

    The switch is written under the row lock of every account in scope, so a
    validation either committed before it (and its order is canceled below) or
    sees it and refuses.
    """
    if scope not in KillSwitch.Scope.values:
        raise ValueError(f"{scope} is not a kill-switch scope.")
    if scope == KillSwitch.Scope.ACCOUNT and account is None:
        raise ValueError("An account kill switch needs an account.")
    if scope == KillSwitch.Scope.STRATEGY and strategy is None:
        raise ValueError("A strategy kill switch needs a strategy.")
    if not reason.strip():
        raise ValueError("Say why the emergency stop is engaged.")
    with transaction.atomic():
        accounts = _accounts_in_scope(scope, account, strategy)
        switch = KillSwitch.objects.create(
            scope=scope,
            account=account if scope == KillSwitch.Scope.ACCOUNT else None,
            strategy=strategy if scope == KillSwitch.Scope.STRATEGY else None,
            flatten=flatten,
            engaged_by=actor,
            engaged_at=timezone.now(),
            reason=reason,
        )
        for locked in accounts:
            event_record(
                type=EventType.RISK_KILL_SWITCH_ENGAGED,
                account=locked,
                strategy=switch.strategy,
                severity=Event.Severity.CRITICAL,
                actor=actor,
                payload={"kill_switch_id": switch.pk, "scope": scope, "reason": reason, "flatten": flatten},
            )
    _kill_switch_sweep(switch)
    return switch


def _orders_in_scope(switch: KillSwitch):
    orders = Order.objects.filter(status__in=OPEN_STATUSES)
    if switch.scope == KillSwitch.Scope.ACCOUNT:
        orders = orders.filter(account_id=switch.account_id)
    elif switch.scope == KillSwitch.Scope.STRATEGY:
        orders = orders.filter(strategy_id=switch.strategy_id)
    return orders


def _kill_switch_sweep(switch: KillSwitch) -> None:
    actor = f"kill-switch:{switch.engaged_by}"
    for order_id in _orders_in_scope(switch).order_by("pk").values_list("pk", flat=True):
        try:
            # An order that filled or was canceled since the listing is left as it is.
            order_cancel(order_id=order_id, actor=actor, reason="kill switch", if_open=True)
        except BrokerError:
            # The broker refused or is unreachable: the rest must still be canceled; reconciliation settles this one.
            logger.exception("kill switch %s could not cancel order %s", switch.pk, order_id)
    if not switch.flatten:
        return
    positions = Position.objects.exclude(quantity=0)
    if switch.scope == KillSwitch.Scope.ACCOUNT:
        positions = positions.filter(account_id=switch.account_id)
    elif switch.scope == KillSwitch.Scope.STRATEGY:
        positions = positions.filter(strategy_id=switch.strategy_id)
    for position_id in positions.values_list("pk", flat=True):
        position_close(position_id=position_id, actor=actor, reason="kill_switch_flatten")


def kill_switch_release(*, kill_switch_id: int, actor: str, reason: str) -> KillSwitch:
    """A person releases an engaged switch; the release is recorded beside the engagement."""
    if not reason.strip():
        raise ValueError("Say why the emergency stop is released.")
    with transaction.atomic():
        switch = KillSwitch.objects.select_for_update().get(pk=kill_switch_id)
        if switch.released_at is not None:
            return switch
        switch.released_by, switch.released_at, switch.release_reason = actor, timezone.now(), reason
        switch.save(update_fields=["released_by", "released_at", "release_reason"])
        event_record(
            type=EventType.RISK_KILL_SWITCH_RELEASED,
            account=switch.account,
            strategy=switch.strategy,
            severity=Event.Severity.WARNING,
            actor=actor,
            payload={"kill_switch_id": switch.pk, "scope": switch.scope, "reason": reason},
        )
    return switch


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


# ---- handle_risk_violation -------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskViolation:
    code: str
    message: str
    severity: str = "WARNING"
    limit: Decimal | None = None
    actual: Decimal | None = None


@dataclass(frozen=True)
class RiskResponse:
    action: str  # "emergency_stop" | "adjust_and_continue"
    kill_switch_id: int | None = None
    adjustments: dict[str, str] = field(default_factory=dict)


def risk_violation_handle(
    *, violation: RiskViolation, account: Account, strategy=None, validation: RiskValidation | None = None
) -> RiskResponse:
    """ErrorHandler.handle_risk_violation: CRITICAL → emergency stop of the scope; otherwise adjust and continue."""
    if violation.severity == "CRITICAL":
        scope = KillSwitch.Scope.STRATEGY if strategy is not None else KillSwitch.Scope.ACCOUNT
        active = [s for s in kill_switch_active(account=account) if s.scope in (scope, KillSwitch.Scope.GLOBAL)]
        if active:
            return RiskResponse(action="emergency_stop", kill_switch_id=active[0].pk)
        switch = kill_switch_engage(
            scope=scope, account=account, strategy=strategy, actor=RISK_ENGINE, reason=violation.message
        )
        return RiskResponse(action="emergency_stop", kill_switch_id=switch.pk)
    adjustments = dict(validation.recommended_adjustments) if validation is not None else {}
    event_record(
        type=EventType.RISK_VIOLATION,
        account=account,
        strategy=strategy,
        severity=Event.Severity.WARNING,
        actor=RISK_ENGINE,
        payload={"code": violation.code, "message": violation.message, "adjustments": adjustments},
    )
    return RiskResponse(action="adjust_and_continue", adjustments=adjustments)


# ---- closing orders (stops, flatten) --------------------------------------------------------------


def position_close(*, position_id: int, actor: str, reason: str) -> Order | None:
    """Flatten a position (kill switch, manual); None when it is already flat."""
    try:
        return trading_position_close(position_id=position_id, actor=actor, reason=reason)
    except TradingError as error:
        if error.code != "position_flat":
            raise
        return None


def stop_breach_close(
    *, position_id: int, opened_at: datetime, kind: str, trigger_price: Decimal, price: Decimal, now: datetime
) -> Order | None:
    """RiskEngine.enforce_stop_loss: close a position whose stop, target or trailing stop was crossed, once.

    The StopTrigger row is unique per position life, so a repeated breach (the
    next tick, another process) sends nothing more.
    """
    with transaction.atomic():
        account_id = Position.objects.values_list("account_id", flat=True).get(pk=position_id)
        account = account_lock(account_id)
        position = Position.objects.select_related("instrument", "strategy").get(pk=position_id)
        if position.quantity == 0 or position.opened_at != opened_at:
            return None  # closed or reopened since the monitor last loaded it
        try:
            with transaction.atomic():
                trigger = StopTrigger.objects.create(
                    position=position,
                    position_opened_at=opened_at,
                    kind=kind,
                    trigger_price=trigger_price,
                    price=price,
                    triggered_at=now,
                )
        except IntegrityError:
            return None
        order = position_flatten_locked(
            account, position, actor=RISK_ENGINE, reason=kind.lower(), trigger_price=trigger_price
        )
        trigger.order = order
        trigger.save(update_fields=["order"])
        event_record(
            type=EventType.RISK_STOP_TRIGGERED,
            account=account,
            strategy=position.strategy,
            order=order,
            severity=Event.Severity.WARNING,
            actor=RISK_ENGINE,
            payload={
                "symbol": position.instrument.symbol,
                "kind": kind,
                "trigger_price": trigger_price,
                "price": price,
                "quantity": order.quantity,
            },
        )
        return order


def trading_state_release(*, account: Account, strategy=None, actor: str, reason: str) -> str:
    """A person moves the account or strategy back to ACTIVE."""
    with transaction.atomic():
        locked = account_lock(account.pk)
        return trading_state_set(account=locked, strategy=strategy, state=ACTIVE, reason=reason, actor=actor)


def portfolio_risk_monitor(*, account_id: int, now: datetime | None = None):
    """Assess one account and enforce its loss limits (moves it to its breach state); returns the assessment."""
    from risk.selectors import portfolio_risk_assess

    now = now or timezone.now()
    with transaction.atomic():
        account = account_lock(account_id)
        parameters = risk_parameters_for(account=account)
        book = book_read(account=account)
        _loss_limits_watch(account, None, parameters, book.equity, now)
        for strategy in Strategy.objects.filter(account=account, status=Strategy.Status.RUNNING):
            strategy_parameters = risk_parameters_for(account=account, strategy=strategy)
            _loss_limits_watch(account, strategy, strategy_parameters, book.strategy_equity(strategy), now)
    return portfolio_risk_assess(account=account, now=now)


def parameters_update(*, account: Account, strategy=None, data: dict[str, Any], actor: str) -> RiskParameters:
    """Set risk parameters for the account or one strategy (creates the row), recording who changed what."""
    with transaction.atomic():
        account_lock(account.pk)
        if strategy is not None:
            parameters, _ = RiskParameters.objects.get_or_create(strategy=strategy)
        else:
            parameters, _ = RiskParameters.objects.get_or_create(account=account)
        for name, value in data.items():
            setattr(parameters, name, value)
        parameters.full_clean()
        parameters.save()
        event_record(
            type=EventType.RISK_PARAMETERS_UPDATED,
            account=account,
            strategy=strategy,
            actor=actor,
            payload={k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()},
        )
    return parameters


def position_size_raw(*, strategy, signal, instrument, price: Decimal) -> Decimal:
    """The quantity the strategy's sizing method asks for (configuration["sizing"]), before lots and limits.

    Without a configured method it is fixed fraction: position_size x capital / price.
    """
    from risk.core import sizing
    from risk.selectors import daily_closes

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
    from risk.core import sizing

    method = (strategy.configuration or {}).get("sizing", {}).get("method", sizing.FIXED_FRACTION)
    raw = position_size_raw(strategy=strategy, signal=signal, instrument=instrument, price=price)
    side = Side(signal.signal_type)
    probe = sizing.round_to_lot(raw, instrument.lot_size)
    max_quantity = None
    if probe > 0:
        with transaction.atomic():
            account = account_lock(strategy.account_id)
            validation = order_validate(
                account=account,
                strategy=strategy,
                symbol=instrument.symbol,
                side=side,
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
