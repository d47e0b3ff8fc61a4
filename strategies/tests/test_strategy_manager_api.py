"""The strategy manager over REST: create, modify (versions), delete, deploy / pause / resume / stop with the
one-time password, capital allocation, who may see and do what, and what pausing does to signals."""

import json
import os
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiKey
from accounts.roles import TRADER, role_add
from accounts.services import api_key_create
from strategies.core.lifecycle import TRANSITIONS, StrategyAction, StrategyStatus, needs_otp
from strategies.lifecycle import strategy_create
from strategies.models import Strategy, StrategyVersion, TradingSignal
from tests.browser import contract
from trading.core.orders import OPEN_STATUSES, OrderStatus
from trading.marketdata import PRICE_KEY, prices_set
from trading.models import Event, Order, Position
from trading.services.accounts import account_open

API = "/api/v1/"
PRICE = Decimal("200.00")
PERSON_ACTIONS = [a for a in StrategyAction if a != StrategyAction.AUTO_PAUSE]


@pytest.fixture(autouse=True)
def pinned_price():
    prices_set({"AAPL": PRICE})
    yield
    cache.delete(PRICE_KEY.format("AAPL"))


@pytest.fixture(autouse=True)
def _in_process(tasks_in_process):
    """These tests are about what the services do; the worker path is covered by tests/integration."""


@pytest.fixture
def trader(demo) -> Client:
    client = Client()
    client.force_login(demo.trader)
    return client


def session_verify(client: Client, device: TOTPDevice) -> None:
    """Sign-in's second step done with ``device`` (a user with a device needs it, else the session ends)."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def device(demo, trader) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=demo.trader, name="phone", confirmed=True)
    session_verify(trader, device)
    return device


def code(device: TOTPDevice) -> str:
    """The device's code now, as an authenticator app computes it."""
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return str(value).zfill(device.digits)


def send(client: Client, method: str, path: str, body=None, **headers):
    data = json.dumps(body) if body is not None else None
    return getattr(client, method.lower())(API + path, data=data, content_type="application/json", **headers)


def create(client: Client, **fields):
    body = {"name": "sma-1", "strategy_type": "SMA_CROSSOVER", "capital": "25000", "symbols": ["AAPL"], **fields}
    return send(client, "POST", "strategies/", body)


def made(demo, status: str = "DRAFT", name: str = "s-1", capital: str = "10000") -> Strategy:
    strategy = strategy_create(
        owner=demo.trader, account=demo.account, name=name, strategy_type="EXTERNAL_AI", capital=Decimal(capital)
    )
    Strategy.objects.filter(pk=strategy.pk).update(status=status)
    strategy.refresh_from_db()
    return strategy


