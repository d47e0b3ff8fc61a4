"""The Interactive Brokers adapter: the real ib_async client against a fake TWS on 127.0.0.1."""

import queue
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.fake_tws import FakeTWS
from trading.brokers.base import BrokerError, BrokerErrorCategory, BrokerFill, BrokerOrderRequest, BrokerPosition
from trading.brokers.ib import InteractiveBrokersBroker, error_category, ib_sessions_close
from trading.core.orders import OrderType, Side

NOW = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)


def order(client_order_id: str, order_type: OrderType = OrderType.MARKET, **fields) -> BrokerOrderRequest:
    values = {"symbol": "AAPL", "side": Side.BUY, "quantity": Decimal("10"), **fields}
    return BrokerOrderRequest(client_order_id=client_order_id, order_type=order_type, **values)


@pytest.fixture
def fake() -> Iterator[FakeTWS]:
    fake = FakeTWS()
    fake.port = fake.start()
    yield fake
    ib_sessions_close()
    fake.stop()


@pytest.fixture
def ib_settings(fake, settings):
    settings.IB_HOST = "127.0.0.1"
    settings.IB_PORT = fake.port
    settings.IB_CLIENT_ID = 17
    settings.IB_ACCOUNT = ""
    settings.IB_TIMEOUT_SECONDS = 3
    return settings


@pytest.fixture
def broker(ib_settings) -> InteractiveBrokersBroker:
    return InteractiveBrokersBroker()


@pytest.fixture
def fills(broker) -> "queue.Queue[BrokerFill]":
    received: queue.Queue[BrokerFill] = queue.Queue()
    broker.on_fill = received.put
    return received


def test_connects_with_the_client_id_and_handshake(broker, fake):
    assert broker.find_order("never-sent") is None
    assert broker.is_connected()
    start_api = fake.messages(71)
    assert len(start_api) == 1 and start_api[0][2] == "17"
    assert fake.messages(61), "the client asked for positions while synchronizing"


def test_market_order_is_accepted_and_fills_with_commission(broker, fake, fills):
    fake.set_fill_price("AAPL", Decimal("187.25"))
    fake.commission = Decimal("1.37")
    started = datetime.now(UTC) - timedelta(seconds=5)

    result = broker.place_order(order("c-mkt-1"), now=NOW)

    assert result.state.accepted and not result.already_held
    assert result.state.client_order_id == "c-mkt-1"
    fill = fills.get(timeout=5)
    assert fill.client_order_id == "c-mkt-1"
    assert (fill.quantity, fill.price, fill.commission) == (Decimal("10"), Decimal("187.25"), Decimal("1.37"))
    assert fill.executed_at.tzinfo is not None
    assert broker.fills_since(started) == [fill]
    assert broker.fills_for("c-mkt-1") == [fill]
    placed = fake.placed()
    assert len(placed) == 1
    assert placed[0][26] == "c-mkt-1", "our client order id travels as orderRef"
    assert (placed[0][16], placed[0][18], placed[0][21]) == ("BUY", "MKT", "DAY")
    state = broker.find_order("c-mkt-1")
    assert state.filled_quantity == Decimal("10") and not state.is_open


def test_placing_the_same_client_order_id_twice_sends_one_order(broker, fake):
    first = broker.place_order(order("c-twice", OrderType.LIMIT, limit_price=Decimal("90")), now=NOW)
    second = broker.place_order(order("c-twice", OrderType.LIMIT, limit_price=Decimal("90")), now=NOW)

    assert not first.already_held and second.already_held
    assert second.state.broker_order_id == first.state.broker_order_id
    assert len(fake.placed()) == 1


def test_limit_order_rests_until_the_venue_fills_it(broker, fake, fills, wait):
    result = broker.place_order(order("c-lmt", OrderType.LIMIT, limit_price=Decimal("99.50")), now=NOW)

    assert result.state.accepted and result.state.is_open and result.fills == ()
    assert [s.client_order_id for s in broker.open_orders()] == ["c-lmt"]
    assert fake.placed()[0][19] == "99.5"
    assert fills.empty()

    fake.fill(fake.order_by_ref("c-lmt").order_id, Decimal("99.40"))

    fill = fills.get(timeout=5)
    assert (fill.client_order_id, fill.price, fill.quantity) == ("c-lmt", Decimal("99.4"), Decimal("10"))
    wait(lambda: not broker.find_order("c-lmt").is_open, timeout=5)
    assert broker.open_orders() == []


def test_cancel_leaves_the_order_closed(broker, fake):
    broker.place_order(order("c-cancel", OrderType.STOP, side=Side.SELL, stop_price=Decimal("80")), now=NOW)

    state = broker.cancel_order("c-cancel", now=NOW)

    assert state.accepted and not state.is_open and state.filled_quantity == 0
    assert [m[2] for m in fake.messages(4)] == [str(fake.order_by_ref("c-cancel").order_id)]
    assert broker.open_orders() == []


def test_modify_changes_a_working_order_and_refuses_a_done_one(broker, fake):
    broker.place_order(order("c-modify", OrderType.LIMIT, limit_price=Decimal("95")), now=NOW)

    state = broker.modify_order("c-modify", quantity=Decimal("15"), limit_price=Decimal("96.5"), now=NOW)

    assert state.is_open and state.accepted
    held = fake.order_by_ref("c-modify")
    assert (held.quantity, held.limit_price) == (Decimal("15"), "96.5")
    assert len({m[1] for m in fake.placed()}) == 1, "a change reuses the order id"
    broker.cancel_order("c-modify", now=NOW)
    with pytest.raises(BrokerError) as raised:
        broker.modify_order("c-modify", quantity=Decimal("20"), now=NOW)
    assert raised.value.code == "order_not_working"


