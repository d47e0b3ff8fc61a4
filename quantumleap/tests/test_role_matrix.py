"""Every API endpoint, every role, owner / sibling / other, generated from the URL conf (issue 15).

``EXPECTED`` has one row per (route name, method) under /api/: what each role gets for the owner's
object, for another strategy of the owner (``sibling``: a key scoped to one strategy must not reach
it), and for another trader's (``other``). A route in the URL conf with no row fails
``test_every_api_route_has_its_row``, so a new endpoint cannot be forgotten: add its row here.

Outcomes: ``OK`` a 2xx; ``PASS`` the role layer let it through (anything but 401, 403, 404 and 5xx,
or a 403 asking for a one-time password: a later step); ``DENY`` 403; ``HIDE`` 404; ``ANON`` 401;
``SEE`` / ``BLIND`` a 200 list that holds / does not hold the target's row; an int, that status.
A cell is one outcome for every target, or a tuple (owner, sibling, other).
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.views import APIView

from accounts.models import AccountGrant
from accounts.permissions import is_operations
from accounts.roles import OPERATIONS, TRADER, VIEWER, role_add
from accounts.services import api_key_create
from quantumleap.codes import ERRORS, ORDER_REFUSALS, STRATEGY_REFUSALS
from strategies.models import Strategy, TradingSignal
from tests.otp import otp_client
from trading.models import Account, Event, Execution, Instrument, Order, Position

OK, PASS, DENY, HIDE, ANON, SEE, BLIND = "ok", "pass", "deny", "hide", "anon", "see", "blind"
ROLES = ["trader", "operations", "viewer", "producer_scoped", "producer_unscoped", "anonymous"]
TARGETS = ["owner", "sibling", "other"]
PRODUCERS_DENIED = {"producer_scoped": DENY, "producer_unscoped": DENY}

# Reads of the owner's rows: the trader and a viewer granted the account see the owner's; operations all.
READ_ROWS = {
    "trader": (SEE, SEE, BLIND),
    "operations": SEE,
    "viewer": (SEE, SEE, BLIND),
    **PRODUCERS_DENIED,
    "anonymous": ANON,
}
READ_ONE = {
    "trader": (OK, OK, HIDE),
    "operations": OK,
    "viewer": (OK, OK, HIDE),
    **PRODUCERS_DENIED,
    "anonymous": ANON,
}
TRADE_ONE = {
    "trader": (PASS, PASS, HIDE),
    "operations": DENY,
    "viewer": DENY,
    **PRODUCERS_DENIED,
    "anonymous": ANON,
}
# A strategy and its figures: a producer's key reads the strategy it is scoped to, nothing when unscoped.
STRATEGY_ROWS = {**READ_ROWS, "producer_scoped": (SEE, BLIND, BLIND), "producer_unscoped": BLIND}
STRATEGY_ONE = {**READ_ONE, "producer_scoped": (OK, HIDE, HIDE), "producer_unscoped": HIDE}
# A person's own new rows (a strategy, a backtest): the target does not matter.
CREATE_OWN = {"trader": PASS, "operations": DENY, "viewer": DENY, **PRODUCERS_DENIED, "anonymous": ANON}
# Another person's backtest (the matrix makes none: an id nobody has) is hidden from every person.
BACKTEST_ONE = {"trader": HIDE, "operations": HIDE, "viewer": HIDE, **PRODUCERS_DENIED, "anonymous": ANON}
BACKTEST_CHANGE = {"trader": HIDE, "operations": DENY, "viewer": DENY, **PRODUCERS_DENIED, "anonymous": ANON}
PEOPLE_READ = {"trader": OK, "operations": OK, "viewer": OK, **PRODUCERS_DENIED, "anonymous": ANON}
# Posting signals: the owner's key and the trader; another trader's strategy is not theirs (400, 403 scoped).
POST_SIGNAL = {
    "trader": (OK, OK, 400),
    "operations": DENY,
    "viewer": DENY,
    "producer_scoped": (OK, DENY, DENY),
    "producer_unscoped": (OK, OK, 400),
    "anonymous": ANON,
}


def signal_body(world, target) -> dict:
    world.counter += 1
    return {
        "id": f"matrix-{world.counter}",
        "symbol": "AAPL",
        "signal_type": "HOLD",
        "confidence_score": "0.5",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
        "strategy_id": target.strategy.pk,
    }


@dataclass
class Row:
    path: Any  # (world, target) -> path under /api/v1/
    outcomes: dict[str, Any]
    body: Any = None  # (world, target) -> JSON body
    row_id: Any = None  # (target) -> (field, value) that marks the target's row in a list answer


def _id(field: str, attribute: str):
    return lambda target: (field, getattr(getattr(target, attribute), "pk" if field != "exec_id" else "exec_id"))


EXPECTED: dict[tuple[str, str], Row] = {
    ("signal-create", "POST"): Row(lambda w, t: "signals/", POST_SIGNAL, body=signal_body),
    ("signal-batch", "POST"): Row(
        lambda w, t: "signal-batches/", POST_SIGNAL, body=lambda w, t: {"signals": [signal_body(w, t)]}
    ),
    ("signal-detail", "GET"): Row(
        lambda w, t: f"signals/{t.signal.external_id}/",
        {
            "trader": (OK, OK, HIDE),
            "operations": OK,
            "viewer": (OK, OK, HIDE),
            "producer_scoped": (OK, HIDE, HIDE),
            "producer_unscoped": (OK, OK, HIDE),
            "anonymous": ANON,
        },
    ),
    ("strategy-list", "GET"): Row(lambda w, t: "strategies/", STRATEGY_ROWS, row_id=_id("id", "strategy")),
    ("strategy-detail", "GET"): Row(lambda w, t: f"strategies/{t.strategy.pk}/", STRATEGY_ONE),
    ("strategy-list", "POST"): Row(
        lambda w, t: "strategies/",
        CREATE_OWN,
        body=lambda w, t: {"name": f"matrix-{id(t)}", "strategy_type": "EXTERNAL_AI", "capital": "1000"},
    ),
    ("strategy-detail", "PATCH"): Row(
        lambda w, t: f"strategies/{t.strategy.pk}/", TRADE_ONE, body=lambda w, t: {"capital": "1000"}
    ),
    ("strategy-detail", "DELETE"): Row(lambda w, t: f"strategies/{t.strategy.pk}/", TRADE_ONE),
    ("strategy-deploy", "POST"): Row(
        lambda w, t: f"strategies/{t.strategy.pk}/deploy/", TRADE_ONE, body=lambda w, t: {}
    ),
    ("strategy-pause", "POST"): Row(lambda w, t: f"strategies/{t.strategy.pk}/pause/", TRADE_ONE, body=lambda w, t: {}),
    ("strategy-resume", "POST"): Row(
        lambda w, t: f"strategies/{t.strategy.pk}/resume/", TRADE_ONE, body=lambda w, t: {}
    ),
    ("strategy-stop", "POST"): Row(lambda w, t: f"strategies/{t.strategy.pk}/stop/", TRADE_ONE, body=lambda w, t: {}),
    ("strategy-types", "GET"): Row(
        lambda w, t: "strategies/types/",
        {
            "trader": OK,
            "operations": OK,
            "viewer": OK,
            "producer_scoped": OK,
            "producer_unscoped": OK,
            "anonymous": ANON,
        },
    ),
    ("strategy-versions", "GET"): Row(lambda w, t: f"strategies/{t.strategy.pk}/versions/", STRATEGY_ONE),
    ("strategy-signals", "GET"): Row(lambda w, t: f"strategies/{t.strategy.pk}/signals/", STRATEGY_ONE),
    ("strategy-performance", "GET"): Row(lambda w, t: f"strategies/{t.strategy.pk}/performance/", STRATEGY_ONE),
    ("strategy-trades", "GET"): Row(lambda w, t: f"strategies/{t.strategy.pk}/trades/", STRATEGY_ONE),
    ("strategy-trades-csv", "GET"): Row(lambda w, t: f"strategies/{t.strategy.pk}/trades.csv", STRATEGY_ONE),
    ("strategy-attribution", "GET"): Row(lambda w, t: f"strategies/{t.strategy.pk}/attribution/", STRATEGY_ONE),
    ("backtest-list", "GET"): Row(lambda w, t: "backtests/", PEOPLE_READ),
    ("backtest-list", "POST"): Row(lambda w, t: "backtests/", CREATE_OWN, body=lambda w, t: {}),
    ("backtest-detail", "GET"): Row(lambda w, t: "backtests/999999/", BACKTEST_ONE),
    ("backtest-trades", "GET"): Row(lambda w, t: "backtests/999999/trades/", BACKTEST_ONE),
    ("backtest-equity", "GET"): Row(lambda w, t: "backtests/999999/equity/", BACKTEST_ONE),
    ("backtest-cancel", "POST"): Row(lambda w, t: "backtests/999999/cancel/", BACKTEST_CHANGE, body=lambda w, t: {}),
    ("backtest-datasets", "GET"): Row(lambda w, t: "backtests/datasets/", PEOPLE_READ),
    ("backtest-datasets", "POST"): Row(lambda w, t: "backtests/datasets/", CREATE_OWN, body=lambda w, t: {}),
    ("backtest-sources", "GET"): Row(lambda w, t: "backtests/sources/", PEOPLE_READ),
    ("backtest-optimizations", "GET"): Row(lambda w, t: "backtests/optimizations/", PEOPLE_READ),
    ("backtest-optimizations", "POST"): Row(lambda w, t: "backtests/optimizations/", CREATE_OWN, body=lambda w, t: {}),
    ("backtest-optimization-detail", "GET"): Row(lambda w, t: "backtests/optimizations/999999/", BACKTEST_ONE),
    ("backtest-optimization-cancel", "POST"): Row(
        lambda w, t: "backtests/optimizations/999999/cancel/", BACKTEST_CHANGE, body=lambda w, t: {}
    ),
    ("order-list", "GET"): Row(
        lambda w, t: "orders/",
        {
            **READ_ROWS,
            "producer_scoped": (SEE, BLIND, BLIND),
            "producer_unscoped": (SEE, SEE, BLIND),
        },
        row_id=_id("id", "order"),
    ),
    ("order-detail", "GET"): Row(
        lambda w, t: f"orders/{t.order.pk}/",
        {**READ_ONE, "producer_scoped": (OK, HIDE, HIDE), "producer_unscoped": (OK, OK, HIDE)},
    ),
    ("order-detail", "PATCH"): Row(lambda w, t: f"orders/{t.order.pk}/", TRADE_ONE, body=lambda w, t: {"price": "99"}),
    ("order-cancel", "POST"): Row(lambda w, t: f"orders/{t.order.pk}/cancel/", TRADE_ONE),
    ("position-list", "GET"): Row(lambda w, t: "positions/", READ_ROWS, row_id=_id("id", "position")),
    ("position-history", "GET"): Row(
        lambda w, t: "positions/history/?symbol=AAPL", READ_ROWS, row_id=_id("exec_id", "execution")
    ),
    ("position-close", "POST"): Row(lambda w, t: f"positions/{t.position.pk}/close/", TRADE_ONE),
    ("execution-list", "GET"): Row(lambda w, t: "executions/", READ_ROWS, row_id=_id("id", "execution")),
    ("event-list", "GET"): Row(lambda w, t: "events/", READ_ROWS, row_id=_id("id", "event")),
    ("portfolio", "GET"): Row(lambda w, t: f"portfolio/?account={t.strategy.account_id}", READ_ONE),
    ("operations", "GET"): Row(
        lambda w, t: "operations/",
        {"trader": DENY, "operations": OK, "viewer": DENY, **PRODUCERS_DENIED, "anonymous": ANON},
    ),
    ("risk-parameters", "GET"): Row(lambda w, t: f"risk/parameters/?account={t.strategy.account_id}", READ_ONE),
    ("risk-parameters", "PUT"): Row(
        lambda w, t: "risk/parameters/",
        {"trader": PASS, "operations": DENY, "viewer": DENY, **PRODUCERS_DENIED, "anonymous": ANON},
        body=lambda w, t: {"max_position_size": "0.2"},
    ),
    ("risk-assessment", "GET"): Row(lambda w, t: f"risk/assessment/?account={t.strategy.account_id}", READ_ONE),
    ("risk-kill-switch", "GET"): Row(lambda w, t: f"risk/kill-switch/?account={t.strategy.account_id}", READ_ONE),
    ("risk-kill-switch", "POST"): Row(
        lambda w, t: "risk/kill-switch/",
        # Operations stop any strategy; a trader their own.
        {**TRADE_ONE, "operations": PASS},
        body=lambda w, t: {"action": "engage", "scope": "STRATEGY", "strategy_id": t.strategy.pk, "reason": "matrix"},
    ),
    ("risk-trading-state-release", "POST"): Row(
        lambda w, t: "risk/trading-state/release/",
        {**TRADE_ONE, "operations": HIDE},  # operations have no account of their own to release
        body=lambda w, t: {"strategy_id": t.strategy.pk, "reason": "matrix"},
    ),
    ("market-price", "GET"): Row(lambda w, t: "market/prices/AAPL/", PEOPLE_READ),
    ("market-status", "GET"): Row(lambda w, t: "market/status/", PEOPLE_READ),
}


# The URL conf ---------------------------------------------------------------------------------------
def _api_routes(patterns=None, prefix: str = "") -> list[tuple[str, str, type]]:
    """(route name, route, view class) of every pattern under /api/ served by a DRF view."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
            found.append((pattern.name, route, view))
    return found


