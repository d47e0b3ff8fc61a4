"""The paper broker's order features, through the services: time in force, commission models,
partial fills from the liquidity model, trailing stops and bracket orders with OCO exits.

AAPL is pinned at 200.00: a MARKET BUY fills at 200.10 (5 bps slippage, rounded up to the cent),
a SELL at 199.90; the default commission is max(0.005 * quantity, 1.00).
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from risk.selectors import risk_parameters_for, risk_snapshot
from trading.brokers.base import BrokerOrderRequest
from trading.brokers.paper import PaperBroker
from trading.core.orders import OrderStatus, OrderType, Side
from trading.marketdata import PRICE_KEY, prices_set
from trading.models import Event, Execution, Instrument, Order, PaperVenueFill, PaperVenueOrder, Position
from trading.selectors import book_read
from trading.services import order_submit, orders_expire_day, orders_trigger_on_prices

D = Decimal
START_CASH = D("1000000")
PRICE = D("200.00")
NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # a Monday, NYSE open (14:30-21:00 UTC)


@pytest.fixture(autouse=True)
def pinned_price():
    prices_set({"AAPL": PRICE})
    yield
    cache.delete(PRICE_KEY.format("AAPL"))


@pytest.fixture(autouse=True)
def default_fill_model(settings):
    settings.PAPER_SLIPPAGE_BPS = D("5")
    settings.PAPER_COMMISSION_PER_SHARE = D("0.005")
    settings.PAPER_COMMISSION_MINIMUM = D("1.00")
    settings.PAPER_COMMISSION_MODEL = "per_share"
    settings.PAPER_MAX_PARTICIPATION = D("1.0")
    settings.PAPER_TOP_OF_BOOK_SIZE = ""


@pytest.fixture(autouse=True)
def _in_process(tasks_in_process):
    """These tests are about what the services do; the worker path is covered by tests/integration."""


@pytest.fixture
def liquidity(settings):
    """10% participation against a 500-share top of book: 50 shares at placement."""
    settings.PAPER_MAX_PARTICIPATION = D("0.1")
    settings.PAPER_TOP_OF_BOOK_SIZE = "500"


def _order(demo, side: Side, quantity: str, *, order_type=OrderType.MARKET, tif="DAY", **fields) -> Order:
    return Order.objects.create(
        account=demo.account,
        instrument=Instrument.objects.get(symbol="AAPL"),
        strategy=demo.strategy,
        side=side,
        order_type=order_type,
        time_in_force=tif,
        quantity=D(quantity),
        reference_price=PRICE,
        **fields,
    )


def _submit(order: Order) -> Order:
    order_submit(order_id=order.pk)
    order.refresh_from_db()
    return order


def _events(order: Order) -> list[str]:
    return list(Event.objects.filter(order=order).order_by("pk").values_list("type", flat=True))


def _fills(order: Order) -> list[tuple]:
    return list(Execution.objects.filter(order=order).order_by("pk").values_list("quantity", "price", "commission"))


def _venue(order: Order) -> PaperVenueOrder:
    return PaperVenueOrder.objects.get(client_order_id=order.client_order_id)


def _position(demo) -> Position:
    return Position.objects.get(strategy=demo.strategy, instrument__symbol="AAPL")


def _cash(demo) -> Decimal:
    demo.account.refresh_from_db()
    return demo.account.cash


# Time in force ----------------------------------------------------------------------------------
def test_ioc_fills_what_it_can_and_the_rest_is_canceled(demo, liquidity):
    order = _submit(_order(demo, Side.BUY, "120", tif="IOC"))
    assert (order.status, order.filled_quantity, order.average_fill_price) == (OrderStatus.CANCELED, 50, D("200.10"))
    assert _fills(order) == [(50, D("200.10"), D("1.00"))]
    assert _events(order)[-3:] == ["order.partially_filled", "position.updated", "order.canceled"]
    canceled = Event.objects.get(order=order, type="order.canceled")
    assert canceled.payload["reason"] == "closed at the broker: IOC remainder canceled at the venue"
    venue = _venue(order)
    assert (venue.is_open, venue.closed_reason, venue.filled_quantity) == (False, "ioc", 50)
    assert _position(demo).quantity == 50
    assert _cash(demo) == START_CASH - 50 * D("200.10") - D("1.00")
    # Nothing rests: later prices fill no more.
    assert orders_trigger_on_prices({"AAPL": PRICE}, now=NOW) == 0


def test_ioc_that_cannot_fill_is_canceled_with_nothing_filled(demo):
    order = _submit(_order(demo, Side.BUY, "10", order_type=OrderType.LIMIT, tif="IOC", price=D("199")))
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELED, 0)
    assert _events(order) == ["order.submitted", "order.accepted", "order.canceled"]


def test_fok_fills_completely_or_not_at_all(demo, liquidity):
    too_big = _submit(_order(demo, Side.BUY, "51", tif="FOK"))
    assert (too_big.status, too_big.filled_quantity) == (OrderStatus.CANCELED, 0)
    assert not Execution.objects.filter(order=too_big).exists()
    assert not PaperVenueFill.objects.exists()
    assert _venue(too_big).closed_reason == "fok"

    fits = _submit(_order(demo, Side.BUY, "50", tif="FOK"))
    assert (fits.status, fits.filled_quantity) == (OrderStatus.FILLED, 50)
    assert _fills(fits) == [(50, D("200.10"), D("1.00"))]

    not_marketable = _submit(_order(demo, Side.BUY, "5", order_type=OrderType.LIMIT, tif="FOK", price=D("150")))
    assert (not_marketable.status, not_marketable.filled_quantity) == (OrderStatus.CANCELED, 0)


def _place(broker: PaperBroker, client_order_id: str, tif: str, now: datetime) -> PaperVenueOrder:
    request = BrokerOrderRequest(
        client_order_id=client_order_id,
        symbol="AAPL",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=D(10),
        limit_price=D("150"),
        time_in_force=tif,
    )
    broker.place_order(request, now=now)
    return PaperVenueOrder.objects.get(client_order_id=client_order_id)


def test_day_orders_expire_at_the_exchange_close(demo):
    broker = PaperBroker()
    assert _place(broker, "X-1", "DAY", NOW).expires_at == datetime(2025, 3, 3, 21, 0, tzinfo=UTC)
    # Placed on a Saturday: the Monday session's close; on the day after Thanksgiving: the 13:00 ET early close.
    assert _place(broker, "X-2", "DAY", datetime(2025, 3, 8, 15, 0, tzinfo=UTC)).expires_at == datetime(
        2025, 3, 10, 20, 0, tzinfo=UTC
    )
    assert _place(broker, "X-3", "DAY", datetime(2025, 11, 28, 15, 0, tzinfo=UTC)).expires_at == datetime(
        2025, 11, 28, 18, 0, tzinfo=UTC
    )
    assert _place(broker, "X-4", "GTC", NOW).expires_at is None


def test_orders_expire_day_moves_the_engine_order_to_expired(demo):
    day = _submit(_order(demo, Side.BUY, "10", order_type=OrderType.LIMIT, price=D("150")))
    gtc = _submit(_order(demo, Side.BUY, "10", order_type=OrderType.LIMIT, tif="GTC", price=D("150")))
    assert day.status == gtc.status == OrderStatus.ACCEPTED
    close = _venue(day).expires_at
    assert close is not None and _venue(gtc).expires_at is None

    assert orders_expire_day(now=close - timedelta(seconds=1)) == 0
    assert orders_expire_day(now=close) == 1
    day.refresh_from_db()
    gtc.refresh_from_db()
    assert (day.status, gtc.status) == (OrderStatus.EXPIRED, OrderStatus.ACCEPTED)
    expired = Event.objects.get(order=day, type="order.expired")
    assert (expired.payload["status"], expired.payload["reason"]) == ("EXPIRED", "session closed")
    assert (_venue(day).is_open, _venue(day).closed_reason) == (False, "expired")
    # Run again (beat and the embedded loop may both): nothing more happens.
    assert orders_expire_day(now=close + timedelta(days=400)) == 0


def _held_stop(demo, entry: Order) -> Order:
    """A protective stop held for the whole of a 120-share buy entry (as a signal's stop_loss makes)."""
    return Order.objects.create(
        account=demo.account,
        instrument=entry.instrument,
        strategy=demo.strategy,
        parent=entry,
        side=Side.SELL,
        order_type=OrderType.STOP,
        time_in_force="GTC",
        quantity=D(120),
        stop_price=D("190"),
        reference_price=D("190"),
    )


def test_a_partly_filled_day_entry_that_expires_releases_its_stop_for_what_filled(
    demo, liquidity, django_capture_on_commit_callbacks
):
    entry = _submit(_order(demo, Side.BUY, "120"))
    stop = _held_stop(demo, entry)
    assert (entry.status, entry.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 50)
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_expire_day(now=_venue(entry).expires_at) == 1
    entry.refresh_from_db()
    stop.refresh_from_db()
    assert entry.status == OrderStatus.EXPIRED
    assert (stop.status, stop.quantity) == (OrderStatus.ACCEPTED, 50)


def test_canceling_a_partly_filled_entry_releases_its_held_stop_for_what_filled(
    demo, liquidity, django_capture_on_commit_callbacks
):
    from trading.services import order_cancel

    entry = _submit(_order(demo, Side.BUY, "120"))
    stop = _held_stop(demo, entry)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=entry.pk, actor="trader")
    entry.refresh_from_db()
    stop.refresh_from_db()
    assert (entry.status, entry.filled_quantity) == (OrderStatus.CANCELED, 50)
    # The 50 bought stay guarded: the stop is not canceled with its entry.
    assert (stop.status, stop.quantity, _venue(stop).quantity) == (OrderStatus.ACCEPTED, 50, 50)


