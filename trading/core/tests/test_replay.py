"""Event replay, pure: folding an account's events gives back its orders, positions and cash, and every
difference with the tables is named."""

from decimal import Decimal

import pytest

from trading.core.positions import PositionState
from trading.core.replay import Difference, LoggedEvent, ReplayedBook, differences, replay
from trading.core.verdicts import Violation

D = Decimal
OPENED, FILL = "account.opened", "execution.created"


def fill(strategy_id, symbol, side, quantity, price, commission="0"):
    payload = {"symbol": symbol, "side": side, "quantity": quantity, "price": price, "commission": commission}
    return LoggedEvent(FILL, 1, strategy_id, payload)


def order_event(order_id, status, quantity="10", filled="0", average=None, price=None, stop=None, kind="order.x"):
    payload = {
        "client_order_id": f"QL-{order_id}",
        "status": status,
        "quantity": quantity,
        "filled_quantity": filled,
        "average_fill_price": average,
        "price": price,
        "stop_price": stop,
    }
    return LoggedEvent(kind, order_id, 7, payload)


def test_cash_starts_at_the_opening_and_moves_with_each_fill_and_its_commission():
    book = replay(
        [
            LoggedEvent(OPENED, None, None, {"cash": "1000"}),
            fill(7, "AAPL", "BUY", "3", "100", "1.5"),
            fill(7, "AAPL", "SELL", "1", "110", "0.5"),
        ],
        opened=OPENED,
        fill=FILL,
    )
    # 1000 - 300 - 1.5 + 110 - 0.5
    assert book.cash == D("808.0")
    # realized: 10 gained on the share sold, less both commissions (the position's P&L is net of them)
    assert book.positions == {(7, "AAPL"): PositionState(D(2), D(100), D("8.0"), D("2.0"))}


def test_without_an_opening_cash_is_unknown_and_fills_do_not_invent_it():
    book = replay([fill(7, "AAPL", "BUY", "3", "100")], opened=OPENED, fill=FILL)
    assert book.cash is None
    assert book.positions[(7, "AAPL")].quantity == 3


def test_a_fill_without_a_commission_costs_nothing_and_positions_are_kept_per_strategy_and_symbol():
    events = [
        LoggedEvent(OPENED, None, None, {"cash": "500"}),
        LoggedEvent(FILL, 1, None, {"symbol": "KO", "side": "SELL", "quantity": "2", "price": "50"}),
        fill(8, "KO", "BUY", "1", "40"),
        fill(7, "KO", "BUY", "1", "41"),
    ]
    book = replay(events, opened=OPENED, fill=FILL)
    assert book.cash == D(500 + 100 - 40 - 41)
    assert set(book.positions) == {(None, "KO"), (8, "KO"), (7, "KO")}
    assert book.positions[(None, "KO")].quantity == -2


def test_an_orders_last_event_is_the_order_now_and_events_without_its_state_are_ignored():
    events = [
        order_event(5, "NEW"),
        order_event(5, "ACCEPTED", price="9.5"),
        LoggedEvent("reconcile.fills_booked", 5, 7, {"fills": 1}),  # names the order but carries no state
        LoggedEvent("signal.accepted", None, 7, {"client_order_id": "x", "status": "odd"}),  # no order
        order_event(5, "PARTIALLY_FILLED", filled="4", average="9.4", price="9.5"),
    ]
    book = replay(events, opened=OPENED, fill=FILL)
    assert book.orders == {
        5: {
            "status": "PARTIALLY_FILLED",
            "quantity": "10",
            "filled_quantity": "4",
            "average_fill_price": "9.4",
            "price": "9.5",
            "stop_price": None,
        }
    }
    assert book.cash is None and book.positions == {}


def _stored_order(status="FILLED", **fields):
    row = {"status": status, "quantity": D(10), "filled_quantity": D(10), "average_fill_price": D("9.4")}
    return {"price": None, "stop_price": None, **row, **fields}


def test_a_book_that_matches_its_tables_has_no_difference():
    book = replay(
        [
            LoggedEvent(OPENED, None, None, {"cash": "1000"}),
            order_event(5, "FILLED", filled="10", average="9.400000"),
            fill(7, "AAPL", "BUY", "10", "9.4"),
        ],
        opened=OPENED,
        fill=FILL,
    )
    positions = {(7, "AAPL"): {"quantity": D(10), "average_price": D("9.4"), "realized_pnl": 0, "commissions": 0}}
    assert differences(book, cash=D(906), orders={5: _stored_order()}, positions=positions) == []


def test_cash_unknown_or_different_is_named():
    assert differences(ReplayedBook(), cash=D(5), orders={}, positions={}) == [
        Difference("account", "cash", "cash", None, D(5))
    ]
    assert differences(ReplayedBook(cash=D(4)), cash=D(5), orders={}, positions={}) == [
        Difference("account", "cash", "cash", D(4), D(5))
    ]


def test_an_order_only_in_the_table_or_only_in_the_log_is_named():
    book = ReplayedBook(cash=D(1), orders={1: {"status": "NEW"}})
    found = differences(book, cash=D(1), orders={2: _stored_order()}, positions={})
    assert found == [
        Difference("order", "1", "exists", True, False),
        Difference("order", "2", "exists", False, True),
    ]


