"""Reads for the API and the dashboard."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import models
from django.db.models import QuerySet

from accounts.permissions import Scope
from trading.brokers.base import broker_get
from trading.brokers.circuit import circuit_get
from trading.core.orders import OPEN_STATUSES, OrderStatus, OrderType, Side
from trading.core.positions import PositionState, apply_fill, unrealized_pnl
from trading.events import EventType
from trading.marketdata.prices import FEED_RUNNING_KEY, prices_get
from trading.models import Account, Event, Execution, Order, Position


@dataclass(frozen=True, slots=True)
class BookPosition:
    symbol: str
    sector: str
    strategy_id: int | None
    quantity: Decimal
    average_price: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class BookOrder:
    """A working order as the book counts it (of one bracket's exits, only the first to claim the position)."""

    symbol: str
    sector: str
    strategy_id: int | None
    side: Side
    order_type: OrderType
    quantity: Decimal
    filled_quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    reference_price: Decimal
    status: OrderStatus

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity


@dataclass
class Book:
    """One account's positions and working orders with their symbols' last prices, read at once."""

    account: Account
    positions: list[BookPosition] = field(default_factory=list)
    orders: list[BookOrder] = field(default_factory=list)
    prices: dict[str, Decimal] = field(default_factory=dict)
    sectors: dict[str, str] = field(default_factory=dict)

    @property
    def open_positions(self) -> list[BookPosition]:
        return [p for p in self.positions if p.quantity]

    @property
    def market_value(self) -> Decimal:
        return sum((p.quantity * self.prices[p.symbol] for p in self.open_positions), Decimal(0))

    @property
    def equity(self) -> Decimal:
        return self.account.cash + self.market_value

    def strategy_pnl(self, strategy_id: int) -> Decimal:
        """Realized and unrealized P&L of one strategy's positions (a flat one's realized P&L counts)."""
        return sum(
            (
                p.realized_pnl + ((self.prices[p.symbol] - p.average_price) * p.quantity if p.quantity else 0)
                for p in self.positions
                if p.strategy_id == strategy_id
            ),
            Decimal(0),
        )


def book_read(*, account: Account, extra_symbols: Iterable[str] = ()) -> Book:
    """The account's book: every position (flat ones too) and working order, priced (1,000 rows in a few ms)."""
    positions = [
        BookPosition(*row)
        for row in Position.objects.filter(account=account)
        .order_by()
        .values_list(
            "instrument__symbol", "instrument__sector", "strategy_id", "quantity", "average_price", "realized_pnl"
        )
    ]
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
    for *fields, group in working:
        if group:
            if group in claimed:
                continue
            claimed.add(group)
        symbol, sector, strategy_id, side, order_type, *rest, status = fields
        orders.append(
            BookOrder(symbol, sector, strategy_id, Side(side), OrderType(order_type), *rest, OrderStatus(status))
        )
    symbols = {p.symbol for p in positions if p.quantity} | set(extra_symbols)
    sectors = {p.symbol: p.sector for p in positions} | {o.symbol: o.sector for o in orders}
    return Book(account=account, positions=positions, orders=orders, prices=prices_get(symbols), sectors=sectors)


def order_times(*, account: Account, since: datetime) -> list[tuple[int | None, datetime]]:
    """(strategy id, created at) of the account's entry orders created after ``since`` (order-rate limits)."""
    return list(
        Order.objects.filter(account=account, parent__isnull=True, created_at__gt=since)
        .order_by()
        .values_list("strategy_id", "created_at")
    )


def executions_since(*, account: Account, since: datetime) -> list[tuple[str, str, datetime]]:
    """(symbol, side, executed at) of the account's fills after ``since`` (day trades)."""
    return list(
        Execution.objects.filter(account=account, executed_at__gte=since).values_list(
            "instrument__symbol", "side", "executed_at"
        )
    )


def account_for_user(user: AbstractBaseUser) -> Account | None:
    return Account.objects.filter(owner=user).order_by("pk").first()


def order_list(*, scope: Scope) -> QuerySet[Order]:
    """The orders the scope reaches (accounts.permissions.Scope: own, granted, all, or a producer's)."""
    return Order.objects.filter(scope.orders()).select_related("instrument")


def execution_list(*, scope: Scope) -> QuerySet[Execution]:
    return Execution.objects.filter(scope.accounts()).select_related("instrument")


def event_list(
    *, scope: Scope, type: str | None = None, since: Any = None, strategy_id: int | None = None
) -> QuerySet[Event]:
    # Events of no account (the global kill switch, the engine's) only where every account is readable.
    events = Event.objects.filter(scope.accounts())
    if type:
        events = events.filter(type__startswith=type) if type.endswith(".") else events.filter(type=type)
    if since:
        events = events.filter(occurred_at__gte=since)
    if strategy_id:
        events = events.filter(strategy_id=strategy_id)
    return events


def position_queryset(*, scope: Scope) -> QuerySet[Position]:
    return Position.objects.filter(scope.accounts())


def position_list(*, scope: Scope, include_closed: bool = False, account_id: int | None = None) -> list[Position]:
    """PositionManager.get_current_positions, marked to the last price (current_price, unrealized_pnl, market_value)."""
    positions = Position.objects.filter(scope.accounts()).select_related("instrument", "strategy")
    if account_id is not None:
        positions = positions.filter(account_id=account_id)
    if not include_closed:
        positions = positions.exclude(quantity=0)
    positions = list(positions)
    prices = prices_get({p.instrument.symbol for p in positions})
    for position in positions:
        price = prices[position.instrument.symbol]
        state = PositionState(position.quantity, position.average_price, position.realized_pnl)
        position.current_price = price
        position.unrealized_pnl = unrealized_pnl(state, price)
        position.market_value = position.quantity * price
    return positions


def position_history(*, scope: Scope, symbol: str) -> list[dict[str, Any]]:
    """PositionManager.get_position_history: the user's position in symbol after each fill, oldest first.

    Replayed from the executions with the same P&L core that books them, per strategy
    (each strategy holds its own position), so the last row of a strategy is its position now.
    """
    executions = (
        Execution.objects.filter(scope.accounts(), instrument__symbol=symbol)
        .order_by("executed_at", "pk")
        .values_list("strategy_id", "exec_id", "order_id", "side", "quantity", "price", "commission", "executed_at")
    )
    states: dict[int | None, PositionState] = {}
    history = []
    for strategy_id, exec_id, order_id, side, quantity, price, commission, executed_at in executions:
        state = apply_fill(
            states.get(strategy_id, PositionState()),
            side=Side(side),
            quantity=quantity,
            price=price,
            commission=commission,
        )
        states[strategy_id] = state
        history.append(
            {
                "executed_at": executed_at,
                "strategy_id": strategy_id,
                "exec_id": exec_id,
                "order_id": order_id,
                "side": side,
                "quantity": quantity,
                "price": price,
                "commission": commission,
                "position_quantity": state.quantity,
                "average_price": state.average_price,
                "realized_pnl": state.realized_pnl,
            }
        )
    return history


def account_readable(*, scope: Scope, account_id: int | None) -> Account | None:
    """The account a read names (one the scope reaches), or the reader's own when it names none."""
    if account_id is None:
        return Account.objects.filter(owner_id=scope.user_id).order_by("pk").first()
    return Account.objects.filter(scope.account_rows(), pk=account_id).first()


def portfolio_get(*, account: Account) -> dict[str, Any]:
    positions = position_list(scope=Scope(user_id=account.owner_id), include_closed=True, account_id=account.pk)
    market_value = sum((p.market_value for p in positions), Decimal(0))
    return {
        "account": account,
        "account_id": account.pk,
        "cash": account.cash,
        "equity": account.cash + market_value,
        "market_value": market_value,
        "unrealized_pnl": sum((p.unrealized_pnl for p in positions), Decimal(0)),
        "realized_pnl": sum((p.realized_pnl for p in positions), Decimal(0)),
    }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "count": 0}
    ordered = sorted(values)
    pick = lambda fraction: round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)  # noqa: E731
    return {"p50": pick(0.5), "p99": pick(0.99), "count": len(ordered)}