def _api_operations() -> set[tuple[str, str]]:
    operations = set()
    for name, route, view in _api_routes():
        if route.startswith(("api/schema", "api/docs")):
            continue  # the OpenAPI schema and its viewer: public documentation
        assert view is not None and issubclass(view, APIView), f"{route} is not a DRF view: no permission layer"
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                operations.add((name, method.upper()))
    return operations


def test_every_api_route_has_its_row():
    operations = _api_operations()
    missing = sorted(operations - set(EXPECTED))
    stale = sorted(set(EXPECTED) - operations)
    assert not missing, f"API operations with no row in EXPECTED (add one per route and method): {missing}"
    assert not stale, f"Rows in EXPECTED for operations the URL conf no longer has: {stale}"


def test_every_api_view_states_its_roles_per_method():
    for name, route, view in _api_routes():
        if route.startswith(("api/schema", "api/docs")):
            continue
        access = getattr(view, "access", None)
        assert access, f"{name} ({route}) states no access: everyone is refused"
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                assert method.upper() in access, f"{name} {method.upper()} states no access"


def test_a_view_that_states_no_roles_is_refused_to_everyone(rf, demo):
    class Unstated(APIView):
        def get(self, request):
            from rest_framework.response import Response

            return Response({"secret": True})

    superuser = get_user_model().objects.create_superuser("root", password="not-used-here-42")
    for user in (demo.trader, superuser):
        request = rf.get("/api/v1/unstated/")
        request.user = user
        request._dont_enforce_csrf_checks = True
        response = Unstated.as_view(authentication_classes=[])(request)
        # No authenticator to name: DRF answers an anonymous-looking refusal 403 too.
        assert response.status_code == 403, (user, response.status_code)


