"""The simulated venue's own work: resting orders meeting prices, DAY orders expiring at the close."""

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from trading import loops
from trading.brokers.base import (
    broker_get,
)
from trading.core.orders import (
    OPEN_STATUSES,
    TRANSITIONS,
    Expired,
    OrderStatus,
    OrderTrigger,
)
from trading.events import events_batched
from trading.models import Order
from trading.services.amendments import (
    children_follow,
)
from trading.services.brokercalls import broker_calls_after, broker_calls_run
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
    Each order's fills are booked, and the changes they ask of protective orders sent to the venue,
    before the next order meets the price (an entry's stop grown with its fill sells all of it).
    """
    venue = broker_get().venue
    if venue is None:
        return 0  # a real broker fills its own orders and reports them
    booked = 0
    available: dict[str, Decimal | None] = {}
    for client_order_id in venue.resting_triggered(prices):
        order_id, account_id = Order.objects.values_list("pk", "account_id").get(client_order_id=client_order_id)
        with broker_calls_after(), transaction.atomic(), events_batched():
            account, order = account_and_order_lock(order_id, account_id)
            if order.status not in OPEN_STATUSES:
                continue
            symbol, price = order.instrument.symbol, prices[order.instrument.symbol]
            if symbol not in available:
                usual = venue.volume_available(symbol, price)  # None: liquidity never limits a fill
                available[symbol] = None if usual is None else (volumes or {}).get(symbol, usual)
            volume = available[symbol]
            for fill in venue.trigger(client_order_id, price, now=now, available=volume):
                booked += execution_apply_locked(account, order, fill) is not None
                if volume is not None:
                    available[symbol] -= venue.participation_used(fill.quantity)
    return booked


@broker_calls_run
def orders_expire_day(*, now: datetime) -> int:
    """Expire DAY orders at their exchange's session close: the venue closes them, the engine moves them EXPIRED."""
    venue = broker_get().venue
    if venue is None:
        return 0  # a real broker expires its own orders; reconciliation closes ours
    expired = 0
    for client_order_id in venue.day_orders_due(now):
        order_id = Order.objects.filter(client_order_id=client_order_id).values_list("pk", flat=True).first()
        with transaction.atomic():
            if order_id is None:
                venue.expire(client_order_id, now=now)  # not ours: the venue closes it all the same
                continue
            _, order = account_and_order_lock(order_id)
            if not venue.expire(client_order_id, now=now):
                continue
            if (OrderStatus(order.status), OrderTrigger.EXPIRE) not in TRANSITIONS:
                continue  # closed meanwhile, or mid-modification: reconciliation settles it
            order_move(order, Expired(reason="session closed"), reason="session closed")
            children_follow(order, reason="entry expired")
            expired += 1
    return expired


def venue_subscribe(manager: Any) -> Any:
    """Let the market data stream reach a broker that is its own venue: its resting orders meet each batch of
    prices (every feed interval, with the volume the tape traded). Named in MARKET_DATA_STREAM_SUBSCRIBERS;
    returns the subscription (None for a real broker)."""
    if broker_get().venue is None:
        return None
    return manager.subscribe_batched(_resting_orders_trigger, interval=settings.MARKET_FEED_INTERVAL, with_volumes=True)


def _resting_orders_trigger(prices: dict[str, Decimal], *, now: datetime, volumes: dict[str, Decimal]) -> None:
    with loops.iteration(loops.MARKET_FEED, scope="resting-orders"):
        orders_trigger_on_prices(prices, now=now, volumes=volumes)
