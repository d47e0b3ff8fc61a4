"""Pre-trade risk validation against the database; the rules themselves live in risk/core."""

from datetime import datetime
from decimal import Decimal

from risk.core.rules import (
    Holding,
    OrderIntent,
    PendingOrder,
    RiskLimits,
    RiskSnapshot,
    RiskValidation,
    validate_order,
)
from risk.models import RiskParameters
from trading.core.orders import OPEN_STATUSES, OrderStatus, OrderType, Side
from trading.marketdata import prices_get
from trading.models import Account, Order, Position

# A limit order never fills beyond its price, so it reserves exactly its notional.
CAPPED_PRICE_BUFFER = Decimal(0)


def risk_parameters_for(*, account: Account, strategy=None) -> RiskParameters:
    """The strategy's own parameters when it has them, else the account's, else the defaults."""
    if strategy is not None:
        found = RiskParameters.objects.filter(strategy=strategy).first()
        if found:
            return found
    return RiskParameters.objects.filter(account=account).first() or RiskParameters(account=account)


def _pending(order: Order) -> PendingOrder:
    return PendingOrder(
        symbol=order.instrument.symbol,
        side=Side(order.side),
        remaining_quantity=order.quantity - order.filled_quantity,
        reference_price=order.price or order.stop_price or order.reference_price,
        reserve_buffer=CAPPED_PRICE_BUFFER if order.order_type == OrderType.LIMIT else None,
    )


def risk_snapshot(*, account: Account, strategy, parameters: RiskParameters) -> RiskSnapshot:
    """Everything the rules need, read while the caller holds the account's row lock."""
    positions = list(Position.objects.filter(account=account).exclude(quantity=0).select_related("instrument"))
    # A protective order waiting for its entry reserves nothing until it is live.
    orders = list(
        Order.objects.filter(account=account, status__in=OPEN_STATUSES)
        .exclude(parent__isnull=False, status=OrderStatus.NEW)
        .select_related("instrument")
        .order_by("pk")  # reducing capacity is claimed in the order the orders were placed
    )
    prices = prices_get({p.instrument.symbol for p in positions})
    market_value = sum((p.quantity * prices[p.instrument.symbol] for p in positions), Decimal(0))

    def holding(p: Position) -> Holding:
        return Holding(symbol=p.instrument.symbol, quantity=p.quantity, average_price=p.average_price)

    strategy_id = strategy.pk if strategy is not None else None
    return RiskSnapshot(
        cash=account.cash,
        equity=account.cash + market_value,
        strategy_capital=strategy.capital if strategy is not None else account.cash + market_value,
        strategy_holdings=tuple(holding(p) for p in positions if p.strategy_id == strategy_id),
        strategy_orders=tuple(_pending(o) for o in orders if o.strategy_id == strategy_id),
        account_holdings=tuple(holding(p) for p in positions),
        account_orders=tuple(_pending(o) for o in orders),
        limits=RiskLimits(max_position_fraction=parameters.max_position_size, reserve_buffer=parameters.reserve_buffer),
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
) -> RiskValidation:
    """RiskEngine.validate_order; the caller must hold the account's row lock until the order is saved."""
    parameters = risk_parameters_for(account=account, strategy=strategy)
    snapshot = risk_snapshot(account=account, strategy=strategy, parameters=parameters)
    intent = OrderIntent(
        symbol=symbol,
        side=side,
        quantity=quantity,
        reference_price=reference_price,
        lot_size=lot_size,
        reserve_buffer=CAPPED_PRICE_BUFFER if order_type == OrderType.LIMIT else None,
    )
    return validate_order(snapshot, intent, now=now)