# The world --------------------------------------------------------------------------------------------
@dataclass
class Target:
    strategy: Strategy
    signal: TradingSignal
    order: Order
    position: Position
    execution: Execution
    event: Event


@dataclass
class World:
    targets: dict[str, Target]
    clients: dict[str, Client]
    counter: int = 0


def _rows(account: Account, strategy: Strategy, instrument: Instrument, name: str) -> Target:
    now = timezone.now()
    signal = TradingSignal.objects.create(
        producer=strategy.owner,
        external_id=f"sig-{name}",
        strategy=strategy,
        symbol=instrument.symbol,
        instrument=instrument,
        signal_type="BUY",
        confidence_score=Decimal("0.5"),
        position_size=Decimal("0.01"),
        expires_at=now + timedelta(days=1),
        status=TradingSignal.Status.ACCEPTED,
    )
    order = Order.objects.create(
        account=account,
        instrument=instrument,
        strategy=strategy,
        signal=signal,
        side="BUY",
        order_type="LIMIT",
        quantity=Decimal(10),
        price=Decimal(100),
        reference_price=Decimal(100),
        status="ACCEPTED",
        broker_order_id=f"matrix-{name}",
    )
    execution = Execution.objects.create(
        exec_id=f"exec-{name}",
        order=order,
        account=account,
        instrument=instrument,
        strategy=strategy,
        side="BUY",
        quantity=Decimal(1),
        price=Decimal(100),
        executed_at=now,
    )
    position = Position.objects.create(
        account=account, instrument=instrument, strategy=strategy, quantity=Decimal(5), average_price=Decimal(100)
    )
    event = Event.objects.create(
        type="order.accepted", occurred_at=now, account=account, strategy=strategy, order=order, actor="matrix"
    )
    return Target(strategy, signal, order, position, execution, event)