# Commission models ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "extra", "commission"),
    [
        ("per_share", {}, D("1.00")),
        ("per_order", {"PAPER_COMMISSION_PER_ORDER": D("4.95")}, D("4.95")),
        # 100 * 200.10 = 20,010 * 2.5 bps = 5.0025 -> 5.00
        ("bps", {"PAPER_COMMISSION_BPS": D("2.5")}, D("5.00")),
    ],
)
def test_commission_model_from_settings(demo, settings, model, extra, commission):
    settings.PAPER_COMMISSION_MODEL = model
    for name, value in extra.items():
        setattr(settings, name, value)
    order = _submit(_order(demo, Side.BUY, "100"))
    assert _fills(order) == [(100, D("200.10"), commission)]
    assert _position(demo).commissions == commission
    assert _cash(demo) == START_CASH - 100 * D("200.10") - commission


def test_commission_is_charged_per_fill(demo, settings, liquidity):
    settings.PAPER_COMMISSION_MODEL = "per_order"
    settings.PAPER_COMMISSION_PER_ORDER = D("2.00")
    order = _submit(_order(demo, Side.BUY, "100"))
    orders_trigger_on_prices({"AAPL": PRICE}, now=NOW, volumes={"AAPL": D(500)})
    assert _fills(order) == [(50, D("200.10"), D("2.00")), (50, D("200.10"), D("2.00"))]
    assert _position(demo).commissions == D("4.00")


