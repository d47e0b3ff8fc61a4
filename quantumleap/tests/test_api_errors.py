"""Every answer under /api/ is JSON; hostile input is refused with a 4xx and changes nothing (issue 11, defect 6)."""

import json

import pytest
from django.test import Client, override_settings

from strategies.models import TradingSignal
from trading.models import Event, Order

TOO_BIG = "1556072181914928589577341727420710912"  # beyond 64 bits
LISTS = ["orders/", "positions/", "executions/", "events/", "strategies/"]


def api(demo, method: str, path: str, body=None, **extra):
    # raise_request_exception=False: what a client sees, including the 500 a crash would give.
    # Signals as their producer's key does; everything else as the trader, signed in.
    if path.startswith("signal"):
        client, extra = Client(raise_request_exception=False), {**demo.headers(), **extra}
    else:
        client = demo.session(raise_request_exception=False)
    if body is not None:
        extra.setdefault("content_type", "application/json")
    return getattr(client, method)(f"/api/v1/{path}", body, **extra)


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    answer = response.json()
    assert isinstance(answer["code"], str) and answer["code"]
    assert isinstance(answer["message"], str) and answer["message"]
    return answer


def signal(**overrides) -> dict:
    return {
        "id": "sig-1",
        "symbol": "AAPL",
        "signal_type": "BUY",
        "confidence_score": "0.8",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
        **overrides,
    }


@pytest.fixture
def traded(demo):
    """The demo with an order and its events, so list queries have rows to slice."""
    assert api(demo, "post", "signals/", json.dumps(signal())).status_code == 201
    return demo


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        (f"limit={TOO_BIG}", "limit"),
        (f"offset={TOO_BIG}", "offset"),
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=²", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
    ],
)
def test_list_paging_out_of_range_or_not_an_integer_answers_400(traded, path, query, field):
    answer = error(api(traded, "get", f"{path}?{query}"), 400)
    assert answer["code"] == "invalid"
    assert field in answer["errors"]


@pytest.mark.parametrize("path", LISTS)
def test_list_limit_up_to_500_is_served(traded, path):
    response = api(traded, "get", f"{path}?limit=500&offset=0")
    assert response.status_code == 200, response.content
    assert api(traded, "get", f"{path}?offset=9223372036854775807").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("strategy=99999999999999999999999", "strategy"),
        ("strategy=²", "strategy"),
        ("strategy=-3", "strategy"),
        ("strategy=x", "strategy"),
        ("since=2026-01-01T00:00:00%2B99:00", "since"),
        ("since=9999-12-31T23:59:59-14:00", "since"),
        ("since=0001-01-01T00:00:00%2B14:00", "since"),
        ("since=yesterday", "since"),
        ("since=2026-01-01T00:00:00", "since"),
        ("type=" + "x" * 200, "type"),
        ("type=order%00", "type"),
    ],
)
def test_event_filters_out_of_range_answer_400(traded, query, field):
    answer = error(api(traded, "get", f"events/?{query}"), 400)
    assert field in answer["errors"]


def test_event_filters_in_range_are_served(traded):
    query = f"type=signal.&since=2026-01-01T00:00:00%2B14:00&strategy={traded.strategy.pk}"
    response = api(traded, "get", f"events/?{query}")
    assert response.status_code == 200
    assert response.json()["count"] >= 1


@pytest.mark.parametrize("at", ["1000-01-01T00:00:00Z", "9999-01-01T00:00:00Z", "2200-06-01T12:00:00%2B05:00"])
def test_market_status_outside_the_calendar_answers_400(demo, at):
    answer = error(api(demo, "get", f"market/status/?at={at}"), 400)
    assert "at" in answer["errors"]


@pytest.mark.parametrize("exchange", ["XNYS", "AAPL"])
def test_market_status_inside_the_calendar_is_served(demo, exchange):
    response = api(demo, "get", f"market/status/?exchange={exchange}&at=2026-03-02T15:00:00Z")
    assert response.status_code == 200
    assert response.json()["exchanges"][0]["status"] == "open"


@pytest.mark.parametrize(
    "path",
    [
        f"orders/{TOO_BIG}/",
        f"orders/{TOO_BIG}/cancel/",
        f"positions/{TOO_BIG}/close/",
        f"strategies/{TOO_BIG}/",
        f"risk/parameters/?strategy={TOO_BIG}",
    ],
)
def test_ids_beyond_64_bits_are_not_found_or_refused_never_a_crash(demo, path):
    method = "post" if path.endswith(("cancel/", "close/")) else "get"
    response = api(demo, method, path)
    assert response.status_code in (400, 404), response.content[:300]
    error(response, response.status_code)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("signals/", signal(strategy_id=int(TOO_BIG)), "strategy_id"),
        ("signal-batches/", {"signals": [signal(strategy_id=int(TOO_BIG))]}, "signals"),
    ],
)
def test_body_ids_beyond_64_bits_answer_400(demo, path, body, field):
    answer = error(api(demo, "post", path, json.dumps(body)), 400)
    assert field in answer["errors"]


