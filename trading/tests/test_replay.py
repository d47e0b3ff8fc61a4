"""manage.py events_replay: an account rebuilt from its event log alone equals its tables; a tampered row shows."""

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from trading.marketdata import prices_set
from trading.models import Account, Order, Position
from trading.replay import account_replay


@pytest.fixture(autouse=True)
def _in_process(tasks_in_process):
    prices_set({"AAPL": Decimal("200.00"), "KO": Decimal("70.00")})


def _post(demo, **fields):
    body = {
        "symbol": "AAPL",
        "signal_type": "BUY",
        "confidence_score": "0.8",
        "position_size": "0.1",
        "expires_at": "2099-01-01T00:00:00Z",
        **fields,
    }
    return Client().post("/api/v1/signals/", json.dumps(body), content_type="application/json", **demo.headers())


def _trade(demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(demo, id="r-1", stop_loss="190", take_profit="230")
        _post(demo, id="r-2", symbol="KO")
        _post(demo, id="r-3", signal_type="SELL", position_size="0.05")
        _post(demo, id="r-4", target_price="190")  # a resting limit, then canceled
    limit = Order.objects.get(signal__external_id="r-4")
    client = Client()
    client.force_login(demo.trader)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/orders/{limit.pk}/cancel/").status_code == 200
        ko = Position.objects.get(instrument__symbol="KO")
        assert client.post(f"/api/v1/positions/{ko.pk}/close/").status_code == 202


def test_an_account_rebuilt_from_its_events_equals_its_tables(demo, django_capture_on_commit_callbacks):
    _trade(demo, django_capture_on_commit_callbacks)
    assert Order.objects.count() >= 6
    assert account_replay(account=demo.account) == []
    out = io.StringIO()
    call_command("events_replay", "--account", str(demo.account.pk), stdout=out)
    assert "matches its event log" in out.getvalue()


def test_a_row_changed_behind_the_engines_back_is_named(demo, django_capture_on_commit_callbacks):
    _trade(demo, django_capture_on_commit_callbacks)
    position = Position.objects.filter(account=demo.account).exclude(quantity=0).first()
    Position.objects.filter(pk=position.pk).update(quantity=position.quantity + 1)
    Account.objects.filter(pk=demo.account.pk).update(cash=Decimal(1))
    problems = [str(p) for p in account_replay(account=demo.account)]
    assert any(
        p.startswith(f"position strategy {position.strategy_id} {position.instrument.symbol} quantity")
        for p in problems
    )
    assert any(p.startswith("account cash cash") for p in problems)
    with pytest.raises(CommandError, match="1 account"):
        call_command("events_replay", stdout=io.StringIO())
