"""Limits and the kill switch under concurrency: PostgreSQL, Redis and a real Celery worker."""

import itertools
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk import services
from risk.models import RiskParameters
from strategies.models import Strategy, TradingSignal
from strategies.services import SignalData, signal_receive
from trading.core.orders import OPEN_STATUSES
from trading.marketdata import PRICE_KEY
from trading.models import Account, Event, Instrument, Order, Position

pytestmark = pytest.mark.realstack
D = Decimal
SYMBOLS = ["AAPL", "MSFT", "NVDA", "JPM", "BAC", "XOM", "KO", "PFE"]
_counter = itertools.count()


def _post_all(strategy, producer, jobs) -> None:
    start = threading.Barrier(len(jobs))
    errors = []

    def run(external_id, symbol, side, size) -> None:
        try:
            start.wait(timeout=60)
            data = SignalData(
                external_id=external_id,
                symbol=symbol,
                signal_type=side,
                confidence_score=D("0.5"),
                position_size=size,
                expires_at=timezone.now() + timedelta(hours=1),
            )
            signal_receive(producer=producer, strategy=strategy, data=data)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def _fresh_book(cash: Decimal, capital: Decimal):
    n = next(_counter)
    user = get_user_model().objects.create(username=f"prop-{n}-{id(cash)}")
    account = Account.objects.create(owner=user, name="prop", cash=cash)
    strategy = Strategy.objects.create(
        owner=user, account=account, name="prop", strategy_type="EXTERNAL_AI", capital=capital, status="RUNNING"
    )
    return user, account, strategy


signals = st.lists(
    st.tuples(
        st.sampled_from(SYMBOLS),
        st.sampled_from(["BUY", "SELL"]),
        st.integers(min_value=1, max_value=60).map(lambda n: D(n) / 100),
    ),
    min_size=4,
    max_size=16,
)
fractions = st.integers(min_value=2, max_value=60).map(lambda n: D(n) / 100)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    jobs=signals,
    cash=st.integers(min_value=20_000, max_value=400_000).map(D),
    capital=st.integers(min_value=10_000, max_value=300_000).map(D),
    position=fractions,
    gross=st.integers(min_value=20, max_value=150).map(lambda n: D(n) / 100),
    sector=fractions,
)
def test_random_concurrent_signals_never_end_over_any_limit(
    demo_committed, celery_worker, wait, jobs, cash, capital, position, gross, sector
):
    cache.delete_many([PRICE_KEY.format(s) for s in SYMBOLS])  # everything trades at its reference price
    user, account, strategy = _fresh_book(cash, capital)
    RiskParameters.objects.create(
        account=account,
        max_position_size=position,
        max_portfolio_exposure=gross,
        max_sector_exposure=sector,
        max_strategy_orders_per_minute=None,
        max_account_orders_per_minute=None,
    )
    _post_all(strategy, user, [(f"p-{i}", *job) for i, job in enumerate(jobs)])
    wait(lambda: not Order.objects.filter(account=account, status__in=OPEN_STATUSES).exists(), timeout=60)

    account.refresh_from_db()
    prices = dict(Instrument.objects.values_list("symbol", "reference_price"))
    sectors = dict(Instrument.objects.values_list("symbol", "sector"))
    positions = list(Position.objects.filter(account=account).exclude(quantity=0).select_related("instrument"))
    value = {p.instrument.symbol: p.quantity * prices[p.instrument.symbol] for p in positions}
    equity = account.cash + sum(value.values(), D(0))
    # Fills pay slippage and commission after validation, so the final equity is a hair lower than the
    # one each check saw: a 0.5 % allowance covers that and nothing more.
    slack = D("1.005")
    assert account.cash >= 0 or all(p.quantity < 0 for p in positions)
    assert sum((abs(p.quantity) * p.average_price for p in positions), D(0)) <= capital * slack
    for symbol, v in value.items():
        assert abs(v) <= position * equity * slack, (symbol, v, equity)
    assert sum((abs(v) for v in value.values()), D(0)) <= gross * equity * slack
    by_sector: dict[str, Decimal] = {}
    for symbol, v in value.items():
        by_sector[sectors[symbol]] = by_sector.get(sectors[symbol], D(0)) + abs(v)
    for total in by_sector.values():
        assert total <= max(sector, position) * equity * slack
    rejected = TradingSignal.objects.filter(strategy=strategy, status="rejected")
    for signal in rejected:
        assert all(v["code"] and v["message"] for v in signal.violations)


def test_signals_arriving_while_the_kill_switch_engages_none_gets_through(demo_committed, celery_worker, wait):
    demo = demo_committed
    cache.delete_many([PRICE_KEY.format(s) for s in SYMBOLS])
    RiskParameters.objects.filter(account=demo.account).update(max_strategy_orders_per_minute=None)
    jobs = [(f"ks-{i}", SYMBOLS[i % len(SYMBOLS)], "BUY", D("0.01")) for i in range(30)]
    engaged: list = []

    def engage() -> None:
        try:
            engaged.append(
                services.kill_switch_engage(scope="ACCOUNT", account=demo.account, actor="trader", reason="race")
            )
        finally:
            connection.close()

    killer = threading.Timer(0.05, engage)
    killer.start()
    _post_all(demo.strategy, demo.trader, jobs)
    killer.join()
    (switch,) = engaged
    wait(lambda: not Order.objects.filter(account=demo.account, status__in=OPEN_STATUSES).exists(), timeout=60)

    marker = Event.objects.get(type="risk.kill_switch_engaged").pk
    assert not Event.objects.filter(type="order.created", account=demo.account, pk__gt=marker).exists()
    late = Event.objects.filter(type="signal.received", account=demo.account, pk__gt=marker).values_list(
        "signal_id", flat=True
    )
    for signal in TradingSignal.objects.filter(pk__in=list(late)):
        assert signal.status == "rejected"
        assert [v["code"] for v in signal.violations] == ["kill_switch_engaged"]
    # After the engagement nothing is open, and a new signal is refused until a person releases the switch.
    assert not Order.objects.filter(account=demo.account, status__in=OPEN_STATUSES).exists()
    _post_all(demo.strategy, demo.trader, [("after", "AAPL", "BUY", D("0.01"))])
    assert TradingSignal.objects.get(external_id="after").status == "rejected"
    services.kill_switch_release(kill_switch_id=switch.pk, actor="trader", reason="done")
    _post_all(demo.strategy, demo.trader, [("released", "AAPL", "BUY", D("0.01"))])
    assert TradingSignal.objects.get(external_id="released").status in {"accepted", "executed"}
