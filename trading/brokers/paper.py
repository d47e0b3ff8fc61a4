"""The paper broker: a simulated venue that fills against the simulated market.

Its book (PaperVenueOrder, PaperVenueFill) lives in the database, inside the
caller's transaction, so a crash rolls venue and engine back together, and a
retried placement finds the order it already holds.

Time in force: IOC fills what it can at placement and closes the rest; FOK fills
completely at placement or not at all; DAY orders close at their exchange's
session close (`expire_day`); GTC rests until canceled. With a participation
below 1, a fill takes at most that share of the volume available: the top of
the book at placement, the volume traded since the last trigger afterwards.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction

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
from trading.marketdata.calendars import UnknownExchange, market_status
from trading.marketdata.feeds.simulated import TRADING_SECONDS_PER_DAY, daily_volume_default
from trading.models import Instrument, PaperVenueFill, PaperVenueOrder

DEFAULT_EXCHANGE = "XNYS"


def fill_model() -> FillModel:
    return FillModel(
        slippage_bps=settings.PAPER_SLIPPAGE_BPS,
        commission_per_share=settings.PAPER_COMMISSION_PER_SHARE,
        commission_minimum=settings.PAPER_COMMISSION_MINIMUM,
        commission_model=settings.PAPER_COMMISSION_MODEL,
        commission_per_order=settings.PAPER_COMMISSION_PER_ORDER,
        commission_bps=settings.PAPER_COMMISSION_BPS,
        max_participation=settings.PAPER_MAX_PARTICIPATION,
    )


def volume_per_interval(symbol: str, price: Decimal) -> Decimal:
    """The simulated feed's average volume in one feed interval: what a trigger may draw on without a tape."""
    share_of_day = settings.MARKET_FEED_INTERVAL.total_seconds() / TRADING_SECONDS_PER_DAY
    return Decimal(max(1, round(daily_volume_default(symbol, price) * share_of_day)))


def top_of_book_size(symbol: str, price: Decimal) -> Decimal:
    """Shares a marketable order meets at placement (PAPER_TOP_OF_BOOK_SIZE, else one interval's volume)."""
    if settings.PAPER_TOP_OF_BOOK_SIZE:
        return Decimal(settings.PAPER_TOP_OF_BOOK_SIZE)
    return volume_per_interval(symbol, price)


def day_close(symbol: str, now: datetime) -> datetime | None:
    """When a DAY order placed now expires: the next session close of the symbol's exchange."""
    exchange = Instrument.objects.filter(symbol=symbol).values_list("exchange", flat=True).first()
    try:
        return _next_close(exchange or DEFAULT_EXCHANGE, now)
    except UnknownExchange:
        return _next_close(DEFAULT_EXCHANGE, now)


# exchange -> (asked at, the next close then): the same next close holds for any time before it.
_next_closes: dict[str, tuple[datetime, datetime]] = {}


def _next_close(exchange: str, now: datetime) -> datetime | None:
    known = _next_closes.get(exchange)
    if known is not None and known[0] <= now < known[1]:
        return known[1]
    close = market_status(exchange, now).next_close
    if close is not None:
        _next_closes[exchange] = (now, close)
    return close


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


def _venue_order_lock(client_order_id: str) -> PaperVenueOrder | None:
    return PaperVenueOrder.objects.select_for_update(no_key=True).filter(client_order_id=client_order_id).first()


def _close(venue_order: PaperVenueOrder, reason: str) -> None:
    venue_order.is_open = False
    venue_order.closed_reason = reason
    venue_order.save(update_fields=["is_open", "closed_reason"])


# The simulated venue is a system of its own: each call is one transaction on its book (the engine calls
# cancel and modify outside its own transactions, as it would a real broker).
_venue_call = transaction.atomic


