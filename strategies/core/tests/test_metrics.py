"""Every metric against an independent numpy/pandas computation written here, to 1e-9, and the edge cases."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.core.metrics import (
    ClosedTrade,
    TradeFill,
    closed_trades,
    current_drawdown,
    daily_returns,
    drawdown_series,
    performance,
    sharpe_ratio,
)
from trading.core.orders import Side
from trading.core.positions import PositionState, apply_fill

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
TOLERANCE = 1e-9
DAY0 = date(2026, 1, 5)
DAYS = [DAY0 + timedelta(days=i) for i in range(13)]
EQUITY_VALUES = [100000, 101000, 100500, 102000, 99000, 98000, 100000, 103000, 102500, 104000, 101000, 105000]
EQUITY = {DAYS[i]: D(v) for i, v in enumerate(EQUITY_VALUES)}
BENCH_VALUES = [
    "0.004",
    "-0.003",
    "0.01",
    "-0.02",
    "-0.005",
    "0.012",
    "0.02",
    "-0.001",
    "0.008",
    "-0.015",
    "0.018",
    "0.5",
]
# One return per curve day after the first, plus one on a day the curve lacks (ignored by the alignment).
BENCHMARK = {DAYS[i + 1]: D(v) for i, v in enumerate(BENCH_VALUES)}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAYS[day], datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour, minutes=minute)


def trade(symbol, side, qty, entry, exit_, entry_at, exit_at, commission, model=None, confidence=None) -> ClosedTrade:
    gross = (D(exit_) - D(entry)) * D(qty) * side.sign
    return ClosedTrade(
        symbol,
        side,
        D(qty),
        entry_at,
        exit_at,
        D(entry),
        D(exit_),
        gross - D(commission),
        D(commission),
        model,
        None if confidence is None else D(confidence),
    )


TRADES = [
    trade("AAPL", BUY, 100, "100", "110", at(1, 14, 30), at(2, 15), "2"),  # +998
    trade("MSFT", SELL, 50, "200", "210", at(2, 14), at(4, 16), "2"),  # -502
    trade("AAPL", BUY, 10, "50", "50", at(4, 15), at(4, 15, 30), "0"),  # 0, inside the MSFT trade
    trade("AAPL", BUY, 20, "100", "90", at(6, 10), at(8, 10), "1"),  # -201
    trade("MSFT", BUY, 30, "100", "120", at(9, 9), at(10, 9), "3"),  # +597
]


def close(a, b) -> None:
    assert a is not None and b is not None
    assert abs(float(a) - float(b)) <= TOLERANCE, (a, b)


@pytest.fixture  # per test: mutation testing sees each test that reads it call performance()
def metrics():
    return performance(EQUITY, TRADES, benchmark_returns=BENCHMARK, risk_free_rate=D("0.02"))


@pytest.fixture(scope="module")
def frame():
    equity = pd.Series([float(v) for v in EQUITY_VALUES], index=pd.to_datetime(DAYS[:12]))
    returns = equity.pct_change().dropna()
    bench = pd.Series([float(v) for v in BENCH_VALUES[:11]], index=returns.index)
    return equity, returns, bench, 0.02 / 252


def test_returns_and_volatility(metrics, frame) -> None:
    equity, returns, _, _ = frame
    close(metrics.total_return, equity.iloc[-1] / equity.iloc[0] - 1)
    close(metrics.annualized_return, (equity.iloc[-1] / equity.iloc[0]) ** (252 / len(returns)) - 1)
    close(metrics.volatility, returns.std(ddof=1) * np.sqrt(252))
    assert metrics.total_return == D("0.05")
    assert (metrics.start, metrics.end, metrics.days) == (DAYS[0], DAYS[11], 12)


def test_sharpe_and_sortino(metrics, frame) -> None:
    _, returns, _, rf = frame
    excess = returns - rf
    close(metrics.sharpe, excess.mean() / excess.std(ddof=1) * np.sqrt(252))
    downside = np.sqrt((np.minimum(excess, 0) ** 2).mean()) * np.sqrt(252)
    close(metrics.sortino, excess.mean() * 252 / downside)


def test_drawdown_and_calmar(metrics, frame) -> None:
    equity, returns, _, _ = frame
    drawdown = 1 - equity / equity.cummax()
    close(metrics.max_drawdown, drawdown.max())
    assert metrics.max_drawdown == D(4000) / D(102000) or abs(metrics.max_drawdown - D(4000) / D(102000)) < D("1e-25")
    annual = (equity.iloc[-1] / equity.iloc[0]) ** (252 / len(returns)) - 1
    close(metrics.calmar, annual / drawdown.max())
    # Peaks on days 1, 3, 7, 9, 11; the longest stretch below one is day 3 -> day 7.
    assert metrics.max_drawdown_duration_days == 4
    assert metrics.max_drawdown_duration_days == independent_duration(equity)


def independent_duration(equity: pd.Series) -> int:
    at_peak = equity >= equity.cummax()
    peak_days = list(equity.index[at_peak])
    longest = 0
    for i, peak in enumerate(peak_days):
        end = peak_days[i + 1] if i + 1 < len(peak_days) else equity.index[-1]
        between = equity[(equity.index > peak) & (equity.index < end)]
        underwater_to_end = i + 1 == len(peak_days) and end > peak
        if len(between) or underwater_to_end:
            longest = max(longest, (end - peak).days)
    return longest


def test_alpha_beta(metrics, frame) -> None:
    _, returns, bench, rf = frame
    beta = np.cov(returns, bench, bias=True)[0, 1] / np.var(bench)
    alpha = (1 + ((returns - rf) - beta * (bench - rf)).mean()) ** 252 - 1
    close(metrics.beta, beta)
    close(metrics.alpha, alpha)


def test_trade_statistics(metrics) -> None:
    assert (metrics.trades, metrics.wins, metrics.losses) == (5, 2, 2)
    assert metrics.win_rate == D("0.4")
    assert metrics.gross_profit == D(1595) and metrics.gross_loss == D(-703) and metrics.total_pnl == D(892)
    close(metrics.profit_factor, 1595 / 703)
    assert metrics.average_win == D("797.5") and metrics.average_loss == D("-351.5")
    assert metrics.expectancy == D("178.4")
    pnls = np.array([float(t.pnl) for t in TRADES])
    win_rate, loss_rate = (pnls > 0).mean(), (pnls < 0).mean()
    close(metrics.expectancy, win_rate * pnls[pnls > 0].mean() + loss_rate * pnls[pnls < 0].mean())
    assert metrics.commissions == D(8)


def test_exposure_and_turnover(metrics) -> None:
    # Minute grid over the window (12 days), a minute counted when any trade holds it.
    start = at(0, 0)
    covered = np.zeros(12 * 24 * 60, dtype=bool)
    for t in TRADES:
        first = int((t.entry_time - start).total_seconds() // 60)
        last = int((t.exit_time - start).total_seconds() // 60)
        covered[first:last] = True
    close(metrics.exposure, covered.mean())
    assert abs(metrics.exposure - D("145.5") / D(288)) < D("1e-25")
    notional = sum(float(t.quantity) * (float(t.entry_price) + float(t.exit_price)) for t in TRADES)
    close(metrics.turnover, notional / np.mean(EQUITY_VALUES))


def test_explicit_exposure_window() -> None:
    window = (at(1, 14, 30), at(2, 15))
    assert performance(EQUITY, TRADES, window=window).exposure == D(1)


def test_as_dict_is_json_ready(metrics) -> None:
    data = metrics.as_dict()
    assert data["start"] == "2026-01-05" and data["total_return"] == "0.05" and data["trades"] == 5
    assert all(v is None or isinstance(v, (str, int)) for v in data.values())


def test_daily_returns_and_drawdown_series() -> None:
    returns = daily_returns({DAYS[1]: D(110), DAYS[0]: D(100), DAYS[2]: D(99)})
    assert returns == [(DAYS[1], D("0.1")), (DAYS[2], D("-0.1"))]
    points = drawdown_series({DAYS[0]: D(100), DAYS[1]: D(110), DAYS[2]: D(99)})
    assert [(p.equity, p.peak, p.drawdown) for p in points] == [
        (D(100), D(100), D(0)),
        (D(110), D(110), D(0)),
        (D(99), D(110), D("0.1")),
    ]
    assert current_drawdown({DAYS[0]: D(100), DAYS[1]: D(110), DAYS[2]: D(99)}) == D("0.1")
    assert current_drawdown({}) == 0


def test_drawdown_series_matches_pandas() -> None:
    equity = pd.Series([float(v) for v in EQUITY_VALUES])
    expected = (1 - equity / equity.cummax()).to_numpy()
    for point, want in zip(drawdown_series(EQUITY), expected, strict=True):
        close(point.drawdown, want)


def test_sharpe_helper_matches_numpy() -> None:
    values = [D("0.01"), D("-0.02"), D("0.005"), D("0.015")]
    array = np.array([float(v) for v in values]) - 0.05 / 252
    close(sharpe_ratio(values, risk_free_rate=D("0.05")), array.mean() / array.std(ddof=1) * np.sqrt(252))
    assert sharpe_ratio([D("0.01")]) is None
    assert sharpe_ratio([D("0.01"), D("0.01")]) is None


# Edge cases: no division by zero, None for every undefined ratio.


def test_one_day() -> None:
    m = performance({DAY0: D(1000)}, [], benchmark_returns={DAY0: D("0.01")})
    assert m.total_return == 0 and m.days == 1
    assert (m.annualized_return, m.volatility, m.sharpe, m.sortino, m.calmar, m.alpha, m.beta) == (None,) * 7
    assert m.max_drawdown == 0 and m.max_drawdown_duration_days == 0
    assert m.exposure == 0 and m.turnover == 0


def test_flat_equity() -> None:
    m = performance({d: D(1000) for d in DAYS[:5]}, [])
    assert m.total_return == 0 and m.annualized_return == 0 and m.volatility == 0
    assert (m.sharpe, m.sortino, m.calmar) == (None, None, None)
    assert m.max_drawdown == 0 and m.max_drawdown_duration_days == 0


def test_no_trades() -> None:
    m = performance(EQUITY, [])
    assert (m.trades, m.wins, m.losses) == (0, 0, 0)
    assert (m.win_rate, m.profit_factor, m.average_win, m.average_loss, m.expectancy) == (None,) * 5
    assert m.total_pnl == 0 and m.exposure == 0 and m.turnover == 0
    assert (m.alpha, m.beta) == (None, None)


def test_all_wins_and_rising_equity() -> None:
    rising = {DAYS[i]: D(v) for i, v in enumerate([100, 101, 103, 104])}
    wins = [TRADES[0], TRADES[4]]
    m = performance(rising, wins)
    assert m.win_rate == 1 and m.profit_factor is None and m.average_loss is None
    assert m.average_win == D("797.5") and m.expectancy == D("797.5")
    # No down day: no downside deviation and no drawdown.
    assert m.sortino is None and m.calmar is None and m.max_drawdown == 0
    assert m.sharpe is not None


def test_all_losses() -> None:
    m = performance(EQUITY, [TRADES[1], TRADES[3]])
    assert m.win_rate == 0 and m.profit_factor == 0 and m.average_win is None
    assert m.average_loss == D("-351.5") and m.expectancy == D("-351.5")


def test_breakeven_trade_is_neither() -> None:
    m = performance(EQUITY, [TRADES[2]])
    assert (m.wins, m.losses, m.win_rate, m.profit_factor) == (0, 0, D(0), None)


def test_benchmark_that_never_moves() -> None:
    m = performance(EQUITY, [], benchmark_returns={d: D(0) for d in DAYS})
    assert (m.alpha, m.beta) == (None, None)


def test_unrecovered_drawdown_runs_to_the_last_day() -> None:
    curve = {DAYS[0]: D(100), DAYS[1]: D(90), DAYS[5]: D(95)}
    assert performance(curve).max_drawdown_duration_days == 5


@pytest.mark.parametrize("bad", [{DAY0: D(0)}, {DAY0: D(-1)}, {DAY0: 100.0}, {}])
def test_bad_equity(bad) -> None:
    with pytest.raises(ValueError):
        performance(bad)


# Closed trades from fills.


def fill(symbol, minute, side, qty, price, commission="0", model=None, confidence=None) -> TradeFill:
    return TradeFill(
        symbol,
        at(0, 10) + timedelta(minutes=minute),
        side,
        D(qty),
        D(price),
        D(commission),
        model,
        None if confidence is None else D(confidence),
    )


def test_round_trip() -> None:
    (t,) = closed_trades([fill("AAPL", 0, BUY, 100, "10", "1", "gpt", "0.7"), fill("AAPL", 5, SELL, 100, "12", "1")])
    assert t == ClosedTrade("AAPL", BUY, D(100), at(0, 10), at(0, 10, 5), D(10), D(12), D(198), D(2), "gpt", D("0.7"))
    assert t.gross_pnl == D(200) and t.is_win and t.return_fraction == D("0.198")


def test_scale_in_and_out_uses_weighted_prices() -> None:
    fills = [
        fill("AAPL", 0, BUY, 100, "10"),
        fill("AAPL", 1, BUY, 100, "12"),
        fill("AAPL", 2, SELL, 50, "13"),
        fill("AAPL", 3, SELL, 150, "9"),
    ]
    (t,) = closed_trades(fills)
    assert (t.quantity, t.entry_price, t.exit_price, t.pnl) == (D(200), D(11), D(10), D(-200))
    assert t.exit_time == at(0, 10, 3)


def test_flip_closes_one_trade_and_opens_the_next() -> None:
    fills = [
        fill("AAPL", 0, BUY, 100, "10", "3", "a"),
        fill("AAPL", 1, SELL, 150, "12", "3", "b"),
        fill("AAPL", 2, BUY, 50, "11", "1"),
    ]
    first, second = closed_trades(fills)
    assert (first.side, first.quantity, first.entry_price, first.exit_price) == (BUY, D(100), D(10), D(12))
    assert (first.commission, first.pnl, first.model) == (D(5), D(195), "a")
    assert (second.side, second.quantity, second.entry_price, second.exit_price) == (SELL, D(50), D(12), D(11))
    assert (second.commission, second.pnl, second.model, second.entry_time) == (D(2), D(48), "b", at(0, 10, 1))


def test_open_trade_is_not_returned_and_symbols_interleave() -> None:
    fills = [
        fill("MSFT", 0, SELL, 10, "300"),
        fill("AAPL", 1, BUY, 5, "100"),
        fill("AAPL", 2, SELL, 5, "101"),
        fill("MSFT", 3, BUY, 10, "290"),
        fill("AAPL", 4, BUY, 1, "100"),
    ]
    trades = closed_trades(reversed(fills))  # order in, time order out
    assert [(t.symbol, t.side, t.pnl) for t in trades] == [("AAPL", BUY, D(5)), ("MSFT", SELL, D(100))]


def test_naive_fill_time_is_refused() -> None:
    with pytest.raises(ValueError):
        closed_trades([TradeFill("AAPL", datetime(2026, 1, 5, 10), BUY, D(1), D(1))])


fill_steps = st.lists(
    st.tuples(
        st.sampled_from([BUY, SELL]),
        st.integers(min_value=1, max_value=300),
        st.decimals(min_value=D("1"), max_value=D("500"), places=2),
        st.decimals(min_value=D("0"), max_value=D("5"), places=2),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=50, deadline=None)  # each mutant of closed_trades runs it: few, varied examples
@given(fill_steps)
def test_trades_book_exactly_what_positions_realize(steps) -> None:
    fills, state = [], PositionState()
    for minute, (side, qty, price, commission) in enumerate(steps):
        fills.append(fill("X", minute, side, qty, price, commission))
        state = apply_fill(state, side=side, quantity=D(qty), price=price, commission=commission)
    if state.quantity != 0:  # flatten so every trade is closed
        side = SELL if state.quantity > 0 else BUY
        fills.append(fill("X", len(steps), side, abs(state.quantity), "100", "1"))
        state = apply_fill(state, side=side, quantity=abs(state.quantity), price=D(100), commission=D(1))
    trades = closed_trades(fills)
    assert abs(sum((t.pnl for t in trades), D(0)) - state.realized_pnl) < D("1e-18")
    assert sum((t.commission for t in trades), D(0)) == state.commissions
    for t in trades:
        # Flat to flat: the net P&L is the cash flow of the trade's weighted prices, less its commission.
        assert abs(t.pnl - ((t.exit_price - t.entry_price) * t.quantity * t.side.sign - t.commission)) < D("1e-18")
