"""The admin goes through the engine: trading rows are read-only, actions call the API's services, all recorded."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiKey
from risk.models import KillSwitch, RiskParameters, RiskState
from trading.core.orders import OrderStatus
from trading.marketdata import PRICE_KEY, prices_set
from trading.models import Event, Execution, Order, Position
from trading.replay import account_replay

PRICE = Decimal("200.00")


@pytest.fixture(autouse=True)
def pinned_price(tasks_in_process):
    prices_set({"AAPL": PRICE})
    yield
    cache.delete(PRICE_KEY.format("AAPL"))


def verified_admin_client(username: str = "ops", **defaults) -> Client:
    """A signed-in session verified with a TOTP device, as the admin may require (django-otp)."""
    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client(**defaults)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def ops(demo) -> Client:
    return verified_admin_client(REMOTE_ADDR="198.51.100.7")


def _signal(demo, django_capture_on_commit_callbacks, **fields) -> dict:
    body = {
        "id": fields.pop("id", "a1"),
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


def _action(client: Client, model: str, action: str, pks: list[int], callbacks) -> None:
    with callbacks(execute=True):
        response = client.post(f"/admin/{model}/", {"action": action, "_selected_action": [str(pk) for pk in pks]})
    assert response.status_code == 302, response.content


def test_orders_executions_and_positions_cannot_be_added_changed_or_deleted(
    demo, ops, django_capture_on_commit_callbacks
):
    answer = _signal(demo, django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=answer["order_id"])
    execution, position = Execution.objects.get(order=order), Position.objects.get(account=demo.account)

    for model, row in (("trading/order", order), ("trading/execution", execution), ("trading/position", position)):
        assert ops.get(f"/admin/{model}/add/").status_code == 403
        assert ops.get(f"/admin/{model}/{row.pk}/change/").status_code == 200  # a read-only view
        assert ops.post(f"/admin/{model}/{row.pk}/change/", {"quantity": "1"}).status_code == 403
        assert ops.post(f"/admin/{model}/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    position.refresh_from_db()
    assert position.quantity == Decimal(50) and Order.objects.filter(pk=order.pk).exists()


def test_cancel_from_the_admin_goes_through_order_cancel_and_is_recorded(demo, ops, django_capture_on_commit_callbacks):
    answer = _signal(demo, django_capture_on_commit_callbacks, target_price="190")  # a resting limit
    _action(ops, "trading/order", "cancel", [answer["order_id"]], django_capture_on_commit_callbacks)

    assert Order.objects.get(pk=answer["order_id"]).status == OrderStatus.CANCELED
    canceled = Event.objects.get(order_id=answer["order_id"], type="order.canceled")
    assert (canceled.actor, canceled.channel, canceled.source_ip) == ("ops", "admin", "198.51.100.7")


def test_close_from_the_admin_goes_through_position_close(demo, ops, django_capture_on_commit_callbacks):
    _signal(demo, django_capture_on_commit_callbacks)
    position = Position.objects.get(account=demo.account)

    _action(ops, "trading/position", "close", [position.pk], django_capture_on_commit_callbacks)

    position.refresh_from_db()
    assert position.quantity == 0
    closing = Order.objects.filter(account=demo.account, side="SELL").get()
    assert Event.objects.filter(order=closing, type="order.created", actor="ops", channel="admin").exists()


def test_account_cash_changed_in_the_admin_is_recorded_with_before_and_after_and_replays(demo, ops):
    before = demo.account.cash
    form = {"owner": demo.trader.pk, "name": demo.account.name, "broker": "paper", "currency": "USD", "cash": "1234.5"}

    assert ops.post(f"/admin/trading/account/{demo.account.pk}/change/", form).status_code == 302

    event = Event.objects.get(account=demo.account, type="account.cash_adjusted")
    assert event.payload["changes"] == {"cash": {"before": f"{before:f}", "after": "1234.5"}}
    assert (event.actor, event.channel) == ("ops", "admin")
    assert account_replay(account=demo.account) == []  # replay takes the new cash from the event


def test_risk_parameters_changed_in_the_admin_go_through_the_service(demo, ops):
    parameters = RiskParameters.objects.get(account=demo.account)
    form = {
        field: getattr(parameters, field)
        for field in ("max_position_size", "max_portfolio_exposure", "max_sector_exposure", "max_drawdown")
    }
    response = ops.get(f"/admin/risk/riskparameters/{parameters.pk}/change/")
    data = {k: ("" if v is None else v) for k, v in response.context["adminform"].form.initial.items()}
    data = {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in data.items() if k not in ("id",)}
    data["max_position_size"] = "0.05"

    assert ops.post(f"/admin/risk/riskparameters/{parameters.pk}/change/", data).status_code == 302

    parameters.refresh_from_db()
    assert parameters.max_position_size == Decimal("0.05") and form["max_position_size"] != Decimal("0.05")
    event = Event.objects.get(type="risk.parameters_updated", account=demo.account)
    assert event.payload["changes"]["max_position_size"] == {"before": f"{form['max_position_size']}", "after": "0.05"}
    assert event.channel == "admin"


def test_trading_state_is_released_through_the_risk_engine(demo, ops, django_capture_on_commit_callbacks):
    state = RiskState.objects.create(account=demo.account, trading_state="HALTED")

    assert ops.post(f"/admin/risk/riskstate/{state.pk}/change/", {"trading_state": "ACTIVE"}).status_code == 403
    _action(ops, "risk/riskstate", "release", [state.pk], django_capture_on_commit_callbacks)

    state.refresh_from_db()
    assert state.trading_state == "ACTIVE"
    assert Event.objects.filter(type="risk.trading_state_changed", actor="ops", channel="admin").exists()


def test_a_strategy_kill_switch_released_in_the_admin_reaches_its_owners_stream(
    demo, ops, django_capture_on_commit_callbacks
):
    from risk import services

    switch = services.kill_switch_engage(scope="STRATEGY", strategy=demo.strategy, actor="ops", reason="test")

    _action(ops, "risk/killswitch", "release", [switch.pk], django_capture_on_commit_callbacks)

    trader = Client()
    trader.force_login(demo.trader)
    events = trader.get("/api/v1/events/", {"type": "risk.kill_switch_released"}).json()["results"]
    assert [(e["strategy_id"], e["actor"], e["channel"]) for e in events] == [(demo.strategy.pk, "ops", "admin")]
    assert KillSwitch.objects.get(pk=switch.pk).released_by == "ops"


def test_a_key_revoked_in_the_admin_is_refused_and_recorded(demo, ops, django_capture_on_commit_callbacks):
    key = ApiKey.objects.get(user=demo.trader)

    _action(ops, "accounts/apikey", "revoke", [key.pk], django_capture_on_commit_callbacks)

    key.refresh_from_db()
    assert key.revoked_at is not None
    event = Event.objects.get(type="api_key.revoked")
    assert event.payload["prefix"] == key.prefix and event.account_id == demo.account.pk
    assert (event.actor, event.channel) == ("ops", "admin")
    assert Client().get("/api/v1/orders/", **demo.headers()).status_code == 401


def _form_data(client: Client, url: str) -> dict:
    """What the admin's change form (and its inlines) would post back unchanged."""
    context = client.get(url).context
    form = context["adminform"].form
    data = {}
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        for sub in [formset.management_form, *formset.forms]:
            for name in sub.fields:
                value = sub[name].value()
                data[sub.add_prefix(name)] = "" if value is None else value
    for name, field in form.fields.items():
        value = form[name].value()
        if hasattr(field.widget, "widgets"):  # split date and time
            for i, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{i}"] = "" if part is None else part
        else:
            data[name] = "" if value is None else value
    return data