def signal(demo, external_id: str, side: str = "BUY", key: str | None = None, **fields):
    body = {
        "id": external_id,
        "symbol": "AAPL",
        "signal_type": side,
        "confidence_score": "0.8",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
        **fields,
    }
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key or demo.key}"}
    response = Client().post(API + "signals/", json.dumps(body), content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    return response.json()


# ---------- types and shapes ----------
def test_the_types_are_the_contracts(trader):
    response = trader.get(API + "strategies/types/")
    assert response.status_code == 200
    assert response.json() == contract.types_answer()


def test_a_created_strategy_is_a_draft_with_version_1_in_the_contracts_shape(demo, trader):
    response = create(trader, reason="first try")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert set(contract.strategy(1, "x")) <= set(answer)
    assert (answer["status"], answer["version"], answer["capital"]) == ("DRAFT", 1, "25000.000000")
    assert answer["allowed_actions"] == ["deploy", "delete"]
    assert answer["otp_required_for"] == ["deploy"]
    assert answer["configuration"]["symbols"] == ["AAPL"]
    assert answer["configuration"]["parameters"]["fast_period"] == 10  # defaults filled
    version = StrategyVersion.objects.get(strategy_id=answer["id"])
    assert (version.number, version.created_by, version.reason, version.diff) == (1, demo.trader, "first try", {})
    event = Event.objects.get(type="strategy.created", strategy_id=answer["id"])
    assert event.actor == "trader"
    listed = trader.get(API + "strategies/").json()["results"]
    assert [s["name"] for s in listed] == ["demo-ai", "sma-1"]


FAST_TOO_SLOW = "The fast period (50) must be shorter than the slow period (20)."
NO_SYMBOLS = "An external producer names the symbol in each signal: send no symbols for this type."


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"parameters": {"fast_period": "50"}}, {"parameters": {"fast_period": [FAST_TOO_SLOW]}}),
        ({"parameters": {"speed": 3}}, {"parameters": {"speed": ["Unknown parameter for SMA_CROSSOVER."]}}),
        ({"parameters": {"fast_period": "1.5"}}, {"parameters": {"fast_period": ["Enter a whole number."]}}),
        ({"symbols": ["AAPL", "NOPE"]}, {"symbols": {"1": ["NOPE is not a tradable instrument."]}}),
        ({"symbols": []}, {"symbols": ["Name at least one symbol for the generator to watch."]}),
        ({"strategy_type": "EXTERNAL_AI"}, {"symbols": [NO_SYMBOLS]}),
        ({"name": "demo-ai"}, {"name": ["You already have a strategy so named."]}),
        ({"auto_pause": {"max_drawdown": "2"}}, {"auto_pause": {"max_drawdown": ["Must be at most 1."]}}),
        ({"capital": "0"}, None),
        ({"strategy_type": "MARTINGALE"}, None),
    ],
)  # fmt: skip
def test_bad_input_answers_400_with_field_errors_and_creates_nothing(demo, trader, fields, errors):
    before = (Strategy.objects.count(), StrategyVersion.objects.count(), Event.objects.count())
    response = create(trader, **fields)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    if errors is not None:
        assert response.json()["errors"] == errors
    else:
        assert set(response.json()["errors"]) == set(fields)
    assert (Strategy.objects.count(), StrategyVersion.objects.count(), Event.objects.count()) == before


# ---------- capital allocation ----------
def test_capital_beyond_the_accounts_equity_is_refused_with_the_figures(demo, trader):
    # Equity 1,000,000; demo-ai holds 100,000.
    response = create(trader, capital="900000.01")
    assert response.status_code == 409
    answer = response.json()
    assert answer["code"] == "capital_exceeds_equity"
    assert answer["errors"] == {"capital": "900000.01", "allocated": "100000.00", "equity": "1000000.00"}
    assert "1,000,000.00" in answer["message"] and "1,000,000.01" in answer["message"]
    assert not Strategy.objects.filter(name="sma-1").exists()
    assert create(trader, capital="900000").status_code == 201


def test_a_capital_increase_and_a_redeploy_are_checked_a_stopped_strategys_capital_is_free(demo, trader, device):
    stopped = made(demo, "STOPPED", capital="800000")
    # A STOPPED strategy holds no capital: the new one fits.
    assert create(trader, capital="800000").status_code == 201
    refused = send(trader, "POST", f"strategies/{stopped.pk}/deploy/", {"otp": code(device)})
    assert (refused.status_code, refused.json()["code"]) == (409, "capital_exceeds_equity")
    stopped.refresh_from_db()
    assert stopped.status == "STOPPED"
    sma = Strategy.objects.get(name="sma-1")
    grown = send(trader, "PATCH", f"strategies/{sma.pk}/", {"capital": "900000.01"})
    assert (grown.status_code, grown.json()["code"]) == (409, "capital_exceeds_equity")
    assert send(trader, "PATCH", f"strategies/{sma.pk}/", {"capital": "900000"}).status_code == 200
    # A STOPPED one may be given any capital: it is checked when deployed.
    assert send(trader, "PATCH", f"strategies/{stopped.pk}/", {"capital": "5000000"}).status_code == 200