# Partial fills ----------------------------------------------------------------------------------
def test_market_order_beyond_the_book_fills_in_parts_on_the_next_ticks(demo, liquidity):
    order = _submit(_order(demo, Side.BUY, "120"))
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 50)
    assert _venue(order).is_open

    # 10% of 400 traded since the last trigger: 40 more, at 201 * 1.0005 = 201.1005 -> 201.11.
    assert orders_trigger_on_prices({"AAPL": D("201")}, now=NOW, volumes={"AAPL": D(400)}) == 1
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 90)
    # Too little volume for a whole share: it waits.
    assert orders_trigger_on_prices({"AAPL": D("201")}, now=NOW, volumes={"AAPL": D(9)}) == 0
    assert orders_trigger_on_prices({"AAPL": D("202")}, now=NOW, volumes={"AAPL": D(5000)}) == 1
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, 120)
    assert _fills(order) == [
        (50, D("200.10"), D("1.00")),
        (40, D("201.11"), D("1.00")),
        (30, D("202.11"), D("1.00")),
    ]
    assert PaperVenueFill.objects.filter(venue_order__client_order_id=order.client_order_id).count() == 3
    assert _events(order).count("order.partially_filled") == 2
    assert _events(order).count("order.filled") == 1
    position = _position(demo)
    cost = 50 * D("200.10") + 40 * D("201.11") + 30 * D("202.11")
    average = (cost / 120).quantize(D("0.000001"))  # 200.939167
    assert (position.quantity, position.average_price) == (120, average)
    assert _cash(demo) == START_CASH - cost - D("3.00")
    assert order.average_fill_price == average


def test_orders_in_one_symbol_share_the_volume_oldest_first(demo, liquidity):
    first = _submit(_order(demo, Side.BUY, "80"))  # 50 now, 30 left
    second = _submit(_order(demo, Side.BUY, "80"))  # 50 now, 30 left
    # 10% of 400 = 40 shares in all: 30 to the first, the 10 left to the second.
    assert orders_trigger_on_prices({"AAPL": PRICE}, now=NOW, volumes={"AAPL": D(400)}) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.filled_quantity) == (OrderStatus.FILLED, 80)
    assert (second.status, second.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 60)


