"""The one place an order is created, for every cause: a signal's entry and its bracket, a close.

``order_place`` runs under the account's row lock (the caller takes it and passes
the locked account, so that its own checks and the order are one decision). For
an order that may open exposure it asks the pre-trade risk gate
(``trading.pretrade``) for a verdict over the book trading's selectors read; an
order that only closes what is held (a close by hand, on a stop breach or by the
kill switch) is never stopped by the limits it is there to enforce. It creates
the entry and its protective orders, records one ``order.created`` event each,
and dispatches the entry to the broker once the transaction commits.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from trading.core.orders import OrderType, Side
from trading.core.verdicts import Violation
from trading.events.orders import order_created_event
from trading.models import Account, Instrument, Order
from trading.pretrade import Verdict, pretrade_gate
from trading.selectors import book_read
from trading.services.moves import order_dispatch


class Cause(StrEnum):
    """Why an order is created."""

    SIGNAL = "signal"  # a producer's signal, taken by strategies' intake
    MANUAL = "manual"  # a person's order
    CLOSE = "close"  # a person closes a position
    STOP_BREACH = "stop_breach"  # the stop monitor closes a position whose stop was crossed
    KILL_SWITCH = "kill_switch"  # the emergency stop flattens a position
    RISK_LIMIT = "risk_limit"  # a loss limit's emergency stop flattens a position


#: Causes whose orders may open exposure: the pre-trade risk gate decides whether they go.
GATED_CAUSES = frozenset({Cause.SIGNAL, Cause.MANUAL})


@dataclass(frozen=True)
class OrderRequest:
    """An order a caller asks for. With ``stop_loss`` it gets a protective STOP, sent once the entry
    fills; with ``take_profit`` as well, a take-profit LIMIT, the two exits one OCO group."""

    symbol: str
    side: Side
    quantity: Decimal
    reference_price: Decimal
    cause: Cause
    strategy: Any = None  # the strategies.Strategy the order trades for (trading refers to it by key only)
    signal: Any = None  # the strategies.TradingSignal it acts on
    order_type: OrderType = OrderType.MARKET
    price: Decimal | None = None  # limit price
    time_in_force: str = Order.TimeInForce.DAY
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    actor: str = ""
    reason: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)  # more for the order.created event

    @property
    def bracket(self) -> bool:
        return self.stop_loss is not None and self.take_profit is not None


@dataclass
class Placement:
    """What ``order_place`` did: the orders it created (entry first), or why it created none."""

    orders: list[Order]
    violations: tuple[Violation, ...] = ()
    verdict: Verdict | None = None

    @property
    def accepted(self) -> bool:
        return bool(self.orders)

    @property
    def entry(self) -> Order | None:
        return self.orders[0] if self.orders else None


def order_place(request: OrderRequest, *, account: Account, instrument: Instrument, now: datetime) -> Placement:
    """Create the order a request asks for, or answer why not; the caller holds the account's row lock."""
    refused = _bracket_violations(request)
    if refused:
        return Placement(orders=[], violations=refused)
    verdict = None
    quantity = request.quantity
    if request.cause in GATED_CAUSES:
        book = book_read(account=account, extra_symbols=[instrument.symbol])
        verdict = pretrade_gate()(account=account, request=request, instrument=instrument, book=book, now=now)
        if not verdict.is_valid:
            return Placement(orders=[], violations=tuple(verdict.violations), verdict=verdict)
        # Auto-resize (when the risk parameters ask for it) sends the largest quantity that passes.
        quantity = verdict.approved_quantity or quantity
    orders = _orders_create(request, account=account, instrument=instrument, quantity=quantity)
    risk_score = None if verdict is None else verdict.risk_score
    for order in orders:
        order_created_event(
            order=order, actor=request.actor, details=request.payload, risk_score=risk_score, reason=request.reason
        )
    order_dispatch(orders[0])  # its protective orders follow it once it fills
    return Placement(orders=orders, verdict=verdict)


def _bracket_violations(request: OrderRequest) -> tuple[Violation, ...]:
    side, reference = request.side, request.reference_price
    if request.stop_loss is not None and (request.stop_loss - reference) * side.sign >= 0:
        return (Violation("invalid_stop_loss", f"A {side} stop loss must lie on the losing side of {reference}."),)
    if request.bracket and (request.take_profit - reference) * side.sign <= 0:
        message = f"A {side} take profit must lie on the winning side of {reference}."
        return (Violation("invalid_take_profit", message),)
    return ()


def _orders_create(
    request: OrderRequest, *, account: Account, instrument: Instrument, quantity: Decimal
) -> list[Order]:
    entry = Order.objects.create(
        account=account,
        instrument=instrument,
        strategy=request.strategy,
        strategy_version=getattr(request.strategy, "version", None),
        signal=request.signal,
        side=request.side,
        order_type=request.order_type,
        time_in_force=request.time_in_force,
        quantity=quantity,
        price=request.price,
        reference_price=request.reference_price,
    )
    orders = [entry]
    # A bracket: both exits wait for the entry, then work GTC as one OCO group (a fill of one shrinks the other).
    oco_group = f"OCO-{entry.client_order_id}" if request.bracket else ""

    def exit_order(order_type: OrderType, **prices: Decimal) -> Order:
        return Order.objects.create(
            account=account,
            instrument=instrument,
            strategy=request.strategy,
            strategy_version=getattr(request.strategy, "version", None),
            signal=request.signal,
            parent=entry,
            side=request.side.opposite,
            order_type=order_type,
            time_in_force=Order.TimeInForce.GTC,
            quantity=quantity,
            oco_group=oco_group,
            **prices,
        )

    if request.stop_loss is not None:
        orders.append(exit_order(OrderType.STOP, stop_price=request.stop_loss, reference_price=request.stop_loss))
    if request.bracket:
        orders.append(exit_order(OrderType.LIMIT, price=request.take_profit, reference_price=request.take_profit))
    return orders
