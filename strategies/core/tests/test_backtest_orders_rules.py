"""The backtester's orders: what a new order holds, its resting level, and fills booked along the state machine."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from strategies.core.backtest.orders import SimOrder, order_event
from trading.core.orders import IllegalTransition, OrderStatus, OrderTrigger, OrderType, Side

D = Decimal
AT = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def order(order_type: OrderType = OrderType.MARKET, quantity: str = "10", **prices: Decimal) -> SimOrder:
    return SimOrder(
        7, "ACME", Side.BUY, order_type, D(quantity), created_at=AT, reference_price=D(100), purpose="entry", **prices
    )


def accepted(**kwargs) -> SimOrder:
    made = order(**kwargs)
    order_event(made, OrderTrigger.SUBMIT)
    order_event(made, OrderTrigger.ACCEPT)
    return made


def test_a_new_order_holds_what_it_was_given_and_nothing_filled() -> None:
    made = SimOrder(
        3,
        "ACME",
        Side.SELL,
        OrderType.LIMIT,
        D(5),
        created_at=AT,
        reference_price=D("99.5"),
        purpose="take_profit",
        signal_id="sig-1",
        limit_price=D(101),
        stop_price=D(98),
    )
    assert (made.id, made.symbol, made.side, made.order_type, made.quantity) == (
        3,
        "ACME",
        Side.SELL,
        OrderType.LIMIT,
        D(5),
    )
    assert (made.created_at, made.reference_price, made.purpose, made.signal_id) == (
        AT,
        D("99.5"),
        "take_profit",
        "sig-1",
    )
    assert (made.limit_price, made.stop_price) == (D(101), D(98))
    assert made.status is OrderStatus.NEW
    assert made.filled_quantity == 0 and made.remaining_quantity == D(5)
    assert made.average_price is None and made.oco is None
    plain = order()
    assert (plain.signal_id, plain.limit_price, plain.stop_price) == (None, None, None)


def test_the_resting_level_is_the_stop_for_a_stop_and_the_limit_otherwise() -> None:
    assert order(OrderType.STOP, stop_price=D(95), limit_price=D(90)).level == D(95)
    assert order(OrderType.LIMIT, stop_price=D(95), limit_price=D(90)).level == D(90)
    with pytest.raises(AssertionError):
        order(OrderType.STOP, limit_price=D(90)).level  # noqa: B018


def test_repr_names_the_order() -> None:
    assert repr(order()) == "<SimOrder 7 entry BUY 10 ACME MARKET NEW>"
    assert repr(order(OrderType.LIMIT, limit_price=D(99))) == "<SimOrder 7 entry BUY 10 ACME LIMIT @ 99 NEW>"
    assert repr(order(OrderType.STOP, stop_price=D(98))) == "<SimOrder 7 entry BUY 10 ACME STOP @ 98 NEW>"


def test_fills_book_the_quantity_and_the_weighted_average_price() -> None:
    made = accepted()
    assert made.status is OrderStatus.ACCEPTED and made.average_price is None
    assert order_event(made, OrderTrigger.PARTIAL_FILL, quantity=D(4), price=D(100)) is OrderStatus.PARTIALLY_FILLED
    assert (made.filled_quantity, made.average_price, made.remaining_quantity) == (D(4), D(100), D(6))
    assert order_event(made, OrderTrigger.FILL, quantity=D(6), price=D(105)) is OrderStatus.FILLED
    # (4 * 100 + 6 * 105) / 10
    assert (made.filled_quantity, made.average_price, made.remaining_quantity) == (D(10), D(103), D(0))
    assert made.status is OrderStatus.FILLED


def test_a_first_fill_books_its_own_price() -> None:
    made = accepted()
    order_event(made, OrderTrigger.FILL, quantity=D(10), price=D("101.25"))
    assert (made.filled_quantity, made.average_price) == (D(10), D("101.25"))


@pytest.mark.parametrize("missing", ["quantity", "price"])
def test_a_fill_needs_a_quantity_and_a_price(missing: str) -> None:
    made = accepted()
    given = {"quantity": D(10), "price": D(100)}
    del given[missing]
    with pytest.raises(ValueError, match=r"^A fill needs a quantity and a price\.$"):
        order_event(made, OrderTrigger.FILL, **given)
    partial = accepted()
    with pytest.raises(ValueError, match=r"^A fill needs a quantity and a price\.$"):
        order_event(partial, OrderTrigger.PARTIAL_FILL, **given)


def test_other_triggers_move_the_status_only() -> None:
    made = accepted()
    assert order_event(made, OrderTrigger.CANCEL, quantity=D(3), price=D(1)) is OrderStatus.CANCELED
    assert (made.status, made.filled_quantity, made.average_price) == (OrderStatus.CANCELED, 0, None)
    rejected = order()
    assert order_event(rejected, OrderTrigger.REJECT) is OrderStatus.REJECTED


def test_an_illegal_move_raises_and_leaves_the_order() -> None:
    made = order()
    with pytest.raises(IllegalTransition):
        order_event(made, OrderTrigger.FILL, quantity=D(1), price=D(1))
    assert (made.status, made.filled_quantity, made.average_price) == (OrderStatus.NEW, 0, None)