def test_cancel_of_an_unknown_order_is_a_rejection(broker):
    with pytest.raises(BrokerError) as raised:
        broker.cancel_order("never-sent", now=NOW)
    assert raised.value.category == BrokerErrorCategory.REJECTION and not raised.value.is_retryable


def test_rejected_order_comes_back_not_accepted_with_the_reason(broker, fake):
    fake.reject_next(201, "Order rejected - reason:Insufficient buying power")

    result = broker.place_order(order("c-rejected"), now=NOW)

    assert not result.state.accepted and not result.state.is_open
    assert result.state.reject_code == "broker_rejected"
    assert "Insufficient buying power" in result.state.reject_message
    assert broker.find_order("c-rejected").accepted is False


def test_dropped_connection_raises_once_then_reconnects(broker, fake, wait):
    broker.place_order(order("c-before-drop"), now=NOW)

    fake.drop_connection()
    wait(lambda: not broker.is_connected(), timeout=5)

    with pytest.raises(BrokerError) as raised:
        broker.place_order(order("c-after-drop"), now=NOW)
    assert raised.value.category == BrokerErrorCategory.CONNECTION
    assert raised.value.code == "broker_disconnected" and raised.value.is_retryable

    result = broker.place_order(order("c-after-drop"), now=NOW)
    assert result.state.accepted and not result.already_held
    assert fake.connections == 2
    again = broker.place_order(order("c-before-drop"), now=NOW)
    assert again.already_held, "the order placed before the drop is found again, not placed twice"
    assert [m[26] for m in fake.placed()] == ["c-before-drop", "c-after-drop"]


def test_drop_while_waiting_for_the_ack_is_a_connection_error(broker, fake, wait):
    broker.find_order("warm-up")
    fake.delay_acks(30)
    outcome: list[BaseException] = []

    def place() -> None:
        try:
            broker.place_order(order("c-in-flight"), now=NOW)
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=place)
    worker.start()
    wait(lambda: fake.placed(), timeout=5)
    fake.drop_connection()
    worker.join(timeout=10)

    assert len(outcome) == 1 and isinstance(outcome[0], BrokerError)
    assert outcome[0].category == BrokerErrorCategory.CONNECTION


def test_slow_ack_times_out_retryably_and_the_retry_finds_the_order(fake, ib_settings, wait):
    ib_settings.IB_TIMEOUT_SECONDS = 0.5
    broker = InteractiveBrokersBroker()
    broker.find_order("warm-up")
    fake.delay_acks(1.0)

    with pytest.raises(BrokerError) as raised:
        broker.place_order(order("c-slow"), now=NOW)
    assert raised.value.category == BrokerErrorCategory.CONNECTION and raised.value.is_retryable

    wait(lambda: broker.find_order("c-slow").filled_quantity == Decimal("10"), timeout=5)
    retry = broker.place_order(order("c-slow"), now=NOW)
    assert retry.already_held
    assert len(fake.placed()) == 1


def test_refused_connection_is_a_retryable_connection_error(ib_settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        ib_settings.IB_PORT = sock.getsockname()[1]  # bound, not listening: the connection is refused
        with pytest.raises(BrokerError) as raised:
            InteractiveBrokersBroker().find_order("anything")
    assert raised.value.category == BrokerErrorCategory.CONNECTION and raised.value.is_retryable


def test_positions_and_account_values_are_decimals(broker, fake):
    fake.set_positions([("AAPL", Decimal("10"), Decimal("150.25")), ("MSFT", Decimal("-5"), Decimal("410.1"))])
    fake.set_account_values({"NetLiquidation": "100250.50", "BuyingPower": "400000.10", "AccountType": "INDIVIDUAL"})

    assert broker.positions() == [
        BrokerPosition("AAPL", Decimal("10"), Decimal("150.25")),
        BrokerPosition("MSFT", Decimal("-5"), Decimal("410.1")),
    ]
    values = broker.account_values()
    assert values["NetLiquidation"] == Decimal("100250.50")
    assert values["BuyingPower"] == Decimal("400000.10")
    assert all(isinstance(v, Decimal) for v in values.values())
    assert "AccountType" not in values


def test_price_ticks_reach_the_subscriber(broker, fake, wait):
    prices: queue.Queue[tuple[str, Decimal, datetime]] = queue.Queue()

    broker.subscribe_prices(["AAPL"], lambda symbol, price, at: prices.put((symbol, price, at)))
    wait(lambda: fake.tick("AAPL", Decimal("101.37")), timeout=5)

    symbol, price, at = prices.get(timeout=5)
    assert (symbol, price) == ("AAPL", Decimal("101.37"))
    assert at.tzinfo is not None


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (100, BrokerErrorCategory.RATE_LIMIT),
        (326, BrokerErrorCategory.CONNECTION),
        (502, BrokerErrorCategory.CONNECTION),
        (1100, BrokerErrorCategory.CONNECTION),
        (2110, BrokerErrorCategory.CONNECTION),
        (10141, BrokerErrorCategory.AUTHENTICATION),
        (201, None),
        (202, None),
        (2104, None),
    ],
)
def test_error_codes_map_to_categories(code, category):
    assert error_category(code) == category


@pytest.mark.parametrize(
    ("trail", "field"), [({"trail_percent": Decimal("2.5")}, "2.5"), ({"trail_amount": Decimal("3")}, "3.0")]
)
def test_a_trailing_stop_goes_to_ib_as_a_trail_order(broker, fake, trail, field):
    result = broker.place_order(order("c-trail", OrderType.TRAILING_STOP, side=Side.SELL, **trail), now=NOW)
    assert result.state.accepted
    (placed,) = fake.placed()
    assert placed[18] == "TRAIL"
    assert field in placed  # the trail travels as auxPrice or trailingPercent
