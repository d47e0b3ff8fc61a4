"""Risk services and API on the database (both stacks)."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from risk import services
from risk.models import KillSwitch, RiskParameters, RiskState, StopTrigger
from risk.monitor import StopMonitorRunner
from risk.selectors import trading_state_get
from strategies.services import SignalData, signal_receive
from tests.otp import otp_client, otp_code, otp_device
from trading.core.orders import OPEN_STATUSES, OrderStatus
from trading.marketdata import prices_set
from trading.models import Account, Event, Instrument, Order, Position

D = Decimal
TEN, TWO_HUNDRED = Decimal(10), Decimal(200)


def signal(demo, external_id: str, **overrides):
    data = {
        "external_id": external_id,
        "symbol": "AAPL",
        "signal_type": "BUY",
        "confidence_score": D("0.8"),
        "position_size": D("0.1"),
        "expires_at": timezone.now() + timedelta(hours=1),
        **overrides,
    }
    sig, _ = signal_receive(producer=demo.trader, strategy=demo.strategy, data=SignalData(**data))
    sig.refresh_from_db()
    return sig


def codes(sig) -> list[str]:
    return [v["code"] for v in sig.violations]


@pytest.fixture(autouse=True)
def pinned_prices():
    prices_set({"AAPL": D("228.50"), "MSFT": D("415.20")})


def test_kill_switch_cancels_open_orders_refuses_new_ones_until_released(demo, django_capture_on_commit_callbacks):
    first = signal(demo, "k-1", target_price=D("220"))  # a resting limit order (never dispatched in this test)
    order = Order.objects.get(signal=first)
    switch = services.kill_switch_engage(
        scope=KillSwitch.Scope.ACCOUNT, account=demo.account, actor="trader", reason="model misbehaving"
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    refused = signal(demo, "k-2")
    assert codes(refused) == ["kill_switch_engaged"]
    event = Event.objects.get(type="risk.kill_switch_engaged")
    assert (event.severity, event.actor, event.payload["reason"]) == ("CRITICAL", "trader", "model misbehaving")

    services.kill_switch_release(kill_switch_id=switch.pk, actor="ops", reason="model fixed")
    switch.refresh_from_db()
    assert (switch.released_by, switch.release_reason) == ("ops", "model fixed")
    assert signal(demo, "k-3").status == "accepted"


@pytest.mark.parametrize("scope", ["GLOBAL", "STRATEGY"])
def test_global_and_strategy_kill_switches(demo, scope):
    services.kill_switch_engage(scope=scope, account=demo.account, strategy=demo.strategy, actor="ops", reason="drill")
    assert codes(signal(demo, f"s-{scope}")) == ["kill_switch_engaged"]


def test_kill_switch_flatten_closes_positions(demo):
    aapl = Instrument.objects.get(symbol="AAPL")
    Position.objects.create(
        account=demo.account,
        strategy=demo.strategy,
        instrument=aapl,
        quantity=D(10),
        average_price=D(200),
        opened_at=timezone.now(),
    )
    services.kill_switch_engage(scope="ACCOUNT", account=demo.account, actor="t", reason="flat now", flatten=True)
    close = Order.objects.get(instrument=aapl)
    assert (close.side, close.order_type, close.quantity) == ("SELL", "MARKET", D(10))


def test_kill_switch_needs_a_reason(demo):
    with pytest.raises(ValueError, match="why"):
        services.kill_switch_engage(scope="ACCOUNT", account=demo.account, actor="t", reason=" ")


def _long_position(demo, quantity=TEN, average=TWO_HUNDRED):
    return Position.objects.create(
        account=demo.account,
        strategy=demo.strategy,
        instrument=Instrument.objects.get(symbol="AAPL"),
        quantity=quantity,
        average_price=average,
        opened_at=timezone.now(),
    )


def test_a_stop_loss_breach_produces_exactly_one_closing_order(demo):
    position = _long_position(demo)  # default 5 % stop: 190
    runner = StopMonitorRunner(refresh_seconds=3600)
    assert runner.on_price("AAPL", D("190.01")) == []
    assert len(runner.on_price("AAPL", D(190))) == 1
    assert runner.on_price("AAPL", D(185)) == []  # the next tick
    runner.refresh(force=True)  # a reload (another process, a restart) does not re-arm it
    assert runner.on_price("AAPL", D(180)) == []
    again = services.stop_breach_close(
        position_id=position.pk,
        opened_at=position.opened_at,
        kind="STOP_LOSS",
        trigger_price=D(190),
        price=D(180),
        now=timezone.now(),
    )
    assert again is None
    (close,) = Order.objects.filter(account=demo.account)
    assert (close.side, close.order_type, close.quantity, close.strategy_id) == (
        "SELL",
        "MARKET",
        D(10),
        demo.strategy.pk,
    )
    assert StopTrigger.objects.get().order == close
    assert Event.objects.filter(type="risk.stop_triggered").count() == 1


def test_take_profit_and_trailing_from_parameters(demo):
    RiskParameters.objects.filter(account=demo.account).update(
        take_profit_percentage=D(0), trailing_stop_percentage=D("0.05")
    )
    _long_position(demo)
    runner = StopMonitorRunner(refresh_seconds=3600)
    runner.on_price("AAPL", D(240))
    assert runner.on_price("AAPL", D("228.01")) == []
    assert [b.kind for b in runner.on_price("AAPL", D(228))] == ["TRAILING_STOP"]


def test_a_breach_replaces_the_resting_broker_stop_with_one_market_close(demo):
    from trading.services import order_submit

    position = _long_position(demo)
    stop = Order.objects.create(
        account=demo.account,
        instrument=position.instrument,
        strategy=demo.strategy,
        side="SELL",
        order_type="STOP",
        quantity=D(10),
        stop_price=D(140),
        reference_price=D(140),
    )
    assert order_submit(order_id=stop.pk).status == OrderStatus.ACCEPTED  # resting at the venue
    runner = StopMonitorRunner(refresh_seconds=3600)
    runner.on_price("AAPL", D(150))
    runner.on_price("AAPL", D(149))
    (close,) = Order.objects.filter(order_type="MARKET")
    assert (close.side, close.quantity) == ("SELL", D(10))
    assert Order.objects.get(pk=stop.pk).status == OrderStatus.CANCELED  # never two closes for one position
    assert StopTrigger.objects.count() == 1


def test_daily_loss_breach_halts_the_account_with_a_critical_alert(demo):
    services.portfolio_risk_monitor(account_id=demo.account.pk)  # day start: 1,000,000
    Account.objects.filter(pk=demo.account.pk).update(cash=D(949999))
    assessment = services.portfolio_risk_monitor(account_id=demo.account.pk)
    assert trading_state_get(account=demo.account) == "HALTED"
    assert assessment.trading_state == "HALTED"
    assert Event.objects.filter(type="risk.limit_breached", severity="CRITICAL").count() == 1
    assert codes(signal(demo, "after-loss")) == ["trading_halted"]
    services.trading_state_release(account=demo.account, actor="trader", reason="reviewed")
    assert trading_state_get(account=demo.account) == "ACTIVE"


def test_strategy_drawdown_moves_only_the_strategy_to_reduce_only(demo):
    RiskParameters.objects.create(strategy=demo.strategy, max_drawdown=D("0.10"), daily_loss_limit=D("0.5"))
    position = _long_position(demo, quantity=D(100), average=D(228.50))
    services.portfolio_risk_monitor(account_id=demo.account.pk)  # high-water mark: capital 100,000
    prices_set({"AAPL": D("128.50")})  # 100 x -100 = -10,000: 10 % of 100,000
    services.portfolio_risk_monitor(account_id=demo.account.pk)
    assert RiskState.objects.get(strategy=demo.strategy).trading_state == "REDUCE_ONLY"
    assert trading_state_get(account=demo.account) == "ACTIVE"
    assert codes(signal(demo, "dd-buy", target_price=D("128.50"))) == ["reduce_only", "max_drawdown_exceeded"]
    assert signal(demo, "dd-sell", signal_type="SELL", position_size=D("0.1")).status == "accepted"
    assert position.pk


def test_a_closed_position_leaves_its_strategy_trading(demo):
    # A flat position has no price in the book (none is read for it): its strategy's equity broke on it.
    Position.objects.create(
        account=demo.account,
        strategy=demo.strategy,
        instrument=Instrument.objects.get(symbol="KO"),
        quantity=D(0),
        average_price=D(0),
        realized_pnl=D(25),
        opened_at=timezone.now() - timedelta(hours=1),
        closed_at=timezone.now(),
    )
    assert signal(demo, "after-close").status == "accepted"
    services.portfolio_risk_monitor(account_id=demo.account.pk)
    # The closed position's realized P&L still counts in the strategy's equity.
    assert RiskState.objects.get(strategy=demo.strategy).high_water_mark == D(100025)


def test_auto_resize_sends_the_largest_quantity_that_passes(demo):
    RiskParameters.objects.filter(account=demo.account).update(
        max_order_notional=D(2285), check_actions={"max_order_notional_exceeded": "RESIZE"}
    )
    sig = signal(demo, "resize")
    assert sig.status == "accepted"
    assert Order.objects.get(signal=sig).quantity == D(10)  # 2,285 / 228.50; 43 were asked for


def test_order_rate_limit_per_strategy(demo):
    RiskParameters.objects.filter(account=demo.account).update(max_strategy_orders_per_minute=2)
    assert [signal(demo, f"r-{i}", position_size=D("0.01")).status for i in range(3)] == ["accepted"] * 2 + ["rejected"]


def test_self_cross_between_strategies_is_refused(demo):
    from strategies.models import Strategy

    other = Strategy.objects.create(
        owner=demo.trader,
        account=demo.account,
        name="other",
        strategy_type="MOMENTUM",
        capital=D(100000),
        status="RUNNING",
    )
    aapl = Instrument.objects.get(symbol="AAPL")
    Order.objects.create(
        account=demo.account,
        instrument=aapl,
        strategy=other,
        side="SELL",
        order_type="LIMIT",
        quantity=D(5),
        price=D(229),
        reference_price=D(229),
        status=OrderStatus.ACCEPTED,
    )
    assert codes(signal(demo, "cross", target_price=D(230))) == ["self_cross"]
    assert signal(demo, "no-cross", target_price=D(228)).status == "accepted"


def test_market_closed_per_exchange_calendar(demo):
    RiskParameters.objects.filter(account=demo.account).update(market_hours="REGULAR")
    saturday = datetime(2024, 3, 2, 16, 0, tzinfo=UTC)
    data = SignalData(
        external_id="weekend",
        symbol="AAPL",
        signal_type="BUY",
        confidence_score=D("0.8"),
        position_size=D("0.1"),
        expires_at=saturday + timedelta(hours=1),
    )
    sig, _ = signal_receive(producer=demo.trader, strategy=demo.strategy, data=data, now=saturday)
    sig.refresh_from_db()
    assert codes(sig) == ["market_closed"]


def test_position_size_methods_respect_limits(demo):
    from risk.selectors import position_size_calculate

    demo.strategy.configuration = {"sizing": {"method": "kelly", "win_probability": "0.9", "kelly_cap": "0.5"}}
    sig = signal(demo, "size", signal_type="HOLD")
    sig.signal_type = "BUY"
    aapl = Instrument.objects.get(symbol="AAPL")
    size = position_size_calculate(strategy=demo.strategy, signal=sig, instrument=aapl, price=D("228.50"))
    # Half-Kelly of f* = 0.9 - 0.1 = 0.8 is 0.4 x 100,000 = 175 shares; the strategy capital (with the
    # 2 % buffer) allows 429, the position limit (10 % of 1,000,000 equity) 437.
    assert (size.quantity, size.limited_by_risk) == (D(175), False)
    demo.strategy.configuration = {"sizing": {"method": "fixed_fraction", "fraction": "1"}}
    size = position_size_calculate(strategy=demo.strategy, signal=sig, instrument=aapl, price=D("228.50"))
    assert (size.quantity, size.limited_by_risk) == (D(429), True)


# ---- REST -------------------------------------------------------------------------------------------


@pytest.fixture
def trader(demo):
    """The trader's session, verified by a TOTP device; ``trader.code()`` is its current one-time password."""
    client = otp_client(demo.trader)
    device = otp_device(demo.trader)
    client.code = lambda: otp_code(device)
    return client


