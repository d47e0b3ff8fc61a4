"""The backtester's orders, moved only along ``trading.core.orders``' state machine.

A thin adapter: ``order_event(order, trigger, ...)`` asks ``next_status`` for the next
status (an illegal move raises ``IllegalTransition``, as live) and keeps the filled
quantity and the average fill price beside it. When ``trading.core.orders`` offers an
``OrderState`` value type with ``apply(event)`` (the authority on status, filled
quantity and average price), ``order_event`` becomes ``order.state = order.state.apply(event)``
and the three fields below read from it; nothing else in the backtester changes.

Every order the backtester makes goes NEW -> SUBMITTED -> ACCEPTED -> FILLED, or NEW ->
REJECTED (a risk refusal), or ACCEPTED -> CANCELED (an OCO sibling filled, or the
position it protected was closed). Fills are whole: the backtester models no
liquidity limit, so there is no PARTIALLY_FILLED.
"""

from datetime import datetime
from decimal import Decimal

from trading.core.orders import OrderStatus, OrderTrigger, OrderType, Side, next_status

__all__ = ["OrderStatus", "OrderTrigger", "OrderType", "Side", "SimOrder", "next_status", "order_event"]

_ZERO = Decimal(0)
NEW = OrderStatus.NEW
FILL = OrderTrigger.FILL
PARTIAL_FILL = OrderTrigger.PARTIAL_FILL


class SimOrder:
    """One order of the backtest. ``purpose``: ``entry``, ``exit``, ``stop_loss`` or ``take_profit``."""

    __slots__ = (
        "average_price",
        "created_at",
        "filled_quantity",
        "id",
        "limit_price",
        "oco",
        "order_type",
        "purpose",
        "quantity",
        "reference_price",
        "side",
        "signal_id",
        "status",
        "stop_price",
        "symbol",
    )

    def __init__(
        self,
        id: int,
        symbol: str,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        *,
        created_at: datetime,
        reference_price: Decimal,
        purpose: str,
        signal_id: str | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        self.id = id
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.quantity = quantity
        self.created_at = created_at
        self.reference_price = reference_price
        self.purpose = purpose
        self.signal_id = signal_id
        self.limit_price = limit_price
        self.stop_price = stop_price
        self.status = NEW
        self.filled_quantity = _ZERO
        self.average_price: Decimal | None = None
        self.oco: list[SimOrder] | None = None

    @property
    def level(self) -> Decimal:
        """The price a resting order waits for: the stop for a stop, the limit for a limit."""
        level = self.stop_price if self.order_type is OrderType.STOP else self.limit_price
        assert level is not None
        return level

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    def __repr__(self) -> str:
        price = self.limit_price or self.stop_price
        at = f" @ {price}" if price is not None else ""
        what = f"{self.purpose} {self.side} {self.quantity} {self.symbol} {self.order_type}{at}"
        return f"<SimOrder {self.id} {what} {self.status}>"


def order_event(
    order: SimOrder, trigger: OrderTrigger, *, quantity: Decimal | None = None, price: Decimal | None = None
) -> OrderStatus:
    """Move ``order`` by ``trigger`` (raises ``IllegalTransition`` if the state machine forbids it); a fill
    books ``quantity`` at ``price`` into the filled quantity and the average price."""
    order.status = status = next_status(order.status, trigger)
    if trigger is FILL or trigger is PARTIAL_FILL:
        if quantity is None or price is None:
            raise ValueError("A fill needs a quantity and a price.")
        filled = order.filled_quantity + quantity
        previous = order.average_price
        order.average_price = (
            price if previous is None else (previous * order.filled_quantity + price * quantity) / filled
        )
        order.filled_quantity = filled
    return status