def test_without_a_tape_the_symbols_volume_per_interval_is_used(demo, settings):
    from trading.brokers.paper import volume_per_interval

    settings.PAPER_MAX_PARTICIPATION = D("0.1")
    settings.PAPER_TOP_OF_BOOK_SIZE = ""
    per_interval = volume_per_interval("AAPL", PRICE)
    share = (per_interval * D("0.1")).to_integral_value(rounding="ROUND_DOWN")
    assert share > 0
    order = _submit(_order(demo, Side.BUY, str(10 * share)))
    assert order.filled_quantity == share
    orders_trigger_on_prices({"AAPL": PRICE}, now=NOW)
    order.refresh_from_db()
    assert order.filled_quantity == 2 * share


def test_the_feeds_traded_volume_is_what_resting_orders_fill_against(demo, liquidity):
    from trading.core.bars import PriceUpdate
    from trading.marketdata.manager import MarketDataManager
    from trading.marketdata.runner import subscribers_wire

    order = _submit(_order(demo, Side.BUY, "100", order_type=OrderType.LIMIT, tif="GTC", price=D("195")))
    manager = MarketDataManager()
    subscribers_wire(manager)
    manager.handle_price_update(PriceUpdate("AAPL", D("194"), D("300"), NOW))
    manager.handle_price_update(PriceUpdate("AAPL", D("194"), D("200"), NOW + timedelta(milliseconds=5)))
    manager.flush(now=NOW)

    order.refresh_from_db()
    # 10% participation in the 500 shares the tape printed, not the symbol's average volume.
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 50)


def test_a_resting_limit_fills_in_parts_as_volume_trades(demo, liquidity):
    order = _submit(_order(demo, Side.BUY, "100", order_type=OrderType.LIMIT, tif="GTC", price=D("195")))
    assert (order.status, order.filled_quantity) == (OrderStatus.ACCEPTED, 0)
    orders_trigger_on_prices({"AAPL": D("194")}, now=NOW, volumes={"AAPL": D(700)})
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 70)
    # min(195, 194 * 1.0005 = 194.097 -> 194.10)
    assert _fills(order) == [(70, D("194.10"), D("1.00"))]


# Trailing stops ---------------------------------------------------------------------------------
def test_trailing_stop_follows_the_high_and_fills_on_the_retrace(demo):
    _submit(_order(demo, Side.BUY, "100"))
    trail = _submit(_order(demo, Side.SELL, "100", order_type=OrderType.TRAILING_STOP, tif="GTC", trail_amount=D("5")))
    venue = _venue(trail)
    assert (trail.status, venue.best_price, venue.stop_price) == (OrderStatus.ACCEPTED, D("200.00"), D("195.00"))

    assert orders_trigger_on_prices({"AAPL": D("210")}, now=NOW) == 0
    venue.refresh_from_db()
    assert (venue.best_price, venue.stop_price) == (D("210"), D("205"))
    assert orders_trigger_on_prices({"AAPL": D("206")}, now=NOW) == 0  # a retrace short of the trail
    venue.refresh_from_db()
    assert (venue.best_price, venue.stop_price) == (D("210"), D("205"))

    assert orders_trigger_on_prices({"AAPL": D("204.50")}, now=NOW) == 1
    trail.refresh_from_db()
    # Fills like a stop: a market sell at 204.50 * 0.9995 = 204.39775 -> 204.39.
    assert (trail.status, trail.filled_quantity) == (OrderStatus.FILLED, 100)
    assert _fills(trail) == [(100, D("204.39"), D("1.00"))]
    assert _position(demo).quantity == 0


def test_trailing_stop_in_percent_for_a_short(demo):
    trail = _submit(_order(demo, Side.BUY, "10", order_type=OrderType.TRAILING_STOP, tif="GTC", trail_percent=D("2")))
    assert _venue(trail).stop_price == D("204.00")
    orders_trigger_on_prices({"AAPL": D("190")}, now=NOW)
    assert _venue(trail).stop_price == D("193.80")
    assert orders_trigger_on_prices({"AAPL": D("193.80")}, now=NOW) == 1
    trail.refresh_from_db()
    assert trail.status == OrderStatus.FILLED


def test_trailing_stop_without_a_trail_is_rejected(demo):
    order = _submit(_order(demo, Side.SELL, "10", order_type=OrderType.TRAILING_STOP, tif="GTC"))
    assert (order.status, order.reject_code) == (OrderStatus.REJECTED, "invalid_trail")


