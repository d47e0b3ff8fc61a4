"""The Strategy Analyzer's data path: stored fills -> closed trades -> every metric, checked against pandas."""

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from strategies import performance as analyzer
from strategies import tasks
from strategies.models import Strategy, StrategyPerformance, StrategyTrade, TradingSignal
from strategies.performance import performance_update
from trading.models import Bar, Execution, Instrument, Order

DAYS = [date(2026, 9, 7) + timedelta(days=i) for i in range(12) if (date(2026, 9, 7) + timedelta(days=i)).weekday() < 5]
NOW = datetime(2026, 9, 18, 21, 0, tzinfo=UTC)  # Friday evening: the tenth weekday
CAPITAL = Decimal("100000")
# Daily closes (the last stored bar of each day) of the symbols traded and of the benchmark.
CLOSES = {
    "AAPL": ["200", "204", "209", "211", "207", "206", "212", "215", "214", "216"],
    "MSFT": ["400", "398", "402", "401", "396", "390", "393", "395", "397", "399"],
    "NVDA": ["100", "101", "99", "102", "104", "103", "105", "106", "104", "108"],
    "SPY": ["560", "562", "561", "565", "566", "563", "568", "570", "569", "572"],
}
LIVE_NVDA = Decimal("107.50")  # today's price for the position still open


