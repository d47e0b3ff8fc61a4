"""The management commands a person runs: seed_demo and create_signal_key."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from accounts.models import ApiKey, key_hash
from strategies.models import Strategy
from trading.models import Account, Instrument


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_loads_the_demo_and_is_idempotent(db):
    first = run("seed_demo")
    run("seed_demo")
    assert "login: trader / " in first
    assert Instrument.objects.count() >= 30
    assert Instrument.objects.exclude(sector="").count() == Instrument.objects.count()
    account = Account.objects.get(owner__username="trader")
    assert account.cash == Decimal(1000000)
    strategy = Strategy.objects.get(name="demo-ai")
    assert (strategy.status, strategy.strategy_type, strategy.capital) == ("RUNNING", "EXTERNAL_AI", Decimal(100000))
    assert strategy.owner.username == "trader"
    assert Strategy.objects.count() == 1
    assert Account.objects.count() == 1
    assert authenticate(username="trader", password="ql-trader-demo") is not None
    assert authenticate(username="ops", password="ql-ops-demo").is_staff


def test_seed_demo_again_keeps_passwords_sessions_and_changes(db):
    from django.contrib.auth import get_user_model
    from django.test import Client

    run("seed_demo")
    client = Client()
    assert client.login(username="trader", password="ql-trader-demo")
    trader = get_user_model().objects.get(username="trader")
    hashed = trader.password
    run("seed_demo")  # a restart: make run seeds again
    assert get_user_model().objects.get(username="trader").password == hashed
    assert client.get("/api/v1/portfolio/").status_code == 200  # still signed in

    ops = get_user_model().objects.get(username="ops")
    ops.set_password("changed in the admin")
    ops.save()
    Instrument.objects.filter(symbol="KO").update(is_active=False)
    run("seed_demo")
    assert authenticate(username="ops", password="changed in the admin") is not None
    assert not Instrument.objects.get(symbol="KO").is_active


def test_create_signal_key_prints_only_the_key_and_stores_only_its_hash(db):
    run("seed_demo")
    output = run("create_signal_key", "--username", "trader", "--strategy", "demo-ai")
    raw_key = output.strip()
    assert output == raw_key + "\n"
    assert raw_key.startswith("ql_")
    stored = ApiKey.objects.get()
    assert stored.hashed_key == key_hash(raw_key)
    assert raw_key not in {stored.hashed_key, stored.prefix, stored.name}
    assert stored.strategy.name == "demo-ai"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--username", "nobody"], "No user named nobody"), (["--username", "trader", "--strategy", "x"], "no strategy")],
)
def test_create_signal_key_refuses_unknown_names(db, args, message):
    run("seed_demo")
    with pytest.raises(CommandError, match=message):
        run("create_signal_key", *args)
    assert ApiKey.objects.count() == 0
