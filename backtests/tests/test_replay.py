"""Recorded EXTERNAL_AI signals replayed over the stored 1-minute bars, and compared with the live fills."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from strategies.models import TradingSignal
from trading.models import Bar, Execution, Instrument, Order

pytestmark = pytest.mark.django_db
URL = "/api/v1/backtests/"
START = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def _bars(symbol: str, count: int) -> None:
    rows = []
    for i in range(count):
        price = Decimal(100) + Decimal(i if i < count // 2 else count - i) / 10
        rows.append(
            Bar(
                symbol=symbol,
                minute=START + timedelta(minutes=i),
                open=price,
                high=price + 1,
                low=price - 1,
                close=price,
            )
        )
    Bar.objects.bulk_create(rows)


def _signal(demo, external_id: str, signal_type: str, at: datetime) -> None:
    signal = TradingSignal.objects.create(
        producer=demo.trader,
        external_id=external_id,
        strategy=demo.strategy,
        symbol="AAPL",
        signal_type=signal_type,
        confidence_score=Decimal("0.8"),
        position_size=Decimal("0.1"),
        expires_at=at + timedelta(minutes=5),
        metadata={"model": "m-1"},
    )
    TradingSignal.objects.filter(pk=signal.pk).update(created_at=at)  # arrived then


def _live_round_trip(demo, entry: Decimal, exit: Decimal, quantity: Decimal) -> None:
    instrument = Instrument.objects.get(symbol="AAPL")
    for n, (side, price, minute) in enumerate((("BUY", entry, 11), ("SELL", exit, 101))):
        order = Order.objects.create(
            account=demo.account,
            instrument=instrument,
            strategy=demo.strategy,
            side=side,
            order_type="MARKET",
            quantity=quantity,
            reference_price=price,
            status="FILLED",
        )
        Execution.objects.create(
            exec_id=f"live-{n}",
            order=order,
            account=demo.account,
            instrument=instrument,
            strategy=demo.strategy,
            side=side,
            quantity=quantity,
            price=price,
            executed_at=START + timedelta(minutes=minute),
        )


def test_recorded_signals_replay_on_stored_bars_and_compare_with_live(demo, run, client_trader):
    _bars("AAPL", 200)
    _signal(demo, "s-buy", "BUY", START + timedelta(minutes=10, seconds=20))
    _signal(demo, "s-sell", "SELL", START + timedelta(minutes=100, seconds=20))
    # Live bought at the next bar's open plus 5 cents of slippage, and sold at the open.
    _live_round_trip(demo, Decimal("101.15"), Decimal("110.0"), Decimal(91))
    body = {
        "strategy_type": "EXTERNAL_AI",
        "strategy_id": demo.strategy.pk,
        "source": "bars",
        "symbol": "AAPL",
        "start": START.isoformat(),
        "end": (START + timedelta(hours=4)).isoformat(),
        # Live sizes a SELL by its position_size of the capital too; a fixed quantity makes one round trip here.
        "settings": {"sizing": "fixed_quantity", "sizing_value": "98"},
    }
    answer = run(URL, body)
    assert answer.status_code == 201, answer.json()
    detail = client_trader.get(f"{URL}{answer.json()['id']}/").json()
    assert detail["status"] == "completed", detail["error"]
    assert detail["bars_total"] == 200
    trades = client_trader.get(f"{URL}{detail['id']}/trades/").json()["results"]
    # Each signal acts at the open of the next bar (101.1, then 109.9).
    assert [(t["side"], t["quantity"], t["entry_price"], t["exit_price"]) for t in trades] == [
        ("BUY", "98", "101.1", "109.9")
    ]
    comparison = detail["comparison"]
    assert comparison["matched"] == 1
    difference = comparison["differences"][0]
    assert set(difference["causes"]) == {"fill_price", "quantity"}
    assert Decimal(difference["entry_price_difference"]) == Decimal("0.05")
    assert Decimal(comparison["live_pnl"]) == Decimal("8.85") * 91


def test_an_external_ai_replay_needs_a_strategy_of_yours(client_trader):
    body = {"strategy_type": "EXTERNAL_AI", "source": "sample"}
    answer = client_trader.post(URL, body, format="json")
    assert answer.status_code == 400 and "strategy_id" in answer.json()["errors"]


def test_stored_bars_are_streamed_a_page_at_a_time_with_the_same_result(demo, monkeypatch):
    from backtests import services
    from backtests.services import common

    rows = []
    for i in range(200):
        price = Decimal(100) + Decimal((i % 40) if (i // 40) % 2 == 0 else 40 - (i % 40)) / 4  # a zigzag
        rows.append(
            Bar(
                symbol="AAPL",
                minute=START + timedelta(minutes=i),
                open=price,
                high=price + 1,
                low=price - 1,
                close=price,
            )
        )
    Bar.objects.bulk_create(rows)
    data = {
        "strategy_type": "SMA_CROSSOVER",
        "parameters": {"fast_period": 3, "slow_period": 7, "allow_short": True},
        "source": "bars",
        "symbol": "AAPL",
        "settings": {"sizing": "all_in"},
    }
    whole = services.backtest_run(backtest_id=services.backtest_create(owner=demo.trader, data=data, dispatch=False).pk)
    pages = []
    real_rows_frame = common.sources.rows_frame

    def counted(rows):
        pages.append(len(rows))
        return real_rows_frame(rows)

    monkeypatch.setattr(common, "PAGE_ROWS", 7)
    monkeypatch.setattr(common.sources, "rows_frame", counted)
    paged = services.backtest_run(backtest_id=services.backtest_create(owner=demo.trader, data=data, dispatch=False).pk)
    assert pages == [7] * 28 + [4]
    assert paged.status == whole.status == "completed"
    assert paged.bars_total == paged.bars_done == 200
    assert paged.trades == whole.trades and len(paged.trades) > 2
    assert paged.summary["final_equity"] == whole.summary["final_equity"]