def _at(day_index: int, hour: int) -> datetime:
    return datetime.combine(DAYS[day_index], datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


# (day, hour, symbol, side, quantity, price, commission, model or None for the producer's name, confidence, version)
FILLS = [
    (0, 14, "AAPL", "BUY", "100", "201", "1.00", "model-7", "0.82", 1),
    (2, 15, "AAPL", "SELL", "100", "208", "1.00", "model-7", "0.82", 1),
    (3, 14, "MSFT", "BUY", "50", "401", "1.50", None, "0.55", 2),
    (5, 16, "MSFT", "SELL", "50", "391", "1.50", None, "0.55", 2),
    (6, 14, "AAPL", "SELL", "40", "212", "0.50", "model-9", "0.93", 2),  # a short
    (7, 15, "AAPL", "BUY", "40", "214", "0.50", "model-9", "0.93", 2),
    (8, 14, "NVDA", "BUY", "30", "104", "0.25", "model-9", "0.64", 2),  # still open
]


@pytest.fixture
def analyzed(demo, monkeypatch):
    strategy = demo.strategy
    Strategy.objects.filter(pk=strategy.pk).update(deployed_at=_at(0, 13), capital=CAPITAL, version=2)
    strategy.refresh_from_db()
    for symbol, closes in CLOSES.items():
        for day, close in enumerate(closes):
            for minute, price in ((_at(day, 14), Decimal(close) - 1), (_at(day, 19) + timedelta(minutes=59), close)):
                Bar.objects.create(symbol=symbol, minute=minute, open=price, high=price, low=price, close=price)
    producer = get_user_model().objects.create_user("producer-x")
    for number, (day, hour, symbol, side, qty, price, commission, model, confidence, version) in enumerate(FILLS):
        signal = TradingSignal.objects.create(
            producer=demo.trader if model else producer,
            external_id=f"s-{number}",
            strategy=strategy,
            symbol=symbol,
            signal_type=side,
            confidence_score=Decimal(confidence),
            position_size=Decimal("0.1"),
            expires_at=_at(day, hour + 1),
            metadata={"model": model} if model else {},
            strategy_version=version,
        )
        instrument = Instrument.objects.get(symbol=symbol)
        order = Order.objects.create(
            account=demo.account,
            instrument=instrument,
            strategy=strategy,
            signal=signal,
            strategy_version=version,
            side=side,
            order_type="MARKET",
            quantity=Decimal(qty),
            reference_price=Decimal(price),
            status="FILLED",
        )
        Execution.objects.create(
            exec_id=f"x-{number}",
            order=order,
            account=demo.account,
            instrument=instrument,
            strategy=strategy,
            side=side,
            quantity=Decimal(qty),
            price=Decimal(price),
            commission=Decimal(commission),
            executed_at=_at(day, hour),
        )
    monkeypatch.setattr(analyzer, "prices_get", lambda symbols: {"NVDA": LIVE_NVDA})
    stored = performance_update(strategy, now=NOW)
    return strategy, stored, producer


def _expected_equity() -> pd.Series:
    """Independently: capital + the fills' cash flows + the market value held, at each day's close."""
    fills = pd.DataFrame(
        [
            {
                "at": _at(day, hour),
                "symbol": symbol,
                "signed": float(qty) * (1 if side == "BUY" else -1),
                "cash": -float(qty) * float(price) * (1 if side == "BUY" else -1) - float(commission),
            }
            for day, hour, symbol, side, qty, price, commission, *_ in FILLS
        ]
    )
    closes = pd.DataFrame({s: [float(c) for c in v] for s, v in CLOSES.items()}, index=pd.Index(DAYS))
    closes.loc[DAYS[-1], "NVDA"] = float(LIVE_NVDA)
    values = []
    for day in DAYS:
        end = pd.Timestamp(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
        done = fills[fills["at"] < end]
        held = done.groupby("symbol")["signed"].sum()
        market = sum(qty * closes.loc[day, symbol] for symbol, qty in held.items())
        values.append(float(CAPITAL) + done["cash"].sum() + market)
    return pd.Series(values, index=pd.Index(DAYS))


def _expected_trades() -> pd.DataFrame:
    rows = []
    for entry, exit_ in ((FILLS[0], FILLS[1]), (FILLS[2], FILLS[3]), (FILLS[4], FILLS[5])):
        sign = 1 if entry[3] == "BUY" else -1
        qty = float(entry[4])
        pnl = sign * (float(exit_[5]) - float(entry[5])) * qty - float(entry[6]) - float(exit_[6])
        rows.append(
            {
                "entry": _at(entry[0], entry[1]),
                "exit": _at(exit_[0], exit_[1]),
                "qty": qty,
                "entry_price": float(entry[5]),
                "exit_price": float(exit_[5]),
                "pnl": pnl,
            }
        )
    return pd.DataFrame(rows)


def _longest_underwater_days(equity: pd.Series) -> int:
    """Calendar days from a peak to the first close back at or above it (or to the end)."""
    at_peak = equity >= equity.cummax()
    days = list(equity.index)
    peak_positions = [i for i, ok in enumerate(at_peak) if ok]
    longest = 0
    for start, end in zip(peak_positions, [*peak_positions[1:], len(days) - 1], strict=True):
        if end > start + 1 or (end == len(days) - 1 and not at_peak.iloc[-1] and end > start):
            longest = max(longest, (days[end] - days[start]).days)
    return longest


def _close(found, expected) -> None:
    assert found is not None, expected
    assert math.isclose(float(found), float(expected), rel_tol=1e-9, abs_tol=1e-9), (found, expected)


def test_the_stored_equity_curve_is_capital_plus_cash_flows_plus_market_value(analyzed):
    _, stored, _ = analyzed
    expected = _expected_equity()
    assert [point["day"] for point in stored.equity] == [d.isoformat() for d in DAYS]
    for point, value in zip(stored.equity, expected, strict=True):
        _close(point["equity"], value)
    peak = expected.cummax()
    for point, drawdown in zip(stored.equity, (peak - expected) / peak, strict=True):
        _close(point["drawdown"], drawdown)


def test_every_stored_metric_matches_an_independent_pandas_computation(analyzed):
    strategy, stored, _ = analyzed
    m = stored.metrics
    equity = _expected_equity()
    r = equity.pct_change().dropna()
    n = len(r)
    spy = pd.Series([float(c) for c in CLOSES["SPY"]], index=pd.Index(DAYS)).pct_change().dropna()
    total = equity.iloc[-1] / equity.iloc[0] - 1
    annual = (1 + total) ** (252 / n) - 1
    downside = np.sqrt((np.minimum(r, 0) ** 2).mean())
    drawdown = ((equity.cummax() - equity) / equity.cummax()).max()
    beta = np.cov(r, spy, ddof=0)[0, 1] / spy.var(ddof=0)
    alpha = (1 + (r - beta * spy).mean()) ** 252 - 1
    trades = _expected_trades()
    wins, losses = trades[trades.pnl > 0], trades[trades.pnl < 0]
    window = pd.Timedelta(days=(DAYS[-1] - DAYS[0]).days + 1)
    exposure = (trades.exit - trades.entry).sum() / window  # the trades never overlap
    turnover = (trades.qty * (trades.entry_price + trades.exit_price)).sum() / equity.mean()

    _close(m["total_return"], total)
    _close(m["annualized_return"], annual)
    _close(m["volatility"], r.std(ddof=1) * np.sqrt(252))
    _close(m["sharpe"], r.mean() / r.std(ddof=1) * np.sqrt(252))
    _close(m["sortino"], r.mean() * 252 / (downside * np.sqrt(252)))
    _close(m["max_drawdown"], drawdown)
    _close(m["calmar"], annual / drawdown)
    _close(m["beta"], beta)
    _close(m["alpha"], alpha)
    assert m["trades"] == len(trades) == 3
    assert (m["wins"], m["losses"]) == (len(wins), len(losses))
    _close(m["win_rate"], len(wins) / len(trades))
    _close(m["profit_factor"], wins.pnl.sum() / -losses.pnl.sum())
    _close(m["average_win"], wins.pnl.mean())
    _close(m["average_loss"], losses.pnl.mean())
    _close(m["expectancy"], trades.pnl.mean())
    _close(m["total_pnl"], trades.pnl.sum())
    _close(m["exposure"], exposure)
    _close(m["turnover"], turnover)
    assert m["max_drawdown_duration_days"] == _longest_underwater_days(equity)
    assert m["benchmark"] == "SPY"
    assert (m["start"], m["end"], m["days"]) == (DAYS[0].isoformat(), DAYS[-1].isoformat(), len(DAYS))
    assert Strategy.objects.get(pk=strategy.pk).performance_metrics == m
    assert stored.version == 2


def test_closed_trades_carry_their_version_model_and_confidence(analyzed):
    strategy, _, producer = analyzed
    rows = list(StrategyTrade.objects.filter(strategy=strategy).order_by("exit_at"))
    expected = _expected_trades()
    assert [(r.symbol, r.side) for r in rows] == [("AAPL", "BUY"), ("MSFT", "BUY"), ("AAPL", "SELL")]
    assert [r.version for r in rows] == [1, 2, 2]
    assert [r.model for r in rows] == ["model-7", producer.username, "model-9"]
    assert [r.confidence for r in rows] == [Decimal("0.82"), Decimal("0.55"), Decimal("0.93")]
    for row, (_, trade) in zip(rows, expected.iterrows(), strict=True):
        _close(row.pnl, trade.pnl)
        assert (row.entry_at, row.exit_at) == (trade.entry, trade.exit)
        _close(row.return_fraction, trade.pnl / (trade.qty * trade.entry_price))


def test_a_rerun_keeps_past_days_updates_today_and_rebuilds_the_trades(analyzed, monkeypatch):
    strategy, stored, _ = analyzed
    past = {**stored.equity[3], "equity": "99999.99"}
    equity = [*stored.equity[:3], past, *stored.equity[4:]]
    StrategyPerformance.objects.filter(pk=stored.pk).update(equity=equity)
    monkeypatch.setattr(analyzer, "prices_get", lambda symbols: {"NVDA": LIVE_NVDA + 10})

    again = performance_update(strategy, now=NOW)

    assert again.equity[3]["equity"] == "99999.99"  # a past day is history
    _close(again.equity[-1]["equity"], _expected_equity().iloc[-1] + 300)  # 30 NVDA 10 higher today
    assert StrategyTrade.objects.filter(strategy=strategy).count() == 3


def test_a_strategy_without_fills_has_a_flat_curve_at_its_capital(demo):
    stored = performance_update(demo.strategy, now=timezone.now())
    assert {point["equity"] for point in stored.equity} == {"100000.00"}
    assert stored.metrics["trades"] == 0
    assert stored.metrics["total_return"] == "0"


def test_fills_in_one_burst_dispatch_one_analysis(demo, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.strategy_performance_task, "apply_async", lambda args, countdown: sent.append(args))
    tasks.cache.delete(tasks.PERFORMANCE_DUE_KEY.format(demo.strategy.pk))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(100):
            tasks.performance_update_soon(demo.strategy.pk)
    assert sent == [(demo.strategy.pk,)]
    # The task clears the mark as it starts: the next fill asks again.
    monkeypatch.setattr(tasks, "strategy_analyze", lambda strategy_id: None)
    tasks.strategy_performance_task(demo.strategy.pk)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.performance_update_soon(demo.strategy.pk)
    assert sent == [(demo.strategy.pk,), (demo.strategy.pk,)]


def test_the_beat_task_analyzes_every_strategy_but_drafts(demo, monkeypatch, tasks_in_process):
    seen = []
    monkeypatch.setattr(tasks, "strategy_analyze", seen.append)
    Strategy.objects.create(
        owner=demo.trader, account=demo.account, name="draft", strategy_type="EXTERNAL_AI", capital=Decimal(1)
    )
    tasks.cache.delete(tasks.PERFORMANCE_DUE_KEY.format(demo.strategy.pk))
    assert tasks.strategies_analyze_task() == 1
    assert seen == [demo.strategy.pk]
    # A strategy whose analysis a fill already asked for is not asked for twice.
    tasks.cache.add(tasks.PERFORMANCE_DUE_KEY.format(demo.strategy.pk), 1)
    tasks.strategies_analyze_task()
    assert seen == [demo.strategy.pk]
