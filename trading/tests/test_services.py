"""Trading services called directly: fills into positions and cash, idempotence, the state machine, the audit log.

Prices are pinned in the price cache (AAPL 200.00, MSFT 400.00) so every figure below is exact:
a MARKET BUY fills at last * (1 + 5 bps) rounded up to the cent, a SELL at last * (1 - 5 bps) rounded
down, commission max(0.005 * quantity, 1.00).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from strategies.models import TradingSignal
from strategies.services import SignalData, signal_receive
from trading.brokers.base import BrokerFill
from trading.core.orders import IllegalTransition, OrderStatus, OrderType, Side
from trading.marketdata import PRICE_KEY, prices_set
from trading.models import Account, Event, Execution, Instrument, Order, PaperVenueOrder, Position
from trading.services import execution_apply, order_cancel, order_submit, orders_trigger_on_prices

NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
START_CASH = Decimal("1000000")
PINNED = {"AAPL": Decimal("200.00"), "MSFT": Decimal("400.00")}


@pytest.fixture(autouse=True)
def pinned_prices():
    prices_set(PINNED)
    yield PINNED
    cache.delete_many([PRICE_KEY.format(symbol) for symbol in PINNED])


@pytest.fixture(autouse=True)
def default_fill_model(settings):
    # The figures in this module assume the shipped paper fill model.
    settings.PAPER_SLIPPAGE_BPS = Decimal("5")
    settings.PAPER_COMMISSION_PER_SHARE = Decimal("0.005")
    settings.PAPER_COMMISSION_MINIMUM = Decimal("1.00")


def _order(
    demo,
    symbol: str,
    side: Side,
    quantity: str,
    *,
    order_type: OrderType = OrderType.MARKET,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
    parent: Order | None = None,
) -> Order:
    instrument = Instrument.objects.get(symbol=symbol)
    return Order.objects.create(
        account=demo.account,
        instrument=instrument,
        strategy=demo.strategy,
        parent=parent,
        side=side,
        order_type=order_type,
        time_in_force=Order.TimeInForce.GTC if order_type == OrderType.STOP else Order.TimeInForce.DAY,
        quantity=Decimal(quantity),
        price=price,
        stop_price=stop_price,
        reference_price=price or stop_price or PINNED[symbol],
    )


def _resting_limit(demo, symbol: str, side: Side, quantity: str) -> Order:
    """A limit order far from the market: submitted, accepted, resting at the paper venue, unfilled."""
    far = Decimal("1.00") if side is Side.BUY else Decimal("1000000")
    order = _order(demo, symbol, side, quantity, order_type=OrderType.LIMIT, price=far)
    order_submit(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert order.filled_quantity == 0
    return order


def _fill(order: Order, exec_id: str, quantity: str, price: str, commission: str = "1.00") -> Execution | None:
    return execution_apply(
        fill=BrokerFill(
            exec_id=exec_id,
            client_order_id=order.client_order_id,
            quantity=Decimal(quantity),
            price=Decimal(price),
            commission=Decimal(commission),
            executed_at=NOW,
        )
    )


def _position(demo, symbol: str) -> Position:
    return Position.objects.get(account=demo.account, strategy=demo.strategy, instrument__symbol=symbol)


def _cash(demo) -> Decimal:
    return Account.objects.get(pk=demo.account.pk).cash


def _book(demo, symbol: str) -> tuple:
    position = _position(demo, symbol)
    return (
        position.quantity,
        position.average_price,
        position.realized_pnl,
        position.commissions,
        _cash(demo),
        Execution.objects.count(),
        Event.objects.count(),
    )


def test_fills_move_position_average_price_realized_pnl_and_cash(demo):
    assert _cash(demo) == START_CASH

    # Open: buy 100 @ 50.
    buy = _resting_limit(demo, "AAPL", Side.BUY, "100")
    execution = _fill(buy, "T-1", "100", "50.00")
    assert execution is not None and execution.quantity == 100 and execution.price == Decimal("50.00")
    position = _position(demo, "AAPL")
    assert (position.quantity, position.average_price) == (Decimal(100), Decimal(50))
    assert position.realized_pnl == Decimal("-1.00")  # the commission
    assert _cash(demo) == Decimal("994999.00")
    buy.refresh_from_db()
    assert (buy.status, buy.filled_quantity, buy.average_fill_price) == (OrderStatus.FILLED, 100, Decimal(50))

    # Add: buy 100 @ 60 -> 200 @ 55.
    add = _resting_limit(demo, "AAPL", Side.BUY, "100")
    _fill(add, "T-2", "100", "60.00")
    position = _position(demo, "AAPL")
    assert (position.quantity, position.average_price) == (Decimal(200), Decimal(55))
    assert position.realized_pnl == Decimal("-2.00")
    assert _cash(demo) == Decimal("988998.00")

    # Partial reduce: one SELL 250 order, first fill 50 @ 70 -> 150 left @ 55, realized +750.
    sell = _resting_limit(demo, "AAPL", Side.SELL, "250")
    _fill(sell, "T-3", "50", "70.00")
    sell.refresh_from_db()
    assert (sell.status, sell.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal(50))
    position = _position(demo, "AAPL")
    assert (position.quantity, position.average_price) == (Decimal(150), Decimal(55))
    assert position.realized_pnl == Decimal("747.00")  # -2 + 15 * 50 - 1
    assert _cash(demo) == Decimal("992497.00")

    # Flip long -> short: the rest, 200 @ 40, closes 150 (loss 15 each) and opens 50 short @ 40.
    _fill(sell, "T-4", "200", "40.00")
    sell.refresh_from_db()
    assert (sell.status, sell.filled_quantity) == (OrderStatus.FILLED, Decimal(250))
    assert sell.average_fill_price == Decimal("46")  # (50 * 70 + 200 * 40) / 250
    position = _position(demo, "AAPL")
    assert (position.quantity, position.average_price) == (Decimal(-50), Decimal(40))
    assert position.realized_pnl == Decimal("-1504.00")  # 747 - 15 * 150 - 1
    assert position.commissions == Decimal("4.00")
    assert _cash(demo) == Decimal("1000496.00")
    # Conservation: cash moved + open quantity at the last fill price == realized + unrealized.
    assert (_cash(demo) - START_CASH) + position.quantity * Decimal(40) == position.realized_pnl
    assert Execution.objects.filter(account=demo.account).count() == 4


def test_a_redelivered_fill_changes_nothing(demo):
    order = _resting_limit(demo, "MSFT", Side.BUY, "30")
    assert _fill(order, "DUP-1", "10", "390.00") is not None
    before = _book(demo, "MSFT")
    assert before[:5] == (Decimal(10), Decimal(390), Decimal("-1.00"), Decimal("1.00"), Decimal("996099.00"))

    assert _fill(order, "DUP-1", "10", "390.00") is None
    assert _book(demo, "MSFT") == before
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal(10))
    assert Execution.objects.filter(exec_id="DUP-1").count() == 1


def test_order_submit_twice_sends_one_order(demo):
    order = _order(demo, "AAPL", Side.BUY, "10")
    order_submit(order_id=order.pk)
    events_after_first = Event.objects.count()

    again = order_submit(order_id=order.pk)

    assert again.status == OrderStatus.FILLED
    assert PaperVenueOrder.objects.filter(client_order_id=order.client_order_id).count() == 1
    execution = Execution.objects.get(order=order)
    assert execution.quantity == 10
    assert execution.price == Decimal("200.10")  # 200.00 + 5 bps
    assert execution.commission == Decimal("1.00")
    assert Event.objects.count() == events_after_first
    assert _cash(demo) == Decimal("997998.00")  # 1,000,000 - 10 * 200.10 - 1.00
    assert _position(demo, "AAPL").quantity == 10


def test_order_not_in_new_is_left_alone(demo):
    order = _order(demo, "AAPL", Side.BUY, "10")
    order_cancel(order_id=order.pk, actor="trader")  # never sent: canceled locally
    events_before = Event.objects.count()

    result = order_submit(order_id=order.pk)

    assert result.status == OrderStatus.CANCELED
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert order.broker_order_id == ""
    assert not PaperVenueOrder.objects.filter(client_order_id=order.client_order_id).exists()
    assert not Execution.objects.filter(order=order).exists()
    assert Event.objects.count() == events_before
    assert _cash(demo) == START_CASH


def test_protective_order_waits_for_its_entry(demo):
    entry = _resting_limit(demo, "AAPL", Side.BUY, "10")
    stop = _order(demo, "AAPL", Side.SELL, "10", order_type=OrderType.STOP, stop_price=Decimal("180.00"), parent=entry)

    order_submit(order_id=stop.pk)

    stop.refresh_from_db()
    assert stop.status == OrderStatus.NEW
    assert not PaperVenueOrder.objects.filter(client_order_id=stop.client_order_id).exists()


def test_resting_stop_fills_exactly_once(demo):
    entry = _order(demo, "AAPL", Side.BUY, "10")
    order_submit(order_id=entry.pk)
    stop = _order(demo, "AAPL", Side.SELL, "10", order_type=OrderType.STOP, stop_price=Decimal("190.00"))
    order_submit(order_id=stop.pk)
    stop.refresh_from_db()
    assert stop.status == OrderStatus.ACCEPTED
    assert PaperVenueOrder.objects.get(client_order_id=stop.client_order_id).is_open

    # Above the stop: nothing happens.
    assert orders_trigger_on_prices({"AAPL": Decimal("195.00")}, now=NOW) == 0
    first = orders_trigger_on_prices({"AAPL": Decimal("185.00")}, now=NOW)
    second = orders_trigger_on_prices({"AAPL": Decimal("185.00")}, now=NOW + timedelta(seconds=1))

    assert (first, second) == (1, 0)
    stop.refresh_from_db()
    assert (stop.status, stop.filled_quantity) == (OrderStatus.FILLED, Decimal(10))
    execution = Execution.objects.get(order=stop)
    assert execution.price == Decimal("184.90")  # 185.00 - 5 bps, rounded down to the cent
    assert not PaperVenueOrder.objects.get(client_order_id=stop.client_order_id).is_open
    position = _position(demo, "AAPL")
    assert position.quantity == 0
    assert position.realized_pnl == Decimal("-154.00")  # (184.90 - 200.10) * 10 - 2 commissions
    assert _cash(demo) == Decimal("999846.00")  # -2001.00 - 1.00 + 1849.00 - 1.00


def test_cancel_a_resting_limit_then_cancel_again(demo):
    order = _resting_limit(demo, "MSFT", Side.BUY, "5")

    order_cancel(order_id=order.pk, actor="trader")

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert not PaperVenueOrder.objects.get(client_order_id=order.client_order_id).is_open
    events_before = Event.objects.count()
    with pytest.raises(IllegalTransition):
        order_cancel(order_id=order.pk, actor="trader")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert Event.objects.count() == events_before
    assert list(Event.objects.filter(order=order).order_by("id").values_list("type", "actor")) == [
        ("order.submitted", ""),
        ("order.accepted", ""),
        ("order.pending_cancel", "trader"),
        ("order.canceled", "trader"),
    ]


def test_every_state_change_of_one_signal_wrote_an_event(demo_committed, celery_worker, wait):
    demo = demo_committed
    last_event_id = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0

    signal, created = signal_receive(
        producer=demo.trader,
        strategy=demo.strategy,
        data=SignalData(
            external_id="events-1",
            symbol="AAPL",
            signal_type="BUY",
            confidence_score=Decimal("0.9"),
            position_size=Decimal("0.1"),  # 10,000 of 100,000 at 200.00 -> 50 shares
            expires_at=timezone.now() + timedelta(hours=1),
        ),
    )

    assert created
    order = Order.objects.get(signal=signal, parent__isnull=True)
    wait(lambda: TradingSignal.objects.get(pk=signal.pk).status == TradingSignal.Status.EXECUTED)
    order.refresh_from_db()
    assert (order.status, order.quantity, order.average_fill_price) == (
        OrderStatus.FILLED,
        Decimal(50),
        Decimal("200.10"),
    )
    events = list(Event.objects.filter(id__gt=last_event_id).order_by("id"))
    assert [e.type for e in events] == [
        "signal.received",
        "order.created",
        "signal.accepted",
        "order.submitted",
        "order.accepted",
        "execution.created",
        "order.filled",
        "position.updated",
        "account.updated",
        "signal.executed",
    ]
    assert {e.account_id for e in events} == {demo.account.pk}
    assert [e.order_id for e in events] == [None, *[order.pk] * 7, None, order.pk]
    assert [e.signal_id for e in events] == [signal.pk] * 7 + [None, None, signal.pk]
    assert Decimal(events[-2].payload["cash"]) == Decimal("989994.00")  # 1,000,000 - 50 * 200.10 - 1.00
    assert _cash(demo) == Decimal("989994.00")
