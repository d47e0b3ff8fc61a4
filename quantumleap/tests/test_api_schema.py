"""Schemathesis over /api/schema/: no server error, no undocumented status, no answer outside its schema.

Every operation is driven with a signal producer's key and with the sessions of the trader, a viewer and
operations (each role's credentials), each example
in the test's own transaction (pytest-django), through the WSGI app in this process: on the real
stack too, nothing reaches a worker and nothing outlives the test. `QL_SCHEMATHESIS_EXAMPLES` raises
the bound for a deeper run (the default keeps the module well under two minutes).
"""

import json
import os
import secrets

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import AccountGrant
from accounts.roles import role_add

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
EXAMPLES = int(os.environ.get("QL_SCHEMATHESIS_EXAMPLES", "8"))


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    """seed_demo sets two passwords per test: a fast hasher keeps setup to a fraction of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def in_test_transaction():
    """Requests share the test's connection and transaction, as Django's test client arranges."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["key", "session", "viewer", "operations"])
def credentials(request, demo, in_test_transaction) -> dict:
    """A producer's key, the trader's session, and a viewer's (granted the trader's account) and operations'."""
    # Passed as explicit headers: schemathesis then knows them for credentials, and its probes take them away.
    if request.param == "key":
        return {"headers": {"Authorization": f"Bearer {demo.key}"}, "strategy": None}
    person = demo.trader
    if request.param in ("viewer", "operations"):
        person = get_user_model().objects.create_user(request.param, password="not-used-here-42")
        role_add(person, request.param)
        if request.param == "viewer":
            AccountGrant.objects.create(account=demo.account, viewer=person)
    client = Client()
    client.force_login(person)
    csrf = secrets.token_hex(16)
    return {
        "headers": {"Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}", "X-CSRFToken": csrf},
        # A person posting signals names the strategy (only a scoped key may leave it out), and names one of theirs.
        "strategy": demo.strategy.pk,
    }


def _as_a_client_would(case, strategy: int | None) -> None:
    if strategy is None or case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    if case.path.endswith("/signals/") and isinstance(case.body, dict):
        case.body["strategy_id"] = strategy
    elif case.path.endswith("/signal-batches/") and isinstance(case.body, dict):
        for signal in case.body.get("signals", []):
            signal["strategy_id"] = strategy


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_its_schema_says(case, credentials):
    _as_a_client_would(case, credentials["strategy"])
    excluded = []
    query = case.query or {}
    if (case.path.endswith("/market/status/") and query) or {"since", "until"} <= set(query):
        # Rules no JSON Schema can state, refused with a 400 field error that the schema documents: `at`
        # within the calendar (20 years back to one ahead of today), an `exchange` (or symbol) with a
        # calendar, `until` later than `since`.
        # Every other check still applies to these cases.
        excluded.append(positive_data_acceptance)
    if case.method == "POST" and case.path.startswith("/api/v1/backtests/") and not case.path.endswith("/cancel/"):
        # Likewise: a strategy type's parameters (strategies.core.params), the data fields taken together (a
        # sample, a dataset of yours, stored bars in the period) and an upload's content (the core's OHLCV
        # validation) are refused with a documented 400 (`invalid`, `invalid_ohlcv_data`).
        excluded.append(positive_data_acceptance)
    if case.body is not None and "\\u0000" in json.dumps(case.body, default=str):
        # A NUL character anywhere in a JSON body (a key, a string deep in metadata) is refused with the
        # documented 400 parse_error: PostgreSQL stores none, and JSON Schema cannot say "no NUL" at any depth.
        excluded.append(positive_data_acceptance)
    case.call_and_validate(headers=credentials["headers"], excluded_checks=excluded)


def test_the_schema_states_limits_and_errors(db):
    document = Client().get("/api/schema/?format=json").json()
    orders = document["paths"]["/api/v1/orders/"]["get"]
    limit = next(p for p in orders["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 500)
    assert {"200", "400", "401"} <= set(orders["responses"])
    cancel = document["paths"]["/api/v1/orders/{id}/cancel/"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409"} <= set(cancel)
    signal = document["components"]["schemas"]["SignalInputRequest"]
    assert signal["additionalProperties"] is False
    position_size = signal["properties"]["position_size"]["anyOf"]
    assert {"type": "number", "minimum": 1e-06, "maximum": 1.0, "multipleOf": 1e-06} in position_size
    assert signal["properties"]["metadata"]["type"] == "object"
    parameters = document["components"]["schemas"]["RiskParameters"]["properties"]
    assert parameters["updated_at"]["nullable"] is True
