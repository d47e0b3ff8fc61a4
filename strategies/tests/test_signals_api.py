"""POST /api/v1/signals/: what producers see, on both stacks."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import ApiKey
from accounts.services import api_key_create
from strategies.models import Strategy, TradingSignal
from trading.models import Event, Execution, Order, Position

URL = "/api/v1/signals/"


def body(**overrides):
    base = {
        "id": "sig-1",
        "symbol": "AAPL",
        "signal_type": "BUY",
        "confidence_score": "0.8",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def post(demo, payload, *, raw: str | None = None, headers=None):
    data = raw if raw is not None else json.dumps(payload)
    return Client().post(URL, data, content_type="application/json", **(demo.headers() if headers is None else headers))


def counts():
    return (TradingSignal.objects.count(), Order.objects.count(), Event.objects.count(), Position.objects.count())


BAD_INPUT = [
    ("missing id", body(id=...), "id"),
    ("missing symbol", body(symbol=...), "symbol"),
    ("missing signal_type", body(signal_type=...), "signal_type"),
    ("missing expires_at", body(expires_at=...), "expires_at"),
    ("unknown field", body(quantity=100), "quantity"),
    ("confidence below 0", body(confidence_score="-0.01"), "confidence_score"),
    ("confidence above 1", body(confidence_score="1.01"), "confidence_score"),
    ("position_size zero", body(position_size="0"), "position_size"),
    ("position_size above 1", body(position_size="1.5"), "position_size"),
    ("unknown signal_type", body(signal_type="SHORT"), "signal_type"),
    ("non-numeric target price", body(target_price="cheap"), "target_price"),
    ("negative stop loss", body(stop_loss="-5"), "stop_loss"),
    ("oversized symbol", body(symbol="A" * 17), "symbol"),
    ("symbol with spaces", body(symbol="AA PL"), "symbol"),
    ("naive expiry", body(expires_at="2099-01-01T00:00:00"), "expires_at"),
    ("metadata not an object", body(metadata=[1, 2]), "metadata"),
    ("strategy id not a number", body(strategy_id="demo-ai"), "strategy_id"),
    ("symbol a number", body(symbol=7), "symbol"),
    ("blank take profit", body(take_profit=""), "take_profit"),
    ("decimal with an exponent", body(confidence_score="8e-1"), "confidence_score"),
    ("decimal with a sign", body(position_size="+0.1"), "position_size"),
    ("decimal with spaces", body(position_size=" 0.1"), "position_size"),
    ("more places than kept", body(position_size=0.1234567), "position_size"),
]


@pytest.mark.parametrize(("case", "payload", "field"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_answers_400_with_field_errors_and_changes_nothing(demo, case, payload, field):
    before = counts()
    response = post(demo, payload)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert counts() == before


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"AAPL"', ""])
def test_malformed_json_answers_400_and_changes_nothing(demo, raw):
    before = counts()
    response = post(demo, None, raw=raw)
    assert response.status_code == 400
    assert response.json()["code"] in {"parse_error", "invalid"}
    assert response.json()["message"]
    assert counts() == before


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Bearer ql_nope_nope"}, {"HTTP_AUTHORIZATION": "Bearer "}],
    ids=["no key", "wrong key", "empty key"],
)
def test_missing_or_wrong_key_is_401(demo, headers):
    before = counts()
    response = post(demo, body(), headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "invalid_key", "no_key"}
    assert counts() == before


def test_revoked_key_is_401(demo):
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert post(demo, body()).status_code == 401


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"symbol": "ZZZZ"}, "unknown_symbol"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "signal_expired"),
        ({"stop_loss": "999"}, "invalid_stop_loss"),
    ],
)
def test_refusals_are_recorded_with_a_code_and_no_order(demo, overrides, code):
    response = post(demo, body(**overrides))
    assert response.status_code == 201
    answer = response.json()
    assert answer["status"] == "rejected"
    assert answer["order_id"] is None
    assert [v["code"] for v in answer["violations"]] == [code]
    assert answer["violations"][0]["message"]
    assert Order.objects.count() == 0
    assert Event.objects.filter(type="signal.rejected").count() == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [("DRAFT", "strategy_not_running"), ("STOPPED", "strategy_not_running"), ("PAUSED", "strategy_paused")],
)
def test_strategy_not_running_is_refused(demo, status, code):
    Strategy.objects.filter(pk=demo.strategy.pk).update(status=status)
    answer = post(demo, body()).json()
    assert answer["status"] == "rejected"
    assert answer["violations"][0]["code"] == code
    assert Order.objects.count() == 0


def test_hold_is_recorded_without_an_order(demo):
    response = post(demo, body(signal_type="HOLD"))
    assert response.status_code == 201
    assert response.json()["status"] == "recorded"
    assert response.json()["order_id"] is None
    assert Order.objects.count() == 0


def test_accepted_buy_creates_a_market_order_sized_to_the_lot(demo):
    answer = post(demo, body()).json()
    order = Order.objects.get(pk=answer["order_id"])
    # 0.1 x 100,000 / 228.50 = 43.76 -> 43 shares, rounded down to the lot
    assert (order.side, order.order_type, order.quantity) == ("BUY", "MARKET", Decimal(43))
    assert order.client_order_id.startswith("QL-")
    assert answer["violations"] == []


def test_target_price_makes_a_limit_order_and_stop_loss_a_protective_stop(demo):
    answer = post(demo, body(target_price="200", stop_loss="190")).json()
    entry = Order.objects.get(pk=answer["order_id"])
    assert (entry.order_type, entry.price, entry.quantity) == ("LIMIT", Decimal(200), Decimal(50))
    stop = Order.objects.get(parent=entry)
    assert (stop.side, stop.order_type, stop.stop_price, stop.quantity) == ("SELL", "STOP", Decimal(190), Decimal(50))


def test_repost_of_the_same_id_answers_200_with_the_same_signal_and_creates_nothing(demo):
    first = post(demo, body(stop_loss="200"))
    before = counts()
    second = post(demo, body(stop_loss="200", position_size="0.5"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["order_id"] == first.json()["order_id"]
    assert second.json()["signal_id"] == first.json()["signal_id"]
    assert counts() == before


def test_signal_ids_are_unique_per_producer_not_globally(demo):
    from django.contrib.auth import get_user_model

    from accounts.roles import TRADER, role_add

    other = get_user_model().objects.create_user("other-producer")
    role_add(other, TRADER)
    other_strategy = Strategy.objects.create(
        owner=other, account=demo.account, name="other", strategy_type="EXTERNAL_AI", capital=1000, status="RUNNING"
    )
    other_key = api_key_create(user=other, strategy=other_strategy)
    assert post(demo, body()).status_code == 201
    assert post(demo, body(), headers={"HTTP_AUTHORIZATION": f"Bearer {other_key}"}).status_code == 201
    assert TradingSignal.objects.filter(external_id="sig-1").count() == 2


def test_scoped_key_may_leave_strategy_out_but_not_name_another(demo):
    other = Strategy.objects.create(
        owner=demo.trader, account=demo.account, name="other", strategy_type="EXTERNAL_AI", capital=1000
    )
    assert post(demo, body(strategy_id=other.pk)).status_code == 403
    assert post(demo, body(strategy_id=demo.strategy.pk)).status_code == 201


def test_unscoped_key_must_name_a_strategy_it_owns(demo):
    key = api_key_create(user=demo.trader)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    missing = post(demo, body(), headers=headers)
    assert missing.status_code == 400
    assert "strategy_id" in missing.json()["errors"]
    assert post(demo, body(strategy_id=9999), headers=headers).status_code == 400
    assert post(demo, body(strategy_id=demo.strategy.pk), headers=headers).status_code == 201


def test_a_signal_over_the_strategy_capital_is_refused_with_the_largest_quantity_that_fits(demo):
    answer = post(demo, body(position_size="1", symbol="KO", target_price="70")).json()
    assert answer["status"] == "accepted"
    refused = post(demo, body(id="sig-2", position_size="0.05")).json()
    assert refused["status"] == "rejected"
    violation = refused["violations"][0]
    assert violation["code"] == "strategy_capital_exceeded"
    assert Decimal(violation["limit"]) == Decimal(100000)
    event = Event.objects.get(type="signal.rejected")
    assert Decimal(event.payload["recommended_adjustments"]["max_quantity"]) == 0


def test_get_signal_by_producer_id(demo):
    post(demo, body())
    response = Client().get(f"{URL}sig-1/", **demo.headers())
    assert response.status_code == 200
    assert response.json()["id"] == "sig-1"
    assert Client().get(f"{URL}nope/", **demo.headers()).status_code == 404


def test_end_to_end_buy_becomes_a_filled_position_and_moves_cash(demo_committed, celery_worker, wait):
    demo = demo_committed
    answer = post(demo, body(stop_loss="200")).json()
    order_id = answer["order_id"]
    wait(lambda: Order.objects.get(pk=order_id).status == "FILLED")
    wait(lambda: TradingSignal.objects.get(external_id="sig-1").status == "executed")
    fill = Execution.objects.get(order_id=order_id)
    position = Position.objects.get(strategy=demo.strategy, instrument__symbol="AAPL")
    assert position.quantity == Decimal(43)
    assert position.average_price == fill.price
    assert fill.price > Decimal("228.50")  # a buy pays the slippage
    demo.account.refresh_from_db()
    assert demo.account.cash == Decimal(1000000) - 43 * fill.price - fill.commission
    # The protective stop goes to the broker once the entry has filled.
    wait(lambda: Order.objects.get(parent_id=order_id).status == "ACCEPTED")


BATCH_URL = "/api/v1/signal-batches/"


def post_batch(demo, signals, **extra):
    payload = json.dumps({"signals": signals, **extra})
    return Client().post(BATCH_URL, payload, content_type="application/json", **demo.headers())


def test_a_batch_takes_each_signal_on_its_own_in_order(demo):
    first = post(demo, body(id="old-1"))
    answer = post_batch(
        demo,
        [
            body(id="b-1"),
            body(id="b-2", symbol="ZZZZ"),  # not an instrument: refused alone
            body(id="old-1"),  # posted before: the stored signal, nothing new
            body(id="b-1"),  # repeated within the batch: the first one's signal
            body(id="b-3", signal_type="HOLD"),
        ],
    )
    assert answer.status_code == 200, answer.content
    signals = answer.json()["signals"]
    assert [s["id"] for s in signals] == ["b-1", "b-2", "old-1", "b-1", "b-3"]
    assert [s["created"] for s in signals] == [True, True, False, False, True]
    assert signals[0]["status"] in ("accepted", "executed") and signals[0]["order_id"] is not None
    assert signals[1]["status"] == "rejected"
    assert signals[1]["violations"][0]["code"] == "unknown_symbol" and signals[1]["order_id"] is None
    assert signals[2]["order_id"] == first.json()["order_id"] and signals[2]["signal_id"] == first.json()["signal_id"]
    assert signals[3]["signal_id"] == signals[0]["signal_id"] and signals[3]["order_id"] == signals[0]["order_id"]
    assert signals[4]["status"] == "recorded"
    assert TradingSignal.objects.count() == 4
    assert Order.objects.filter(parent__isnull=True).count() == 2  # old-1 and b-1


@pytest.mark.parametrize(
    ("signals", "extra"),
    [
        ([], {}),
        ([body(id=f"n-{i}") for i in range(101)], {}),
        ([body(id="ok-1"), body(id="bad", confidence_score="2")], {}),
        ([body(id="ok-1")], {"note": "unknown top-level field"}),
    ],
    ids=["empty", "over 100", "one malformed signal", "unknown field"],
)
def test_a_malformed_batch_answers_400_and_records_nothing(demo, signals, extra):
    before = counts()
    answer = post_batch(demo, signals, **extra)
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == "invalid"
    assert counts() == before


def test_a_batch_naming_a_strategy_the_key_may_not_use_is_refused_whole(demo):
    other = Strategy.objects.create(
        name="other", owner=demo.trader, account=demo.account, capital=Decimal(1000), status="RUNNING"
    )
    scoped = api_key_create(user=demo.trader, strategy=demo.strategy)
    before = counts()
    answer = Client().post(
        BATCH_URL,
        json.dumps({"signals": [body(id="s-1"), body(id="s-2", strategy_id=other.pk)]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {scoped}",
    )
    assert answer.status_code == 403
    assert counts() == before


def nested(depth: int) -> dict:
    """Metadata whose objects nest `depth` deep (the metadata object itself is level 1)."""
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"next": value}
    return value


@pytest.mark.parametrize(
    "metadata",
    [nested(9), {"blob": "x" * (16 * 1024)}, {"list": [[[[[[[[[1]]]]]]]]]}],
    ids=["9 levels", "over 16 KiB", "9 levels of lists"],
)
def test_metadata_over_its_limits_is_a_field_error_and_changes_nothing(demo, metadata):
    before = counts()
    response = post(demo, body(metadata=metadata))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert "metadata" in response.json()["errors"]
    assert counts() == before


def test_metadata_at_its_limits_is_kept(demo):
    blob = "x" * (16 * 1024 - len('{"blob":""}'))
    for i, metadata in enumerate([nested(8), {"blob": blob}]):
        response = post(demo, body(id=f"m-{i}", metadata=metadata, signal_type="HOLD"))
        assert response.status_code == 201, response.content
        assert response.json()["metadata"] == metadata


@pytest.mark.parametrize("path", ["model-7/0001", "model-7%2F0001", "model-7%2f0001"])
def test_an_id_with_a_slash_is_served_plain_or_encoded(demo, path):
    assert post(demo, body(id="model-7/0001")).status_code == 201
    response = Client().get(f"{URL}{path}/", **demo.headers())
    assert response.status_code == 200, response.content[:200]
    assert response.json()["id"] == "model-7/0001"
    missing = Client().get(f"{URL}model-7%2F0002/", **demo.headers())
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