def _session(demo) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(demo.trader)
    return client


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("risk/kill-switch/", {"action": "engage", "scope": "STRATEGY", "strategy_id": int(TOO_BIG), "reason": "x"}),
        ("risk/kill-switch/", {"action": "release", "kill_switch_id": int(TOO_BIG), "reason": "x"}),
        ("risk/trading-state/release/", {"strategy_id": int(TOO_BIG), "reason": "x"}),
    ],
)
def test_session_body_ids_beyond_64_bits_answer_4xx(demo, path, body):
    response = _session(demo).post(f"/api/v1/{path}", json.dumps(body), content_type="application/json")
    assert response.status_code in (400, 404), response.content[:300]
    error(response, response.status_code)


def counts():
    return (TradingSignal.objects.count(), Order.objects.count(), Event.objects.count())


def test_json_nested_ten_thousand_deep_answers_400_and_changes_nothing(demo):
    before = counts()
    deep = json.dumps(signal())[:-1] + ', "metadata": ' + "[" * 10_000 + "]" * 10_000 + "}"
    answer = error(api(demo, "post", "signals/", deep), 400)
    assert answer["code"] == "parse_error"
    assert counts() == before


def test_duplicate_keys_are_refused_not_taken_last_wins(demo):
    before = counts()
    raw = json.dumps(signal(signal_type="HOLD"))[:-1] + ', "signal_type": "BUY"}'
    answer = error(api(demo, "post", "signals/", raw), 400)
    assert answer["code"] == "parse_error"
    assert "signal_type" in answer["message"]
    assert counts() == before


def test_duplicate_keys_in_a_nested_object_are_refused(demo):
    raw = json.dumps(signal())[:-1] + ', "metadata": {"a": 1, "a": 2}}'
    assert error(api(demo, "post", "signals/", raw), 400)["code"] == "parse_error"


@pytest.mark.parametrize("raw", ['{"id": "\\ud800"}', '{"id": NaN}', b'{"id": "\xff"}'])
def test_json_that_cannot_mean_one_thing_is_a_parse_error(demo, raw):
    assert error(api(demo, "post", "signals/", raw), 400)["code"] == "parse_error"


@pytest.mark.parametrize("metadata", ['{"": {"\\u0000": true}}', '{"note": "a\\u0000b"}', '{"list": ["\\u0000"]}'])
def test_a_nul_character_anywhere_is_a_parse_error_and_changes_nothing(demo, metadata):
    # PostgreSQL stores no NUL in text or JSON: refused at the door, not a 500 at the database (schemathesis).
    before = counts()
    raw = json.dumps(signal())[:-1] + f', "metadata": {metadata}}}'
    answer = error(api(demo, "post", "signals/", raw), 400)
    assert answer["code"] == "parse_error" and "NUL" in answer["message"]
    assert counts() == before


def test_an_escaped_backslash_before_u0000_is_plain_text(demo):
    raw = json.dumps(signal())[:-1] + ', "metadata": {"note": "\\\\u0000"}}'
    assert api(demo, "post", "signals/", raw).status_code == 201


def test_a_body_over_the_limit_answers_413_json_and_changes_nothing(demo):
    before = counts()
    body = json.dumps(signal(metadata={"blob": "x" * 5_000_000}))
    answer = error(api(demo, "post", "signals/", body), 413)
    assert answer["code"] == "payload_too_large"
    assert counts() == before


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_the_body_limit_comes_from_data_upload_max_memory_size(demo):
    assert error(api(demo, "post", "signals/", json.dumps(signal())), 413)["code"] == "payload_too_large"


def test_unknown_api_paths_answer_404_json(demo):
    assert error(api(demo, "get", "no-such-thing/"), 404)["code"] == "not_found"
    response = Client(raise_request_exception=False).get("/api/nope")
    assert error(response, 404)["code"] == "not_found"


def test_outside_the_api_a_404_stays_a_page(db):
    response = Client(raise_request_exception=False).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_wrong_method_answers_405_json(demo):
    assert error(api(demo, "delete", "signals/"), 405)["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("content_type", "body"), [("text/plain", "hello"), ("application/x-www-form-urlencoded", "id=x&symbol=AAPL")]
)
def test_a_body_that_is_not_json_answers_415_json(demo, content_type, body):
    response = api(demo, "post", "signals/", body, content_type=content_type)
    assert error(response, 415)["code"] == "unsupported_media_type"


def test_an_unhandled_exception_answers_json_500_with_no_detail(demo, monkeypatch):
    from strategies import api as strategies_api

    def crash(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(strategies_api.selectors, "strategy_list", crash)
    answer = error(api(demo, "get", "strategies/"), 500)
    assert answer == {"code": "server_error", "message": answer["message"]}
    assert "secret" not in answer["message"]
