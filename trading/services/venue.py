"""The simulated venue's own work: resting orders meeting prices, DAY orders expiring at the close."""

import logging
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from trading.brokers.base import (
    broker_get,
)
from trading.brokers.paper import PaperBroker, volume_per_interval
from trading.core.orders import (
    OPEN_STATUSES,
    TRANSITIONS,
    OrderStatus,
    OrderTrigger,
)
from trading.events import EventType, events_batched
from trading.models import Order
from trading.services.amendments import (
    children_follow,
)
from trading.services.executions import (
    execution_apply_locked,
)
from trading.services.locks import (
    account_and_order_lock,
)
from trading.services.moves import (
    order_move,
)

logger = logging.getLogger(__name__)


def orders_trigger_on_prices(
    prices: dict[str, Decimal], *, now: datetime, volumes: dict[str, Decimal] | None = None
) -> int:
    """Let new prices fill the paper venue's resting orders; returns the number of fills booked.

    volumes: shares traded per symbol since the last call; without them the venue assumes the
    symbol's average volume per feed interval. Orders in one symbol share that volume, oldest first.
    """
    broker = broker_get()
    if not isinstance(broker, PaperBroker):
        return 0  # a real broker reports its own fills
    booked = 0
    available: dict[str, Decimal] = {}
    for client_order_id in broker.resting_triggered(prices):
        order_id, account_id = Order.objects.values_list("pk", "account_id").get(client_order_id=client_order_id)
        with transaction.atomic(), events_batched():
            account, order = account_and_order_lock(order_id, account_id)
            if order.status not in OPEN_STATUSES:
                continue
            symbol, price = order.instrument.symbol, prices[order.instrument.symbol]
            volume = None
            if broker.model.liquidity_limited:
                if symbol not in available:
                    available[symbol] = (volumes or {}).get(symbol, volume_per_interval(symbol, price))
                volume = available[symbol]
            for fill in broker.trigger(client_order_id, price, now=now, available=volume):
                booked += execution_apply_locked(account, order, fill) is not None
                if volume is not None:
                    available[symbol] -= fill.quantity / broker.model.max_participation
    return booked


def orders_expire_day(*, now: datetime) -> int:
    """Expire DAY orders at their exchange's session close: the venue closes them, the engine moves them EXPIRED."""
    broker = broker_get()
    if not isinstance(broker, PaperBroker):
        return 0  # a real broker expires its own orders; reconciliation closes ours
    expired = 0
    for client_order_id in broker.day_orders_due(now):
        order_id = Order.objects.filter(client_order_id=client_order_id).values_list("pk", flat=True).first()
        with transaction.atomic():
            if order_id is None:
                broker.expire(client_order_id, now=now)  # not ours: the venue closes it all the same
                continue
            _, order = account_and_order_lock(order_id)
            if not broker.expire(client_order_id, now=now):
                continue
            if (OrderStatus(order.status), OrderTrigger.EXPIRE) not in TRANSITIONS:
                continue  # closed meanwhile, or mid-modification: reconciliation settles it
            order_move(order, OrderTrigger.EXPIRE, event_type=EventType.ORDER_EXPIRED, reason="session closed")
            children_follow(order, reason="entry expired")
            expired += 1
    return expired
