"""Reads for the API and the dashboard."""

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from trading.core.positions import PositionState, unrealized_pnl
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


def position_list(*, user: AbstractBaseUser, include_closed: bool = False) -> list[Position]:
    """Positions marked to the last price (current_price, unrealized_pnl and market_value set live)."""
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