class PaperBroker(Broker):
    name = "paper"

    def __init__(self, model: FillModel | None = None) -> None:
        self.model = model or fill_model()

    @_venue_call
    def place_order(self, request: BrokerOrderRequest, *, now: datetime) -> PlaceResult:
        held = _venue_order_lock(request.client_order_id)
        if held is not None:
            return PlaceResult(state=_state(held), fills=tuple(self.fills_for(held.client_order_id)), already_held=True)
        last = price_get(request.symbol)
        if last is None:
            raise BrokerError(BrokerErrorCategory.REJECTION, "no_market", f"No market for {request.symbol}.")
        side = Side(request.side)
        stop_price, best_price = request.stop_price, None
        if request.order_type == OrderType.TRAILING_STOP:
            try:
                best_price = last
                stop_price = self.model.trail_stop(
                    side, last, amount=request.trail_amount, percent=request.trail_percent
                )
            except ValueError as error:
                raise BrokerError(BrokerErrorCategory.REJECTION, "invalid_trail", str(error)) from None
        tif = request.time_in_force
        venue_order = PaperVenueOrder.objects.create(
            client_order_id=request.client_order_id,
            broker_order_id=f"P-{request.client_order_id}",
            symbol=request.symbol,
            side=side,
            order_type=request.order_type,
            time_in_force=tif,
            quantity=request.quantity,
            limit_price=request.limit_price,
            stop_price=stop_price,
            trail_amount=request.trail_amount,
            trail_percent=request.trail_percent,
            best_price=best_price,
            expires_at=day_close(request.symbol, now) if tif == "DAY" else None,
            created_at=now,
        )
        available = top_of_book_size(request.symbol, last) if self.model.liquidity_limited else None
        if tif == "FOK" and (
            self._fill_price(venue_order, last) is None
            or self.model.fillable(request.quantity, available) < request.quantity
        ):
            _close(venue_order, "fok")  # all or nothing: nothing
            return PlaceResult(state=_state(venue_order))
        fills = self._match(venue_order, last, now=now, available=available)
        if tif == "IOC" and venue_order.is_open:
            _close(venue_order, "ioc")  # the remainder does not rest
        return PlaceResult(state=_state(venue_order), fills=tuple(fills))

    @_venue_call
    def cancel_order(self, client_order_id: str, *, now: datetime) -> BrokerOrderState:
        venue_order = self._working(client_order_id)
        _close(venue_order, "canceled")
        return _state(venue_order)

    @_venue_call
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
            available = top_of_book_size(venue_order.symbol, last) if self.model.liquidity_limited else None
            self._match(venue_order, last, now=now, available=available)
        return _state(venue_order)

    def find_order(self, client_order_id: str) -> BrokerOrderState | None:
        venue_order = PaperVenueOrder.objects.filter(client_order_id=client_order_id).first()
        return _state(venue_order) if venue_order else None

    def fills_for(self, client_order_id: str) -> list[BrokerFill]:
        return self.fills_for_orders([client_order_id]).get(client_order_id, [])

    def fills_for_orders(self, client_order_ids: list[str]) -> dict[str, list[BrokerFill]]:
        found: dict[str, list[BrokerFill]] = defaultdict(list)
        venue_fills = (
            PaperVenueFill.objects.filter(venue_order__client_order_id__in=client_order_ids)
            .select_related("venue_order")
            .order_by("pk")
        )
        for venue_fill in venue_fills:
            client_order_id = venue_fill.venue_order.client_order_id
            found[client_order_id].append(_fill(venue_fill, client_order_id))
        return dict(found)

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

    @property
    def venue(self) -> "PaperBroker":
        """The paper broker is its own venue: the market data stream fills its resting orders."""
        return self

    def volume_available(self, symbol: str, price: Decimal) -> Decimal | None:
        return volume_per_interval(symbol, price) if self.model.liquidity_limited else None

    def participation_used(self, quantity: Decimal) -> Decimal:
        return quantity / self.model.max_participation

    def resting_triggered(self, prices: dict[str, Decimal]) -> list[str]:
        """Client order ids of resting orders these prices would fill (an unlocked first look).

        Trailing stops follow the best price here, on every batch of prices, whether they trigger or not.
        """
        resting = PaperVenueOrder.objects.filter(is_open=True, symbol__in=list(prices)).order_by("pk")
        triggered = []
        for venue_order in resting:
            last = prices[venue_order.symbol]
            if self._trail(venue_order, last):
                PaperVenueOrder.objects.filter(pk=venue_order.pk, is_open=True).update(
                    best_price=venue_order.best_price, stop_price=venue_order.stop_price
                )
            if self._fill_price(venue_order, last) is not None:
                triggered.append(venue_order.client_order_id)
        return triggered

    @_venue_call
    def trigger(
        self, client_order_id: str, price: Decimal, *, now: datetime, available: Decimal | None = None
    ) -> list[BrokerFill]:
        """Fill one resting order if the price still triggers it; the caller holds its order's lock.

        available: the volume traded since the last trigger (None: liquidity does not limit the fill).
        """
        venue_order = PaperVenueOrder.objects.select_for_update(no_key=True).get(client_order_id=client_order_id)
        if not venue_order.is_open:
            return []
        if self._trail(venue_order, price):
            venue_order.save(update_fields=["best_price", "stop_price"])
        return self._match(venue_order, price, now=now, available=available)

    def day_orders_due(self, now: datetime) -> list[str]:
        """Client order ids of DAY orders whose session has closed (an unlocked first look)."""
        due = PaperVenueOrder.objects.filter(is_open=True, expires_at__lte=now).order_by("pk")
        return list(due.values_list("client_order_id", flat=True))

    @_venue_call
    def expire(self, client_order_id: str, *, now: datetime) -> bool:
        """Close a DAY order at its session close; False when it is no longer working or not yet due."""
        venue_order = PaperVenueOrder.objects.select_for_update(no_key=True).get(client_order_id=client_order_id)
        if not venue_order.is_open or venue_order.expires_at is None or venue_order.expires_at > now:
            return False
        _close(venue_order, "expired")
        return True

    def _working(self, client_order_id: str) -> PaperVenueOrder:
        venue_order = _venue_order_lock(client_order_id)
        if venue_order is None or not venue_order.is_open:
            raise _not_working(client_order_id)
        return venue_order

    def _trail(self, venue_order: PaperVenueOrder, last: Decimal) -> bool:
        """Move a trailing stop after a better price; True when it moved."""
        if venue_order.order_type != OrderType.TRAILING_STOP:
            return False
        side = Side(venue_order.side)
        best = self.model.trail_best(side, venue_order.best_price, last)
        if best == venue_order.best_price:
            return False
        venue_order.best_price = best
        venue_order.stop_price = self.model.trail_stop(
            side, best, amount=venue_order.trail_amount, percent=venue_order.trail_percent
        )
        return True

    def _fill_price(self, venue_order: PaperVenueOrder, last: Decimal) -> Decimal | None:
        side = Side(venue_order.side)
        order_type = OrderType(venue_order.order_type)
        if order_type == OrderType.MARKET:
            return self.model.market_price(side, last)
        if order_type == OrderType.LIMIT:
            return self.model.limit_fill_price(side, venue_order.limit_price, last)
        if not self.model.stop_triggered(side, venue_order.stop_price, last):
            return None
        if order_type in (OrderType.STOP, OrderType.TRAILING_STOP):
            return self.model.market_price(side, last)
        return self.model.limit_fill_price(side, venue_order.limit_price, last)  # STOP_LIMIT, armed

    def _match(
        self, venue_order: PaperVenueOrder, last: Decimal, *, now: datetime, available: Decimal | None = None
    ) -> list[BrokerFill]:
        price = self._fill_price(venue_order, last)
        remaining = venue_order.quantity - venue_order.filled_quantity
        if price is None or remaining <= 0:
            return []
        quantity = self.model.fillable(remaining, available)
        if quantity <= 0:
            return []  # no liquidity this time: it keeps resting
        venue_order.filled_quantity += quantity
        update_fields = ["filled_quantity"]
        if venue_order.filled_quantity >= venue_order.quantity:
            venue_order.is_open, venue_order.closed_reason = False, "filled"
            update_fields += ["is_open", "closed_reason"]
        venue_order.save(update_fields=update_fields)
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