@pytest.mark.parametrize(
    ("field", "stored", "logged"),
    [
        ("status", "CANCELED", "FILLED"),
        ("quantity", D(11), "10"),
        ("filled_quantity", D(9), "10"),
        ("average_fill_price", D("9.41"), "9.4"),
        ("price", D(1), None),
        ("stop_price", None, "8"),
    ],
)
def test_each_order_field_that_differs_is_named_decimals_compared_as_numbers(field, stored, logged):
    replayed = {"status": "FILLED", "quantity": "10.000000", "filled_quantity": "10", "average_fill_price": "9.4"}
    replayed |= {"price": None, "stop_price": None, field: logged}
    book = ReplayedBook(cash=D(1), orders={3: replayed})
    found = differences(book, cash=D(1), orders={3: _stored_order(**{field: stored})}, positions={})
    expected_logged = logged if field == "status" or logged is None else D(logged)
    assert found == [Difference("order", "3", field, expected_logged, stored)]


def test_each_position_field_that_differs_is_named_and_a_missing_side_counts_as_flat():
    book = ReplayedBook(cash=D(1), positions={(7, "AAPL"): PositionState(D(2), D(10), D(3), D("0.5"))})
    stored = {
        (7, "AAPL"): {"quantity": D(2), "average_price": D(11), "realized_pnl": D(3), "commissions": D("0.5")},
        (None, "KO"): {"quantity": D(1), "average_price": D(5), "realized_pnl": D(0), "commissions": D(0)},
    }
    found = differences(book, cash=D(1), orders={}, positions=stored)
    assert found == [
        Difference("position", "strategy None KO", "quantity", D(0), D(1)),
        Difference("position", "strategy None KO", "average_price", D(0), D(5)),
        Difference("position", "strategy 7 AAPL", "average_price", D(10), D(11)),
    ]


def test_a_flat_positions_average_price_is_not_compared_but_a_flat_one_held_in_the_log_is():
    book = ReplayedBook(cash=D(1), positions={(7, "KO"): PositionState(D(0), D(40), D(5), D(1))})
    flat = {(7, "KO"): {"quantity": D(0), "average_price": D(0), "realized_pnl": D(5), "commissions": D(1)}}
    assert differences(book, cash=D(1), orders={}, positions=flat) == []
    # Held in the table but flat in the log: its average price is compared like the rest.
    held = {(7, "KO"): {"quantity": D(3), "average_price": D(40), "realized_pnl": D(5), "commissions": D(1)}}
    assert differences(book, cash=D(1), orders={}, positions=held) == [
        Difference("position", "strategy 7 KO", "quantity", D(0), D(3)),
    ]
    # In the log but absent from the table: every non-zero field is named.
    assert differences(book, cash=D(1), orders={}, positions={}) == [
        Difference("position", "strategy 7 KO", "realized_pnl", D(5), D(0)),
        Difference("position", "strategy 7 KO", "commissions", D(1), D(0)),
    ]


def test_positions_are_reported_in_strategy_then_symbol_order():
    book = ReplayedBook(
        cash=D(1),
        positions={
            (9, "B"): PositionState(D(1), D(1)),
            (2, "Z"): PositionState(D(1), D(1)),
            (2, "A"): PositionState(D(1), D(1)),
            (None, "M"): PositionState(D(1), D(1)),
        },
    )
    found = differences(book, cash=D(1), orders={}, positions={})
    assert [d.key for d in found if d.field == "quantity"] == [
        "strategy None M",
        "strategy 2 A",
        "strategy 2 Z",
        "strategy 9 B",
    ]


def test_a_difference_reads_as_a_sentence():
    assert str(Difference("order", "3", "status", "FILLED", "CANCELED")) == "order 3 status: log FILLED, table CANCELED"


def test_a_violation_as_json_keeps_its_figures_as_exact_strings():
    assert Violation("max_position_size_exceeded", "Too big.", D("10.50"), D("12")).as_dict() == {
        "code": "max_position_size_exceeded",
        "message": "Too big.",
        "limit": "10.50",
        "actual": "12",
    }
    assert Violation("unknown_symbol", "No.").as_dict() == {
        "code": "unknown_symbol",
        "message": "No.",
        "limit": None,
        "actual": None,
    }


def test_a_manual_position_sorts_before_strategy_one_and_an_empty_figure_reads_as_none():
    book = ReplayedBook(
        cash=D(1), positions={(1, "A"): PositionState(D(1), D(1)), (None, "M"): PositionState(D(1), D(1))}
    )
    found = differences(book, cash=D(1), orders={}, positions={})
    assert [d.key for d in found if d.field == "quantity"] == ["strategy None M", "strategy 1 A"]
    # An order's figure written as an empty string is no figure, like null.
    replayed = {"status": "NEW", "quantity": "10", "filled_quantity": "0", "average_fill_price": "", "price": ""}
    stored = {"status": "NEW", "quantity": D(10), "filled_quantity": D(0), "average_fill_price": None, "price": None}
    assert (
        differences(
            ReplayedBook(cash=D(1), orders={4: replayed | {"stop_price": None}}),
            cash=D(1),
            orders={4: stored | {"stop_price": None}},
            positions={},
        )
        == []
    )
