"""GET|PUT /api/v1/risk/parameters/: limits in their documented ranges, or a 400 that changes nothing (issue 11, #8)."""

import json
from decimal import Decimal

import pytest

from risk.models import RiskParameters
from tests.otp import otp_client, otp_code, otp_device
from trading.models import Event

URL = "/api/v1/risk/parameters/"


@pytest.fixture
def trader(demo):
    client = otp_client(demo.trader)
    client.device = otp_device(demo.trader)  # a change of limits needs the person's one-time password
    return client


def put(client, body, query=""):
    body = {**body, "otp": otp_code(client.device)}
    return client.put(f"{URL}{query}", json.dumps(body), content_type="application/json")


def state():
    return (list(RiskParameters.objects.values()), Event.objects.filter(type="risk.parameters_updated").count())


NONSENSE = [
    ({"max_position_size": "-1"}, "max_position_size"),
    ({"max_position_size": "5"}, "max_position_size"),
    ({"max_position_size": "0"}, "max_position_size"),
    ({"daily_loss_limit": "-0.5"}, "daily_loss_limit"),
    ({"daily_loss_limit": "1.5"}, "daily_loss_limit"),
    ({"max_drawdown": "0"}, "max_drawdown"),
    ({"reserve_buffer": "-0.9"}, "reserve_buffer"),
    ({"reserve_buffer": "2"}, "reserve_buffer"),
    ({"max_position_quantity": "-10"}, "max_position_quantity"),
    ({"max_order_notional": "-1000"}, "max_order_notional"),
    ({"max_order_notional": "0"}, "max_order_notional"),
    ({"max_portfolio_exposure": "-1"}, "max_portfolio_exposure"),
    ({"max_portfolio_exposure": "10"}, "max_portfolio_exposure"),
    ({"max_net_exposure": "-0.1"}, "max_net_exposure"),
    ({"max_sector_exposure": "0"}, "max_sector_exposure"),
    ({"stop_loss_percentage": "1"}, "stop_loss_percentage"),
    ({"stop_loss_percentage": "-0.05"}, "stop_loss_percentage"),
    ({"take_profit_percentage": "-0.1"}, "take_profit_percentage"),
    ({"trailing_stop_percentage": "1"}, "trailing_stop_percentage"),
    ({"max_price_deviation": "0"}, "max_price_deviation"),
    ({"max_strategy_orders_per_minute": -1}, "max_strategy_orders_per_minute"),
    ({"max_account_orders_per_minute": 2**31}, "max_account_orders_per_minute"),
    ({"max_position_size": "0.1234567"}, "max_position_size"),
    ({"max_position_size": "cheap"}, "max_position_size"),
    ({"market_hours": "ALWAYS"}, "market_hours"),
    ({"restricted_symbols": ["AA PL"]}, "restricted_symbols"),
    ({"restricted_symbols": "AAPL"}, "restricted_symbols"),
    ({"check_actions": {"no_such_check": "RESIZE"}}, "check_actions"),
    ({"check_actions": {"market_closed": "RESIZE"}}, "check_actions"),
    ({"check_actions": {"max_position_size_exceeded": "IGNORE"}}, "check_actions"),
    ({"max_leverage": "2"}, "max_leverage"),
    ({"updated_at": "2026-01-01T00:00:00Z", "id": 3}, "id"),
]


@pytest.mark.parametrize(("body", "field"), NONSENSE, ids=[f"{f}={next(iter(b.values()))}" for b, f in NONSENSE])
def test_nonsense_answers_400_with_field_errors_and_changes_nothing(demo, trader, body, field):
    put(trader, {"max_position_size": "0.2"})
    before = state()
    response = put(trader, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"], response.json()
    assert state() == before


def test_a_valid_change_is_kept_and_read_back(demo, trader):
    body = {
        "max_position_size": "1",
        "daily_loss_limit": "0.03",
        "reserve_buffer": "0",
        "max_portfolio_exposure": "2.5",
        "max_order_notional": None,
        "stop_loss_percentage": "0",
        "restricted_symbols": ["gme"],
        "check_actions": {"max_position_size_exceeded": "RESIZE"},
        "market_hours": "REGULAR",
    }
    response = put(trader, body)
    assert response.status_code == 200, response.content
    read = trader.get(URL).json()
    assert Decimal(read["max_position_size"]) == 1
    assert Decimal(read["max_portfolio_exposure"]) == Decimal("2.5")
    assert read["restricted_symbols"] == ["GME"]
    assert read["updated_at"] is not None


def test_the_document_read_may_be_sent_back(demo, trader):
    query = f"?strategy={demo.strategy.pk}"
    document = trader.get(f"{URL}{query}").json()
    assert document["updated_at"] is None  # the strategy has no parameters of its own yet
    assert put(trader, document, query).status_code == 200
    assert trader.get(f"{URL}{query}").json()["updated_at"] is not None


def test_strategy_scope_query_must_be_an_id(demo, trader):
    assert trader.get(f"{URL}?strategy=abc").status_code == 400
    assert trader.get(f"{URL}?strategy=99999").status_code == 404
    assert put(trader, {"max_position_size": "0.05"}, f"?strategy={demo.strategy.pk}").status_code == 200
    assert Decimal(trader.get(f"{URL}?strategy={demo.strategy.pk}").json()["max_position_size"]) == Decimal("0.05")