def _user(username: str, *roles: str):
    user = get_user_model().objects.create_user(username, password="not-used-here-42")
    for role in roles:
        role_add(user, role)
    return user


def _client(user=None, key: str | None = None) -> Client:
    client = Client(raise_request_exception=False, **({"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}))
    if user is not None and is_operations(user):
        otp_client(user, client)  # operations must have a device: a verified session, as after sign-in
    elif user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def world(db) -> World:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    demo = Strategy.objects.get(name="demo-ai")
    trader, account = demo.owner, demo.account
    aapl = Instrument.objects.get(symbol="AAPL")
    sibling = Strategy.objects.create(
        owner=trader,
        account=account,
        name="a-second",
        strategy_type=demo.strategy_type,
        capital=Decimal(1000),
        status="RUNNING",
    )
    bob = _user("bob", TRADER)
    bob_account = Account.objects.create(owner=bob, name="bob's", cash=Decimal(1000000))
    bob_strategy = Strategy.objects.create(
        owner=bob,
        account=bob_account,
        name="bob-ai",
        strategy_type=demo.strategy_type,
        capital=Decimal(1000),
        status="RUNNING",
    )
    viewer = _user("vera", VIEWER)
    AccountGrant.objects.create(account=account, viewer=viewer)
    targets = {
        "owner": _rows(account, demo, aapl, "owner"),
        "sibling": _rows(account, sibling, aapl, "sibling"),
        "other": _rows(bob_account, bob_strategy, aapl, "other"),
    }
    clients = {
        "trader": _client(trader),
        "operations": _client(_user("olga", OPERATIONS)),
        "viewer": _client(viewer),
        "producer_scoped": _client(key=api_key_create(user=trader, strategy=demo)),
        "producer_unscoped": _client(key=api_key_create(user=trader)),
        "anonymous": _client(),
    }
    return World(targets, clients)


def _expected(cell, target: str):
    return cell[TARGETS.index(target)] if isinstance(cell, tuple) else cell


def _answer_rows(data) -> list[dict]:
    return data["results"] if isinstance(data, dict) and "results" in data else data


def _check(outcome, response, row: Row, target: Target) -> str | None:
    """None if the response is the outcome, else what it was."""
    status = response.status_code
    data = response.json() if response["Content-Type"].startswith("application/json") else None
    code = data.get("code") if isinstance(data, dict) else None
    if status >= 500:
        return f"{status} server error"
    if isinstance(data, dict) and status >= 400:
        assert code in {**ERRORS, **ORDER_REFUSALS, **STRATEGY_REFUSALS}, f"unregistered error code {code}"
    ok = {
        OK: 200 <= status < 300,
        PASS: status not in (401, 403, 404) or (status == 403 and str(code).startswith("otp_")),
        DENY: status == 403 and not str(code).startswith("otp_"),
        HIDE: status == 404,
        ANON: status == 401,
    }
    if outcome in (SEE, BLIND):
        if status != 200:
            return f"{status} {code}"
        field, value = row.row_id(target)
        present = any(item.get(field) == value for item in _answer_rows(data))
        return None if present == (outcome == SEE) else f"200, row {'absent' if outcome == SEE else 'present'}"
    good = status == outcome if isinstance(outcome, int) else ok[outcome]
    return None if good else f"{status} {code}"


@pytest.mark.parametrize(("name", "method"), sorted(EXPECTED), ids=lambda v: str(v))
def test_role_matrix(world, name, method):
    row = EXPECTED[(name, method)]
    assert set(row.outcomes) == set(ROLES), f"{name} {method}: give every role an outcome"
    wrong = []
    for role in ROLES:
        for target_name in TARGETS:
            target = world.targets[target_name]
            outcome = _expected(row.outcomes[role], target_name)
            path = f"/api/v1/{row.path(world, target)}"
            body = row.body(world, target) if row.body else None
            # Each request in a savepoint rolled back: what one role changed, the next does not see.
            with transaction.atomic():
                client = world.clients[role]
                call = getattr(client, method.lower())
                extra = {} if body is None else {"data": json.dumps(body), "content_type": "application/json"}
                response = call(path, **extra)
                problem = _check(outcome, response, row, target)
                transaction.set_rollback(True)
            if problem:
                wrong.append(f"{role:18} {target_name:8} expected {outcome!s:6} got {problem}")
    assert not wrong, f"{method} {name}:\n" + "\n".join(wrong)