# Brackets ---------------------------------------------------------------------------------------
def _signal(demo, django_capture_on_commit_callbacks, **fields):
    body = {
        "id": "bracket-1",
        "symbol": "AAPL",
        "signal_type": "BUY",
        "confidence_score": "0.9",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
        **fields,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/api/v1/signals/", json.dumps(body), content_type="application/json", **demo.headers()
        )
    assert response.status_code == 201, response.content
    return response.json()


def _exits(entry_id: int) -> tuple[Order, Order]:
    stop = Order.objects.get(parent_id=entry_id, order_type=OrderType.STOP)
    take_profit = Order.objects.get(parent_id=entry_id, order_type=OrderType.LIMIT)
    return stop, take_profit


def test_a_bracket_sends_both_exits_in_one_oco_group_once_the_entry_fills(demo, django_capture_on_commit_callbacks):
    answer = _signal(demo, django_capture_on_commit_callbacks, stop_loss="190", take_profit="220")
    entry = Order.objects.get(pk=answer["order_id"])
    stop, take_profit = _exits(entry.pk)
    assert (entry.status, entry.filled_quantity) == (OrderStatus.FILLED, 50)
    assert (stop.status, stop.time_in_force, stop.quantity, stop.stop_price) == ("ACCEPTED", "GTC", 50, D("190"))
    assert (take_profit.status, take_profit.time_in_force, take_profit.quantity, take_profit.price) == (
        "ACCEPTED",
        "GTC",
        50,
        D("220"),
    )
    assert stop.oco_group == take_profit.oco_group == f"OCO-{entry.client_order_id}"

    # The take profit fills: min(220, 221 * 0.9995 = 220.8895 -> 220.88) for a sell is the better 220.88.
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_trigger_on_prices({"AAPL": D("221")}, now=NOW) == 1
    stop.refresh_from_db()
    take_profit.refresh_from_db()
    assert (take_profit.status, take_profit.average_fill_price) == (OrderStatus.FILLED, D("220.88"))
    assert stop.status == OrderStatus.CANCELED
    assert Event.objects.get(order=stop, type="order.canceled").payload["reason"] == (
        "the position it guarded is closed"
    )
    assert _position(demo).quantity == 0
    assert not _venue(stop).is_open
    # A later fall finds nothing left to sell.
    assert orders_trigger_on_prices({"AAPL": D("150")}, now=NOW) == 0
    assert _position(demo).quantity == 0


def test_a_partly_filled_exit_shrinks_the_other_so_they_never_close_more_than_the_position(
    demo, settings, django_capture_on_commit_callbacks
):
    answer = _signal(demo, django_capture_on_commit_callbacks, stop_loss="190", take_profit="220")
    stop, take_profit = _exits(answer["order_id"])
    settings.PAPER_MAX_PARTICIPATION = D("0.1")

    with django_capture_on_commit_callbacks(execute=True):
        orders_trigger_on_prices({"AAPL": D("221")}, now=NOW, volumes={"AAPL": D(200)})
    stop.refresh_from_db()
    take_profit.refresh_from_db()
    assert (take_profit.status, take_profit.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 20)
    assert (stop.status, stop.quantity, _venue(stop).quantity) == (OrderStatus.ACCEPTED, 30, 30)
    assert "order.modified" in _events(stop)
    assert _position(demo).quantity == 30

    # The price falls through the stop: it sells the 30 left, and the take profit is canceled.
    prices_set({"AAPL": D("189")})
    with django_capture_on_commit_callbacks(execute=True):
        orders_trigger_on_prices({"AAPL": D("189")}, now=NOW, volumes={"AAPL": D(5000)})
    stop.refresh_from_db()
    take_profit.refresh_from_db()
    assert (stop.status, stop.filled_quantity) == (OrderStatus.FILLED, 30)
    assert (take_profit.status, take_profit.filled_quantity) == (OrderStatus.CANCELED, 20)
    assert _position(demo).quantity == 0
    sold = Execution.objects.filter(order__in=[stop, take_profit]).values_list("quantity", flat=True)
    assert sum(sold) == 50


