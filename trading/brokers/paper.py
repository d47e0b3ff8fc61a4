"""The paper broker: a simulated venue that fills against the simulated market.

Its book (PaperVenueOrder, PaperVenueFill) lives in the database, inside the
caller's transaction, so a crash rolls venue and engine back together, and a
retried placement finds the order it already holds.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from trading.brokers.base import (
    Broker,
    BrokerError,
    BrokerErrorCategory,
    BrokerFill,
    BrokerOrderRequest,
    BrokerOrderState,
    BrokerPosition,
    PlaceResult,
)
from trading.core.fills import FillModel
from trading.core.orders import OrderType, Side
from trading.marketdata import price_get
from trading.models import PaperVenueFill, PaperVenueOrder


def fill_model() -> FillModel:
    return FillModel(
        slippage_bps=settings.PAPER_SLIPPAGE_BPS,
        commission_per_share=settings.PAPER_COMMISSION_PER_SHARE,
        commission_minimum=settings.PAPER_COMMISSION_MINIMUM,
    )


def _state(venue_order: PaperVenueOrder) -> BrokerOrderState:
    return BrokerOrderState(
        client_order_id=venue_order.client_order_id,
        broker_order_id=venue_order.broker_order_id,
        accepted=True,
        is_open=venue_order.is_open,
        filled_quantity=venue_order.filled_quantity,
    )


def _fill(venue_fill: PaperVenueFill, client_order_id: str) -> BrokerFill:
    return BrokerFill(
        exec_id=venue_fill.exec_id,
        client_order_id=client_order_id,
        quantity=venue_fill.quantity,
        price=venue_fill.price,
        commission=venue_fill.commission,
        executed_at=venue_fill.executed_at,
    )


def _not_working(client_order_id: str) -> BrokerError:
    return BrokerError(BrokerErrorCategory.REJECTION, "order_not_working", f"Order {client_order_id} is not working.")


class PaperBroker(Broker):
    name = "paper"

    def __init__(self, model: FillModel | None = None) -> None:
        self.model = model or fill_model()

    def place_order(self, request: BrokerOrderRequest, *, now: datetime) -> PlaceResult:
        held = PaperVenueOrder.objects.select_for_update().filter(client_order_id=request.client_order_id).first()
        if held is not None:
            return PlaceResult(state=_state(held), fills=tuple(self.fills_for(held.client_order_id)), already_held=True)
        last = price_get(request.symbol)
        if last is None:
            raise BrokerError(BrokerErrorCategory.REJECTION, "no_market", f"No market for {request.symbol}.")
        venue_order = PaperVenueOrder.objects.create(
            client_order_id=request.client_order_id,
            broker_order_id=f"P-{request.client_order_id}",
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            quantity=request.quantity,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            created_at=now,
        )
        fills = self._match(venue_order, last, now=now)
        return PlaceResult(state=_state(venue_order), fills=tuple(fills))

    def cancel_order(self, client_order_id: str, *, now: datetime) -> BrokerOrderState:
        venue_order = self._working(client_order_id)
        venue_order.is_open = False
        venue_order.save(update_fields=["is_open"])
        return _state(venue_order)

    def modify_order(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        now: datetime,
    ) -> BrokerOrderState:
        venue_order = self._working(client_order_id)
        if quantity is not None:
            if quantity <= venue_order.filled_quantity:
                raise BrokerError(
                    BrokerErrorCategory.REJECTION,
                    "quantity_below_filled",
                    f"{venue_order.filled_quantity} of {client_order_id} are filled already.",
                )
            venue_order.quantity = quantity
        if limit_price is not None:
            venue_order.limit_price = limit_price
        if stop_price is not None:
            venue_order.stop_price = stop_price
        venue_order.save(update_fields=["quantity", "limit_price", "stop_price"])
        last = price_get(venue_order.symbol)
        if last is not None:
            self._match(venue_order, last, now=now)
        return _state(venue_order)

    def find_order(self, client_order_id: str) -> BrokerOrderState | None:
        venue_order = PaperVenueOrder.objects.filter(client_order_id=client_order_id).first()
        return _state(venue_order) if venue_order else None

    def fills_for(self, client_order_id: str) -> list[BrokerFill]:
        venue_fills = PaperVenueFill.objects.filter(venue_order__client_order_id=client_order_id).order_by("pk")
        return [_fill(f, client_order_id) for f in venue_fills]

    def open_orders(self) -> list[BrokerOrderState]:
        return [_state(o) for o in PaperVenueOrder.objects.filter(is_open=True)]

    def positions(self) -> list[BrokerPosition]:
        quantity: dict[str, Decimal] = defaultdict(Decimal)
        cost: dict[str, Decimal] = defaultdict(Decimal)
        for symbol, side, qty, price in PaperVenueFill.objects.values_list(
            "venue_order__symbol", "venue_order__side", "quantity", "price"
        ):
            signed = qty if side == Side.BUY else -qty
            quantity[symbol] += signed
            cost[symbol] += signed * price
        return [
            BrokerPosition(symbol=s, quantity=q, average_cost=cost[s] / q if q else Decimal(0))
            for s, q in sorted(quantity.items())
        ]

    def resting_triggered(self, prices: dict[str, Decimal]) -> list[str]:
        """Client order ids of resting orders these prices would fill (an unlocked first look)."""
        resting = PaperVenueOrder.objects.filter(is_open=True, symbol__in=list(prices))
        return [o.client_order_id for o in resting if self._fill_price(o, prices[o.symbol]) is not None]

    def trigger(self, client_order_id: str, price: Decimal, *, now: datetime) -> list[BrokerFill]:
        """Fill one resting order if the price still triggers it; the caller holds its order's lock."""
        venue_order = PaperVenueOrder.objects.select_for_update().get(client_order_id=client_order_id)
        if not venue_order.is_open:
            return []
        return self._match(venue_order, price, now=now)

    def _working(self, client_order_id: str) -> PaperVenueOrder:
        venue_order = PaperVenueOrder.objects.select_for_update().filter(client_order_id=client_order_id).first()
        if venue_order is None or not venue_order.is_open:
            raise _not_working(client_order_id)
        return venue_order

    def _fill_price(self, venue_order: PaperVenueOrder, last: Decimal) -> Decimal | None:
        side = Side(venue_order.side)
        order_type = OrderType(venue_order.order_type)
        if order_type == OrderType.MARKET:
            return self.model.market_price(side, last)
        if order_type == OrderType.LIMIT:
            return self.model.limit_fill_price(side, venue_order.limit_price, last)
        if not self.model.stop_triggered(side, venue_order.stop_price, last):
            return None
        if order_type == OrderType.STOP:
            return self.model.market_price(side, last)
        return self.model.limit_fill_price(side, venue_order.limit_price, last)  # STOP_LIMIT, armed

    def _match(self, venue_order: PaperVenueOrder, last: Decimal, *, now: datetime) -> list[BrokerFill]:
        price = self._fill_price(venue_order, last)
        quantity = venue_order.quantity - venue_order.filled_quantity
        if price is None or quantity <= 0:
            return []
        venue_order.filled_quantity = venue_order.quantity
        venue_order.is_open = False
        venue_order.save(update_fields=["filled_quantity", "is_open"])
        number = venue_order.fills.count() + 1
        venue_fill = PaperVenueFill.objects.create(
            exec_id=f"{venue_order.broker_order_id}-{number}",
            venue_order=venue_order,
            quantity=quantity,
            price=price,
            commission=self.model.commission(quantity, price),
            executed_at=now,
        )
        return [_fill(venue_fill, venue_order.client_order_id)]