def operations_trading(*, since: datetime) -> dict[str, Any]:
    """Trading's part of what operations watch since a moment: broker circuits, latencies, order rates,
    open orders, events by severity, the latest alerts and the market feed's heartbeat."""
    broker = broker_get()
    circuit = circuit_get(broker.name)
    recent = list(
        Order.objects.filter(submitted_at__gte=since, parent__isnull=True, signal__isnull=False)
        .order_by("-pk")
        .values_list("signal__created_at", "created_at", "submitted_at")[:1000]
    )
    signal_to_broker = [(submitted - signal_at).total_seconds() * 1000 for signal_at, _, submitted in recent]
    submission = [(submitted - created).total_seconds() * 1000 for _, created, submitted in recent]
    orders = Order.objects.filter(created_at__gte=since)
    total_orders = orders.count()
    rejected_orders = orders.filter(status=OrderStatus.REJECTED).count()
    events = Event.objects.filter(occurred_at__gte=since)
    heartbeat = cache.get(FEED_RUNNING_KEY)
    alerts = Event.objects.filter(severity__in=[Event.Severity.WARNING, Event.Severity.CRITICAL]).order_by("-pk")[:25]
    return {
        "market_data": {
            "feed_running": heartbeat is not None,
            "last_tick_at": datetime.fromtimestamp(float(heartbeat), UTC).isoformat() if heartbeat else None,
        },
        "brokers": [
            {
                "name": broker.name,
                "circuit": circuit.state,
                "failures": circuit.failures,
                "opened_at": circuit.opened_at.isoformat() if circuit.opened_at else None,
            }
        ],
        "latency_ms": {
            "signal_to_broker": _percentiles(signal_to_broker),
            "broker_submission": _percentiles(submission),
        },
        "rates": {
            "orders": total_orders,
            "orders_rejected": rejected_orders,
            "order_rejection_rate": round(rejected_orders / total_orders, 4) if total_orders else 0,
            "submission_failures": events.filter(type=EventType.ORDER_SUBMISSION_FAILED).count(),
        },
        "open_orders": dict(
            Order.objects.filter(status__in=OPEN_STATUSES)
            .values_list("status")
            .annotate(n=models.Count("pk"))
            .values_list("status", "n")
        ),
        "events_by_severity": {
            severity: events.filter(severity=severity).count() for severity in Event.Severity.values
        },
        "alerts": [
            {
                "id": e.pk,
                "type": e.type,
                "severity": e.severity,
                "occurred_at": e.occurred_at.isoformat(),
                "payload": e.payload,
            }
            for e in alerts
        ],
    }


def strategy_fills(*, strategy_id: int, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """A strategy's live executions in [since, until), oldest first (the backtester compares them with its run)."""
    executions = Execution.objects.filter(strategy_id=strategy_id)
    if since is not None:
        executions = executions.filter(executed_at__gte=since)
    if until is not None:
        executions = executions.filter(executed_at__lt=until)
    rows = executions.order_by("executed_at", "pk").values(
        "instrument__symbol", "executed_at", "side", "quantity", "price", "commission"
    )
    return [
        {
            "symbol": row["instrument__symbol"],
            "at": row["executed_at"],
            "side": row["side"],
            "quantity": row["quantity"],
            "price": row["price"],
            "commission": row["commission"],
        }
        for row in rows
    ]
