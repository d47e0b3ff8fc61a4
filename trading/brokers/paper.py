"""The paper broker: a simulated venue that fills against the simulated market.

Its book lives in the database (PaperVenueOrder), inside the caller's
transaction, so a crash rolls venue and engine back together and a retried
placement finds the order it already holds.
"""

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
    PlaceResult,
)
from trading.core.fills import FillModel
from trading.core.orders import OrderType, Side
from trading.marketdata import price_get
from trading.models import PaperVenueOrder


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


class PaperBroker(Broker):
    name = "paper"

    def __init__(self, model: FillModel | None = None) -> None:
        self.model = model or fill_model()

    def place_order(self, request: BrokerOrderRequest, *, now: datetime) -> PlaceResult:
        held = PaperVenueOrder.objects.select_for_update().filter(client_order_id=request.client_order_id).first()
        if held is not None:
            return PlaceResult(state=_state(held), already_held=True)
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
        venue_order = PaperVenueOrder.objects.select_for_update().filter(client_order_id=client_order_id).first()
        if venue_order is None:
            raise BrokerError(BrokerErrorCategory.REJECTION, "unknown_order", f"No order {client_order_id}.")
        if venue_order.is_open:
            venue_order.is_open = False
            venue_order.save(update_fields=["is_open"])
        return _state(venue_order)

    def find_order(self, client_order_id: str) -> BrokerOrderState | None:
        venue_order = PaperVenueOrder.objects.filter(client_order_id=client_order_id).first()
        return _state(venue_order) if venue_order else None

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
        if price is None:
            return []
        quantity = venue_order.quantity - venue_order.filled_quantity
        venue_order.filled_quantity = venue_order.quantity
        venue_order.is_open = False
        venue_order.save(update_fields=["filled_quantity", "is_open"])
        return [
            BrokerFill(
                exec_id=f"{venue_order.broker_order_id}-1",
                client_order_id=venue_order.client_order_id,
                quantity=quantity,
                price=price,
                commission=self.model.commission(quantity, price),
                executed_at=now,
            )
        ]
