"""Reads for the API and the dashboard."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import models
from django.db.models import QuerySet

from trading.core.orders import Side
from trading.core.positions import PositionState, apply_fill, unrealized_pnl
from trading.events import EventType
from trading.loops import loops_status
from trading.marketdata import prices_get
from trading.models import Account, Event, Execution, Order, Position


def account_for_user(user: AbstractBaseUser) -> Account | None:
    return Account.objects.filter(owner=user).order_by("pk").first()


def order_list(*, user: AbstractBaseUser) -> QuerySet[Order]:
    return Order.objects.filter(account__owner=user).select_related("instrument")


def execution_list(*, user: AbstractBaseUser) -> QuerySet[Execution]:
    return Execution.objects.filter(account__owner=user).select_related("instrument")


def event_list(
    *, user: AbstractBaseUser, type: str | None = None, since: Any = None, strategy_id: int | None = None
) -> QuerySet[Event]:
    events = Event.objects.all() if user.is_staff else Event.objects.filter(account__owner=user)
    if type:
        events = events.filter(type__startswith=type) if type.endswith(".") else events.filter(type=type)
    if since:
        events = events.filter(occurred_at__gte=since)
    if strategy_id:
        events = events.filter(strategy_id=strategy_id)
    return events


def position_queryset(*, user: AbstractBaseUser) -> QuerySet[Position]:
    return Position.objects.filter(account__owner=user)


def position_list(*, user: AbstractBaseUser, include_closed: bool = False) -> list[Position]:
    """PositionManager.get_current_positions, marked to the last price (current_price, unrealized_pnl, market_value)."""
    positions = Position.objects.filter(account__owner=user).select_related("instrument", "strategy")
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


def position_history(*, user: AbstractBaseUser, symbol: str) -> list[dict[str, Any]]:
    """PositionManager.get_position_history: the user's position in symbol after each fill, oldest first.

    Replayed from the executions with the same P&L core that books them, per strategy
    (each strategy holds its own position), so the last row of a strategy is its position now.
    """
    executions = (
        Execution.objects.filter(account__owner=user, instrument__symbol=symbol)
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


def portfolio_get(*, user: AbstractBaseUser) -> dict[str, Any] | None:
    account = account_for_user(user)
    if account is None:
        return None
    positions = [p for p in position_list(user=user, include_closed=True) if p.account_id == account.pk]
    market_value = sum((p.market_value for p in positions), Decimal(0))
    return {
        "account_id": account.pk,
        "cash": account.cash,
        "equity": account.cash + market_value,
        "market_value": market_value,
        "unrealized_pnl": sum((p.unrealized_pnl for p in positions), Decimal(0)),
        "realized_pnl": sum((p.realized_pnl for p in positions), Decimal(0)),
        "trading_state": account.trading_state,
    }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "count": 0}
    ordered = sorted(values)
    pick = lambda fraction: round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)  # noqa: E731
    return {"p50": pick(0.5), "p99": pick(0.99), "count": len(ordered)}


def operations_overview(*, now: Any, window: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    """What operations watch: health, broker circuits, latencies, error rates, open orders, alerts."""
    from django.conf import settings

    from quantumleap.health import health_checks
    from trading.brokers.base import broker_get
    from trading.brokers.circuit import circuit_get
    from trading.marketdata.prices import FEED_RUNNING_KEY

    since = now - window
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
    rejected_orders = orders.filter(status="REJECTED").count()
    from strategies.models import TradingSignal

    signals = TradingSignal.objects.filter(created_at__gte=since)
    total_signals = signals.count()
    rejected_signals = signals.filter(status="rejected").count()
    events = Event.objects.filter(occurred_at__gte=since)
    by_severity = {severity: events.filter(severity=severity).count() for severity in Event.Severity.values}
    heartbeat = cache.get(FEED_RUNNING_KEY)
    alerts = Event.objects.filter(severity__in=["WARNING", "CRITICAL"]).order_by("-pk")[:25]
    return {
        "at": now.isoformat(),
        "window_seconds": int(window.total_seconds()),
        "health": health_checks(),
        "workers": "in-process (embedded)" if settings.CELERY_TASK_ALWAYS_EAGER else "Celery over Redis",
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
            "signals": total_signals,
            "signals_rejected": rejected_signals,
            "orders": total_orders,
            "orders_rejected": rejected_orders,
            "order_rejection_rate": round(rejected_orders / total_orders, 4) if total_orders else 0,
            "submission_failures": events.filter(type=EventType.ORDER_SUBMISSION_FAILED).count(),
        },
        "open_orders": dict(
            Order.objects.exclude(status__in=["FILLED", "CANCELED", "REJECTED", "EXPIRED"])
            .values_list("status")
            .annotate(n=models.Count("pk"))
            .values_list("status", "n")
        ),
        "loops": loops_status(now),
        "events_by_severity": by_severity,
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