# ---------- versions ----------
def test_a_modification_makes_a_new_version_with_who_when_why_and_the_diff(demo, trader):
    strategy_id = create(trader).json()["id"]
    response = send(
        trader,
        "PATCH",
        f"strategies/{strategy_id}/",
        {"capital": "30000", "parameters": {"stop_loss_pct": "0.02"}, "reason": "wider stop"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response.json()["configuration"]["parameters"]["fast_period"] == 10  # the rest kept
    versions = trader.get(API + f"strategies/{strategy_id}/versions/").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert set(versions[0]) == set(contract.versions_answer()[0])
    assert versions[0]["created_by"] == "trader"
    assert versions[0]["reason"] == "wider stop"
    assert versions[0]["diff"] == {
        "capital": ["25000.000000", "30000.000000"],
        "parameters": {"stop_loss_pct": {"before": None, "after": "0.02"}},
    }
    assert versions[0]["configuration"]["parameters"]["stop_loss_pct"] == "0.02"
    # The same values again change nothing: no new version.
    again = send(trader, "PATCH", f"strategies/{strategy_id}/", {"capital": "30000"})
    assert again.json()["version"] == 2
    assert StrategyVersion.objects.filter(strategy_id=strategy_id).count() == 2
    assert Event.objects.filter(type="strategy.updated", strategy_id=strategy_id).count() == 1


def test_a_running_strategys_parameters_do_not_change_its_name_and_capital_may(demo, trader):
    strategy_id = create(trader).json()["id"]
    Strategy.objects.filter(pk=strategy_id).update(status="RUNNING")
    refused = send(trader, "PATCH", f"strategies/{strategy_id}/", {"parameters": {"fast_period": 5}})
    assert (refused.status_code, refused.json()["code"]) == (409, "strategy_not_editable")
    assert send(trader, "PATCH", f"strategies/{strategy_id}/", {"symbols": ["MSFT"]}).status_code == 409
    renamed = send(trader, "PATCH", f"strategies/{strategy_id}/", {"name": "sma-renamed", "capital": "20000"})
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["version"]) == ("sma-renamed", 2)
    Strategy.objects.filter(pk=strategy_id).update(status="PAUSED")
    assert send(trader, "PATCH", f"strategies/{strategy_id}/", {"parameters": {"fast_period": 5}}).status_code == 200


def test_a_signal_records_the_version_in_force(demo, trader):
    signal(demo, "v1")
    send(trader, "PATCH", f"strategies/{demo.strategy.pk}/", {"capital": "90000"})
    signal(demo, "v2")
    versions = dict(TradingSignal.objects.values_list("external_id", "strategy_version"))
    assert versions == {"v1": 1, "v2": 2}
    assert Order.objects.get(signal__external_id="v2").strategy_version == 2


# ---------- the lifecycle, every pair ----------
@pytest.mark.parametrize("action", PERSON_ACTIONS, ids=str)
@pytest.mark.parametrize("status", list(StrategyStatus), ids=str)
def test_every_action_from_every_status(demo, trader, device, status, action):
    strategy = made(demo, status)
    body = {"reason": "because", **({"otp": code(device)} if needs_otp(status, action) else {})}
    response = send(trader, "POST", f"strategies/{strategy.pk}/{action}/", body)
    strategy.refresh_from_db()
    legal = (status, action) in TRANSITIONS
    if legal:
        assert response.status_code == 200, response.content
        expected = TRANSITIONS[(status, action)]
        assert response.json()["status"] == strategy.status == expected
        event = Event.objects.get(
            type=f"strategy.{'deployed' if action == 'deploy' else action + ('ped' if action == 'stop' else 'd')}",
            strategy=strategy,
        )
        assert (event.actor, event.payload["reason"], event.payload["previous_status"]) == ("trader", "because", status)
        assert event.payload["status"] == expected
        assert strategy.status_changed_at is not None
        if action == StrategyAction.DEPLOY:
            assert strategy.deployed_at is not None
    else:
        assert response.status_code == 409
        assert response.json()["code"] == "illegal_strategy_transition"
        assert status in response.json()["message"] and action in response.json()["message"]
        assert strategy.status == status
        assert not Event.objects.filter(
            strategy=strategy, type__in=[f"strategy.{x}" for x in ("deployed", "paused", "resumed", "stopped")]
        ).exists()


@pytest.mark.parametrize(
    ("status", "action"),
    [("DRAFT", "deploy"), ("STOPPED", "deploy"), ("AUTO_PAUSED", "resume")],
)
def test_the_one_time_password_missing_wrong_or_not_enrolled(demo, trader, status, action):
    strategy = made(demo, status)
    path = f"strategies/{strategy.pk}/{action}/"
    not_enrolled = send(trader, "POST", path, {"otp": "123456"})
    assert (not_enrolled.status_code, not_enrolled.json()["code"]) == (403, "otp_not_enrolled")
    device = TOTPDevice.objects.create(user=demo.trader, name="phone", confirmed=True)
    session_verify(trader, device)
    missing = send(trader, "POST", path, {})
    assert (missing.status_code, missing.json()["code"]) == (403, "otp_required")
    right = code(device)
    wrong = send(trader, "POST", path, {"otp": f"{(int(right) + 1) % 1_000_000:06d}"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "otp_invalid")
    strategy.refresh_from_db()
    assert strategy.status == status
    # The failure was counted (django-otp's throttling: the next try waits a second), even though the
    # transition's transaction wrote nothing.
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()
    assert send(trader, "POST", path, {"otp": right}).status_code == 200
    # A code is used once.
    strategy.refresh_from_db()
    Strategy.objects.filter(pk=strategy.pk).update(status=status)
    reused = send(trader, "POST", path, {"otp": right})
    assert (reused.status_code, reused.json()["code"]) == (403, "otp_invalid")


def test_pausing_and_resuming_by_hand_need_no_password(demo, trader):
    path = f"strategies/{demo.strategy.pk}/"
    assert send(trader, "POST", path + "pause/", {}).json()["status"] == "PAUSED"
    answer = send(trader, "POST", path + "resume/", {}).json()
    assert answer["status"] == "RUNNING"
    assert answer["allowed_actions"] == ["pause", "stop"]


# ---------- delete ----------
def test_only_a_draft_or_stopped_strategy_is_deleted_and_its_history_stays(demo, trader):
    running = send(trader, "DELETE", f"strategies/{demo.strategy.pk}/")
    assert (running.status_code, running.json()["code"]) == (409, "strategy_not_deletable")
    signal(demo, "before-delete")
    Strategy.objects.filter(pk=demo.strategy.pk).update(status="STOPPED")
    response = send(trader, "DELETE", f"strategies/{demo.strategy.pk}/")
    assert response.status_code == 204
    assert trader.get(API + f"strategies/{demo.strategy.pk}/").status_code == 404
    assert [s["name"] for s in trader.get(API + "strategies/").json()["results"]] == []
    # Its signals, orders and events remain; its key is revoked; its name is free again.
    assert TradingSignal.objects.filter(strategy=demo.strategy).count() == 1
    assert Order.objects.filter(strategy=demo.strategy).exists()
    assert not ApiKey.objects.filter(strategy=demo.strategy, revoked_at__isnull=True).exists()
    assert Event.objects.get(type="strategy.deleted", strategy=demo.strategy).actor == "trader"
    assert create(trader, name="demo-ai").status_code == 201
    assert send(trader, "DELETE", f"strategies/{demo.strategy.pk}/").status_code == 404


# ---------- who may see and do what ----------
def test_a_scoped_key_reads_its_strategy_only_and_changes_nothing(demo, trader):
    other = made(demo, "DRAFT", name="other")
    key = {"HTTP_AUTHORIZATION": f"Bearer {demo.key}"}
    client = Client()
    listed = client.get(API + "strategies/", **key).json()["results"]
    assert [s["id"] for s in listed] == [demo.strategy.pk]
    assert client.get(API + f"strategies/{demo.strategy.pk}/", **key).status_code == 200
    assert client.get(API + f"strategies/{demo.strategy.pk}/versions/", **key).status_code == 200
    assert client.get(API + f"strategies/{other.pk}/", **key).status_code == 404
    assert client.get(API + f"strategies/{other.pk}/signals/", **key).status_code == 404
    for method, path, body in [
        ("POST", f"strategies/{demo.strategy.pk}/pause/", {}),
        ("POST", f"strategies/{demo.strategy.pk}/stop/", {}),
        ("PATCH", f"strategies/{demo.strategy.pk}/", {"capital": "1"}),
        ("DELETE", f"strategies/{other.pk}/", None),
        ("POST", "strategies/", {"name": "k", "strategy_type": "EXTERNAL_AI", "capital": "1"}),
    ]:
        response = send(client, method, path, body, **key)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), (method, path)
    demo.strategy.refresh_from_db()
    assert demo.strategy.status == "RUNNING"


def test_another_users_strategy_is_not_found(demo, trader):
    stranger = get_user_model().objects.create_user("stranger", password="x" * 12)
    role_add(stranger, TRADER)
    account = account_open(owner=stranger, name="theirs", cash=Decimal(50000), actor="test")
    theirs = strategy_create(
        owner=stranger, account=account, name="theirs", strategy_type="EXTERNAL_AI", capital=Decimal(1000)
    )
    for method, path in [
        ("GET", f"strategies/{theirs.pk}/"),
        ("GET", f"strategies/{theirs.pk}/versions/"),
        ("GET", f"strategies/{theirs.pk}/signals/"),
        ("PATCH", f"strategies/{theirs.pk}/"),
        ("DELETE", f"strategies/{theirs.pk}/"),
        ("POST", f"strategies/{theirs.pk}/deploy/"),
    ]:
        response = send(trader, method, path, {} if method in ("PATCH", "POST") else None)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), (method, path)
    key = api_key_create(user=stranger)
    assert Client().get(API + f"strategies/{demo.strategy.pk}/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404


# ---------- pausing: entries stop, reducing signals pass, nothing is replayed ----------
def test_a_paused_strategy_refuses_entries_takes_reducing_signals_and_resume_replays_nothing(
    demo, trader, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        bought = signal(demo, "entry")  # 0.1 x 100,000 / 200 = 50 shares
    position = Position.objects.get(strategy=demo.strategy)
    assert position.quantity == 50
    assert send(trader, "POST", f"strategies/{demo.strategy.pk}/pause/", {"reason": "lunch"}).status_code == 200

    more = signal(demo, "more")
    assert more["status"] == "rejected"
    assert [v["code"] for v in more["violations"]] == ["strategy_paused"]
    too_big = signal(demo, "too-big", "SELL", position_size="0.2")  # 100 shares against 50 held
    assert [v["code"] for v in too_big["violations"]] == ["strategy_paused"]
    with django_capture_on_commit_callbacks(execute=True):
        reduce = signal(demo, "reduce", "SELL", position_size="0.05")  # 25 shares
    assert reduce["status"] in ("accepted", "executed"), reduce
    position.refresh_from_db()
    assert position.quantity == 25
    orders_before = Order.objects.count()

    assert send(trader, "POST", f"strategies/{demo.strategy.pk}/resume/", {}).status_code == 200
    assert Order.objects.count() == orders_before
    refused = TradingSignal.objects.filter(external_id__in=["more", "too-big"])
    assert set(refused.values_list("status", flat=True)) == {"rejected"}
    assert not Order.objects.filter(signal__in=refused).exists()
    assert signal(demo, "after-resume")["status"] in ("accepted", "executed")
    assert bought["order_id"]


def test_a_stopped_strategy_left_holding_a_position_takes_signals_that_reduce_it(
    demo, trader, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signal(demo, "entry")
    with django_capture_on_commit_callbacks(execute=True):
        assert send(trader, "POST", f"strategies/{demo.strategy.pk}/stop/", {"flatten": False}).status_code == 200
    assert [v["code"] for v in signal(demo, "entry-2")["violations"]] == ["strategy_not_running"]
    with django_capture_on_commit_callbacks(execute=True):
        out = signal(demo, "out", "SELL")  # the same 50 shares: the whole position, no more
    assert out["status"] in ("accepted", "executed"), out["violations"]
    assert Position.objects.get(strategy=demo.strategy).quantity == 0
    assert [v["code"] for v in signal(demo, "short", "SELL")["violations"]] == ["strategy_not_running"]


def test_an_auto_paused_strategy_refuses_entries_with_strategy_paused(demo):
    Strategy.objects.filter(pk=demo.strategy.pk).update(status="AUTO_PAUSED")
    answer = signal(demo, "x")
    assert [v["code"] for v in answer["violations"]] == ["strategy_paused"]
    assert "auto-pause rule" in answer["violations"][0]["message"]


# ---------- stop ----------
@pytest.mark.parametrize("flatten", [False, True])
def test_stop_cancels_its_open_orders_and_flattens_when_asked(
    demo, trader, flatten, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        filled = signal(demo, "filled", stop_loss="150")
        resting = signal(demo, "resting", target_price="170", position_size="0.05")  # a limit below the market
    assert Order.objects.get(pk=filled["order_id"]).status == OrderStatus.FILLED
    assert Order.objects.get(pk=resting["order_id"]).status in OPEN_STATUSES
    with django_capture_on_commit_callbacks(execute=True):
        response = send(trader, "POST", f"strategies/{demo.strategy.pk}/stop/", {"flatten": flatten, "reason": "done"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "STOPPED"
    assert Order.objects.get(pk=resting["order_id"]).status == OrderStatus.CANCELED
    event = Event.objects.get(type="strategy.stopped", strategy=demo.strategy)
    assert (event.payload["flatten"], event.payload["reason"]) == (flatten, "done")
    position = Position.objects.get(strategy=demo.strategy)
    protective = Order.objects.get(parent_id=filled["order_id"])
    if flatten:
        assert position.quantity == 0
        assert protective.status == OrderStatus.CANCELED
    else:
        # Its position stays, guarded by its stop loss.
        assert position.quantity == 50
        assert protective.status in OPEN_STATUSES


# ---------- signals ----------
def test_recent_signals_with_their_outcome(demo, trader):
    signal(demo, "one")
    Strategy.objects.filter(pk=demo.strategy.pk).update(status="PAUSED")
    signal(demo, "two")
    answer = trader.get(API + f"strategies/{demo.strategy.pk}/signals/?limit=5").json()
    assert [s["id"] for s in answer] == ["two", "one"]
    assert set(answer[0]) == set(contract.signals_answer(1)[0])
    assert answer[0]["status"] == "rejected" and answer[0]["violations"][0]["code"] == "strategy_paused"
    assert answer[1]["order_id"] is not None
    assert len(trader.get(API + f"strategies/{demo.strategy.pk}/signals/?limit=1").json()) == 1
    assert trader.get(API + f"strategies/{demo.strategy.pk}/signals/?limit=0").status_code == 400


# ---------- the demo ----------
def test_seed_demo_creates_demo_ai_through_the_manager_once(demo):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    strategy = Strategy.objects.get(owner=demo.trader, name="demo-ai", deleted_at__isnull=True)
    assert (strategy.status, strategy.version) == ("RUNNING", 1)
    assert list(strategy.versions.values_list("number", "capital")) == [(1, Decimal(100_000))]
    assert Event.objects.filter(type="strategy.created", strategy=strategy).count() == 1


def test_a_change_in_the_admin_is_a_new_version_too(demo, rf):
    from django.contrib.admin.sites import site

    ops = get_user_model().objects.get(username="ops")
    strategy = Strategy.objects.get(pk=demo.strategy.pk)
    strategy.capital = Decimal(120_000)
    form = type("Form", (), {"changed_data": ["capital"], "cleaned_data": {"capital": strategy.capital}})()
    request = rf.post("/admin/")
    request.user = ops
    site._registry[Strategy].save_model(request, strategy, form, change=True)
    version = StrategyVersion.objects.get(strategy=strategy, number=2)
    assert (version.created_by, version.reason) == (ops, "changed in the admin")
    assert version.diff == {"capital": ["100000.000000", "120000.000000"]}
    assert Event.objects.filter(type="strategy.updated", strategy=strategy, actor="ops").exists()
