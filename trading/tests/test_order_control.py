"""Manual control over REST: cancel, modify, close a position; protective orders follow their position."""

import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.roles import TRADER, role_add
from trading.core.orders import OrderStatus
from trading.marketdata import PRICE_KEY, prices_set
from trading.models import Event, Order, PaperVenueOrder, Position

PRICE = Decimal("200.00")


@pytest.fixture(autouse=True)
def pinned_price():
    prices_set({"AAPL": PRICE})
    yield
    cache.delete(PRICE_KEY.format("AAPL"))


@pytest.fixture(autouse=True)
def _in_process(tasks_in_process):
    """These tests are about what the services do; the worker path is covered by tests/integration."""


@pytest.fixture
def trader(demo):
    client = Client()
    client.force_login(demo.trader)
    return client


def signal(demo, trader_id="s1", **fields):
    body = {
        "id": trader_id,
        "symbol": "AAPL",
        "signal_type": "BUY",
        "confidence_score": "0.9",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
        **fields,
    }
    response = Client().post("/api/v1/signals/", json.dumps(body), content_type="application/json", **demo.headers())
    assert response.status_code == 201, response.content
    return response.json()


def run_on_commit(django_capture_on_commit_callbacks, action):
    """Run an action and, on the embedded stack, the tasks it queues after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return action()


def test_a_filled_entry_sends_its_protective_stop(demo, django_capture_on_commit_callbacks):
    answer = run_on_commit(django_capture_on_commit_callbacks, lambda: signal(demo, stop_loss="190"))
    stop = Order.objects.get(parent_id=answer["order_id"])
    assert (stop.status, stop.quantity, stop.stop_price) == (OrderStatus.ACCEPTED, Decimal(50), Decimal(190))


def test_closing_the_position_cancels_its_protective_stop_and_flattens_it(
    demo, trader, django_capture_on_commit_callbacks
):
    answer = run_on_commit(django_capture_on_commit_callbacks, lambda: signal(demo, stop_loss="190"))
    position = Position.objects.get(strategy=demo.strategy)
    response = run_on_commit(
        django_capture_on_commit_callbacks, lambda: trader.post(f"/api/v1/positions/{position.pk}/close/")
    )
    assert response.status_code == 202
    close = Order.objects.get(pk=response.json()["id"])
    assert (close.side, close.order_type, close.quantity, close.status) == ("SELL", "MARKET", 50, OrderStatus.FILLED)
    position.refresh_from_db()
    assert position.quantity == 0
    stop = Order.objects.get(parent_id=answer["order_id"])
    assert stop.status == OrderStatus.CANCELED
    assert not PaperVenueOrder.objects.get(client_order_id=stop.client_order_id).is_open
    again = trader.post(f"/api/v1/positions/{position.pk}/close/")
    assert (again.status_code, again.json()["code"]) == (409, "position_flat")


def test_a_sell_signal_that_closes_the_position_cancels_the_stop_left_behind(demo, django_capture_on_commit_callbacks):
    entry = run_on_commit(django_capture_on_commit_callbacks, lambda: signal(demo, stop_loss="190"))
    run_on_commit(django_capture_on_commit_callbacks, lambda: signal(demo, "s2", signal_type="SELL"))
    assert Position.objects.get(strategy=demo.strategy).quantity == 0
    assert Order.objects.get(parent_id=entry["order_id"]).status == OrderStatus.CANCELED


def test_a_partial_close_shrinks_the_protective_stop(demo, django_capture_on_commit_callbacks):
    entry = run_on_commit(django_capture_on_commit_callbacks, lambda: signal(demo, stop_loss="190"))
    run_on_commit(
        django_capture_on_commit_callbacks, lambda: signal(demo, "s2", signal_type="SELL", position_size="0.04")
    )
    assert Position.objects.get(strategy=demo.strategy).quantity == 30
    stop = Order.objects.get(parent_id=entry["order_id"])
    assert (stop.status, stop.quantity) == (OrderStatus.ACCEPTED, Decimal(30))
    assert PaperVenueOrder.objects.get(client_order_id=stop.client_order_id).quantity == 30
    assert Event.objects.filter(type="order.modified", order=stop).count() == 1


def _resting_limit(demo, django_capture_on_commit_callbacks) -> Order:
    answer = run_on_commit(django_capture_on_commit_callbacks, lambda: signal(demo, target_price="190"))
    order = Order.objects.get(pk=answer["order_id"])
    assert order.status == OrderStatus.ACCEPTED
    return order


def test_modify_lowers_quantity_and_improves_the_limit_at_the_broker(demo, trader, django_capture_on_commit_callbacks):
    order = _resting_limit(demo, django_capture_on_commit_callbacks)
    response = trader.patch(
        f"/api/v1/orders/{order.pk}/", {"quantity": "40", "price": "189.50"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["quantity"], response.json()["price"]) == (
        "ACCEPTED",
        "40.000000",
        "189.500000",
    )
    venue = PaperVenueOrder.objects.get(client_order_id=order.client_order_id)
    assert (venue.quantity, venue.limit_price) == (40, Decimal("189.50"))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"quantity": "1000"}, 409, "modify_increases_exposure"),
        ({"price": "191"}, 409, "modify_increases_exposure"),
        ({"stop_price": "180"}, 409, "not_a_stop_order"),
        ({}, 400, "invalid"),
        ({"quantity": "-1"}, 400, "invalid"),
        ({"size": "1"}, 400, "invalid"),
    ],
)
def test_modify_refusals_change_nothing(demo, trader, django_capture_on_commit_callbacks, body, status, code):
    order = _resting_limit(demo, django_capture_on_commit_callbacks)
    events = Event.objects.count()
    response = trader.patch(f"/api/v1/orders/{order.pk}/", body, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.json()["message"]
    order.refresh_from_db()
    assert (order.quantity, order.price, order.status) == (Decimal(52), Decimal(190), OrderStatus.ACCEPTED)
    assert Event.objects.count() == events


def test_cancel_over_rest_and_a_second_cancel_is_refused(demo, trader, django_capture_on_commit_callbacks):
    order = _resting_limit(demo, django_capture_on_commit_callbacks)
    assert trader.post(f"/api/v1/orders/{order.pk}/cancel/").json()["status"] == "CANCELED"
    again = trader.post(f"/api/v1/orders/{order.pk}/cancel/")
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")


def test_other_users_orders_and_positions_are_not_found(demo, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    order = _resting_limit(demo, django_capture_on_commit_callbacks)
    stranger = Client()
    stranger_user = get_user_model().objects.create_user("stranger")
    role_add(stranger_user, TRADER)
    stranger.force_login(stranger_user)
    assert stranger.post(f"/api/v1/orders/{order.pk}/cancel/").status_code == 404
    assert stranger.get(f"/api/v1/orders/{order.pk}/").status_code == 404


def test_position_history_replays_each_fill_to_the_position_now(demo, trader, django_capture_on_commit_callbacks):
    run_on_commit(django_capture_on_commit_callbacks, lambda: signal(demo))  # buys 50 at 200.10
    run_on_commit(
        django_capture_on_commit_callbacks, lambda: signal(demo, "s2", signal_type="SELL", position_size="0.04")
    )  # sells 20 at 199.90

    response = trader.get("/api/v1/positions/history/", {"symbol": "aapl"})

    assert response.status_code == 200, response.content
    rows = response.json()
    assert [(r["side"], Decimal(r["quantity"]), Decimal(r["position_quantity"])) for r in rows] == [
        ("BUY", 50, 50),
        ("SELL", 20, 30),
    ]
    position = Position.objects.get(strategy=demo.strategy)
    last = rows[-1]
    assert (Decimal(last["average_price"]), Decimal(last["realized_pnl"])) == (
        position.average_price,
        position.realized_pnl,
    )
    assert Decimal(rows[0]["average_price"]) == Decimal("200.10")


def test_position_history_needs_a_symbol_and_shows_only_the_users_own(demo, trader, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    run_on_commit(django_capture_on_commit_callbacks, lambda: signal(demo))
    missing = trader.get("/api/v1/positions/history/")
    assert missing.status_code == 400
    assert missing.json()["code"] and "symbol" in missing.json()["errors"]

    stranger = Client()
    stranger_user = get_user_model().objects.create_user("stranger", password="x")
    role_add(stranger_user, TRADER)
    stranger.force_login(stranger_user)
    assert stranger.get("/api/v1/positions/history/", {"symbol": "AAPL"}).json() == []