def test_parameters_get_and_put(demo, trader):
    assert trader.get("/api/v1/risk/parameters/").json()["max_position_size"] == "0.100000"
    response = trader.put(
        "/api/v1/risk/parameters/",
        data=json.dumps({"max_position_size": "0.2", "restricted_symbols": ["tsla"], "otp": trader.code()}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    parameters = RiskParameters.objects.get(account=demo.account)
    assert (parameters.max_position_size, parameters.restricted_symbols) == (D("0.2"), ["TSLA"])
    assert Event.objects.filter(type="risk.parameters_updated", actor="trader").exists()
    bad = trader.put(
        "/api/v1/risk/parameters/",
        data=json.dumps({"check_actions": {"kill_switch_engaged": "RESIZE"}, "otp": trader.code()}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    strategy_level = trader.put(
        f"/api/v1/risk/parameters/?strategy={demo.strategy.pk}",
        data=json.dumps({"max_position_size": "0.05", "otp": trader.code()}),
        content_type="application/json",
    )
    assert strategy_level.status_code == 200
    assert RiskParameters.objects.get(strategy=demo.strategy).max_position_size == D("0.05")


def test_signal_keys_cannot_touch_risk_settings(demo):
    response = Client().post("/api/v1/risk/kill-switch/", data={"action": "release", "reason": "x"}, **demo.headers())
    assert response.status_code == 403


def test_assessment_endpoint(demo, trader):
    _long_position(demo)
    body = trader.get("/api/v1/risk/assessment/").json()
    assert body["exposure_by_symbol"] == {"AAPL": "2285.00000000"}
    assert body["exposure_by_sector"] == {"Information Technology": "2285.00000000"}
    assert set(body["utilization"]) >= {"max_position_size", "max_portfolio_exposure", "daily_loss_limit"}
    assert "var_95_1d" in body


def test_kill_switch_endpoint_engage_and_release(demo, trader):
    engaged = trader.post(
        "/api/v1/risk/kill-switch/",
        data=json.dumps({"action": "engage", "scope": "ACCOUNT", "reason": "panic"}),
        content_type="application/json",
    )
    assert engaged.status_code == 201, engaged.content
    assert engaged.json()["engaged_by"] == "trader"
    assert (
        trader.post(
            "/api/v1/risk/kill-switch/",
            data=json.dumps({"action": "engage", "scope": "GLOBAL", "reason": "panic"}),
            content_type="application/json",
        ).status_code
        == 403
    )
    released = trader.post(
        "/api/v1/risk/kill-switch/",
        data=json.dumps(
            {"action": "release", "kill_switch_id": engaged.json()["id"], "reason": "calm", "otp": trader.code()}
        ),
        content_type="application/json",
    )
    assert released.json()["is_engaged"] is False
    assert not Order.objects.filter(status__in=OPEN_STATUSES).exists()


def test_management_command(demo):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "kill_switch", "engage", "--scope", "account", "--account", str(demo.account.pk), "--reason", "cli", stdout=out
    )
    switch = KillSwitch.objects.get()
    assert switch.engaged_by.startswith("shell:")
    call_command("kill_switch", "release", "--id", str(switch.pk), "--reason", "ok", stdout=out)
    assert KillSwitch.objects.get().released_at is not None


def test_validation_writes_nothing_and_leaves_enforcement_to_the_monitor(demo):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from risk.selectors import order_validate
    from trading.core.orders import OrderType, Side

    RiskParameters.objects.filter(account=demo.account).update(daily_loss_action="EMERGENCY_STOP")
    services.portfolio_risk_monitor(account_id=demo.account.pk)  # day start: 1,000,000
    Account.objects.filter(pk=demo.account.pk).update(cash=D(940000))  # 6 % lost today
    account = Account.objects.get(pk=demo.account.pk)
    aapl = Instrument.objects.get(symbol="AAPL")
    with CaptureQueriesContext(connection) as queries:
        validation = order_validate(
            account=account,
            strategy=demo.strategy,
            symbol="AAPL",
            side=Side.BUY,
            order_type=OrderType.MARKET,
            quantity=D(10),
            reference_price=D("228.50"),
            lot_size=D(1),
            now=timezone.now(),
            instrument=aapl,
        )
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert "daily_loss_limit_exceeded" in [v.code for v in validation.violations]

    # The intake refuses the signal, and engages nothing: no emergency stop inside a producer's request.
    assert "daily_loss_limit_exceeded" in codes(signal(demo, "after-loss"))
    assert not KillSwitch.objects.exists()
    # The monitor enforces the breach's action.
    services.portfolio_risk_monitor(account_id=demo.account.pk)
    switch = KillSwitch.objects.get()
    assert (switch.scope, switch.engaged_by) == ("ACCOUNT", "risk-engine")


def test_operations_stop_any_account_by_its_id_and_a_trader_only_their_own(demo, trader):
    from django.contrib.auth import get_user_model

    from accounts.roles import OPERATIONS, role_add

    ops = get_user_model().objects.create_user("night-desk", password="not-used-here-42")
    role_add(ops, OPERATIONS)
    body = {"action": "engage", "scope": "ACCOUNT", "account_id": demo.account.pk, "reason": "runaway model"}
    engaged = otp_client(ops).post("/api/v1/risk/kill-switch/", data=json.dumps(body), content_type="application/json")
    assert engaged.status_code == 201, engaged.content
    assert (engaged.json()["account"], engaged.json()["engaged_by"]) == (demo.account.pk, "night-desk")
    missing = {**body, "account_id": 999_999}
    answer = otp_client(ops).post(
        "/api/v1/risk/kill-switch/", data=json.dumps(missing), content_type="application/json"
    )
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")

    other = Account.objects.create(owner=ops, name="ops's own", cash=1000)
    foreign = {**body, "account_id": other.pk}
    refused = trader.post("/api/v1/risk/kill-switch/", data=json.dumps(foreign), content_type="application/json")
    assert (refused.status_code, refused.json()["message"]) == (404, "No such account of yours.")
    own = {**body, "account_id": demo.account.pk}
    assert (
        trader.post("/api/v1/risk/kill-switch/", data=json.dumps(own), content_type="application/json").status_code
        == 201
    )
    assert KillSwitch.objects.filter(account=other).count() == 0
    assert KillSwitch.objects.filter(account=demo.account, scope="ACCOUNT").count() == 2