def test_a_partly_filled_entry_is_guarded_at_once_and_its_exits_grow_with_each_fill(
    demo, settings, django_capture_on_commit_callbacks
):
    # 10% of a 200-share top of book: the 50-share entry gets 20 at placement.
    settings.PAPER_MAX_PARTICIPATION = D("0.1")
    settings.PAPER_TOP_OF_BOOK_SIZE = "200"
    answer = _signal(demo, django_capture_on_commit_callbacks, stop_loss="190", take_profit="220")
    entry = Order.objects.get(pk=answer["order_id"])
    stop, take_profit = _exits(entry.pk)
    assert (entry.status, entry.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 20)
    # The 20 bought are protected now, not when the entry completes.
    for exit_order in (stop, take_profit):
        assert (exit_order.status, exit_order.quantity, _venue(exit_order).quantity) == (OrderStatus.ACCEPTED, 20, 20)

    # 10% of 100 more: 10 shares; both exits grow to 30 at the venue.
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_trigger_on_prices({"AAPL": PRICE}, now=NOW, volumes={"AAPL": D(100)}) == 1
    for exit_order in (stop, take_profit):
        exit_order.refresh_from_db()
        assert (exit_order.status, exit_order.quantity, _venue(exit_order).quantity) == (OrderStatus.ACCEPTED, 30, 30)
        assert Event.objects.get(order=exit_order, type="order.modified").actor == "engine"

    # The price falls through the stop with volume to spare: the entry (oldest) completes first, its
    # exits grow to the whole 50, and the stop sells all of it; the take profit is canceled.
    settings.PAPER_MAX_PARTICIPATION = D("1.0")
    with django_capture_on_commit_callbacks(execute=True):
        orders_trigger_on_prices({"AAPL": D("189")}, now=NOW, volumes={"AAPL": D(5000)})
    stop.refresh_from_db()
    take_profit.refresh_from_db()
    entry.refresh_from_db()
    assert (entry.status, entry.filled_quantity) == (OrderStatus.FILLED, 50)
    assert (stop.status, stop.quantity, stop.filled_quantity) == (OrderStatus.FILLED, 50, 50)
    assert (take_profit.status, take_profit.filled_quantity) == (OrderStatus.CANCELED, 0)
    assert _position(demo).quantity == 0


def test_a_take_profit_on_the_losing_side_is_refused(demo, django_capture_on_commit_callbacks):
    body = {
        "id": "bracket-bad",
        "symbol": "AAPL",
        "signal_type": "BUY",
        "confidence_score": "0.9",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
        "stop_loss": "190",
        "take_profit": "199",
    }
    response = Client().post("/api/v1/signals/", json.dumps(body), content_type="application/json", **demo.headers())
    assert response.status_code in (201, 422), response.content
    assert not Order.objects.filter(strategy=demo.strategy).exists()
    assert (
        "invalid_take_profit" in response.content.decode()
        or Event.objects.filter(type="signal.rejected", payload__violations__0__code="invalid_take_profit").exists()
    )


def test_live_bracket_exits_do_not_count_as_opening_exposure(demo, django_capture_on_commit_callbacks):
    answer = _signal(demo, django_capture_on_commit_callbacks, stop_loss="190", take_profit="220")
    stop, take_profit = _exits(answer["order_id"])
    assert stop.status == take_profit.status == OrderStatus.ACCEPTED
    from risk.core.rules import _build_scope

    snapshot = risk_snapshot(
        account=demo.account,
        strategy=demo.strategy,
        parameters=risk_parameters_for(account=demo.account, strategy=demo.strategy),
        book=book_read(account=demo.account),
    )
    scope = _build_scope(snapshot.account_holdings, snapshot.account_orders, D("0"))
    # The two exits of one position never both fill: counted once, neither opens a short nor reserves cash.
    assert [(o.side, o.remaining_quantity, part) for o, part in scope.pending_opening] == [(Side.SELL, 50, 0)]
    assert scope.pending_reservations == 0


def test_a_day_order_expires_at_the_first_close_after_it_was_placed(db):
    from trading.brokers.paper import day_close

    Instrument.objects.get_or_create(
        symbol="DAYX", defaults={"name": "Day X", "exchange": "XNYS", "reference_price": Decimal("10")}
    )
    tuesday_close = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)  # 16:00 in New York
    assert day_close("DAYX", datetime(2026, 11, 24, 15, 0, tzinfo=UTC)) == tuesday_close
    assert day_close("DAYX", datetime(2026, 11, 24, 20, 59, tzinfo=UTC)) == tuesday_close
    # Placed after that close (asked again at once): the next session's close, not the one remembered.
    assert day_close("DAYX", datetime(2026, 11, 24, 21, 0, tzinfo=UTC)) == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    # Asked for an earlier time than remembered: worked out again, not answered from memory.
    assert day_close("DAYX", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)) == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