def test_a_strategy_changed_in_the_admin_records_before_and_after(demo, ops):
    url = f"/admin/strategies/strategy/{demo.strategy.pk}/change/"
    before = demo.strategy.capital
    data = _form_data(ops, url)
    data["capital"] = "123456"

    response = ops.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    event = Event.objects.get(type="strategy.updated", strategy=demo.strategy)
    assert event.payload["changes"] == {"capital": {"before": f"{before}", "after": "123456"}}
    assert (event.actor, event.channel) == ("ops", "admin")


def test_a_key_edited_in_the_admin_records_before_and_after_and_never_the_key(demo, ops):
    key = ApiKey.objects.get(user=demo.trader)
    url = f"/admin/accounts/apikey/{key.pk}/change/"
    data = _form_data(ops, url)
    data["name"] = "model-7"

    assert ops.post(url, data).status_code == 302

    event = Event.objects.get(type="api_key.updated")
    assert event.payload["changes"] == {"name": {"before": "", "after": "model-7"}}
    assert key.hashed_key not in json.dumps(event.payload) and demo.key not in json.dumps(event.payload)


def test_an_account_opened_in_the_admin_is_recorded(demo, ops):
    form = {"owner": demo.trader.pk, "name": "second", "broker": "paper", "currency": "USD", "cash": "5000"}

    assert ops.post("/admin/trading/account/add/", form).status_code == 302

    event = Event.objects.get(type="account.opened", account__name="second")
    assert (event.payload["cash"], event.actor, event.channel) == ("5000", "ops", "admin")


def test_a_kill_switch_engaged_in_the_admin_goes_through_the_service(demo, ops, django_capture_on_commit_callbacks):
    form = {"scope": "ACCOUNT", "account": demo.account.pk, "strategy": "", "reason": "drill", "flatten": ""}

    with django_capture_on_commit_callbacks(execute=True):
        assert ops.post("/admin/risk/killswitch/add/", form).status_code == 302

    switch = KillSwitch.objects.get()
    assert (switch.engaged_by, switch.account_id) == ("ops", demo.account.pk)
    event = Event.objects.get(type="risk.kill_switch_engaged")
    assert (event.account_id, event.actor, event.channel) == (demo.account.pk, "ops", "admin")
