"""The engine on hand-made bars: fill timing, protective orders, risk refusals, replay, streaming."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from risk.core.rules import RiskLimits
from strategies.core.backtest.engine import Backtest, BacktestConfig, run_backtest
from strategies.core.backtest.fills import FillTiming, PerOrder
from strategies.core.backtest.signals import external_signals, strategy_generator
from strategies.core.backtest.sizing import ALL_IN, FixedQuantity
from strategies.core.metrics import closed_trades
from trading.core.bars import Bar
from trading.core.orders import Side

D = Decimal
START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)
# SMA(2)/SMA(3) long only: the generator's own test series; LONG on bar 10 (1-based), FLAT on bar 12.
CLOSES = ["10", "10", "10", "11", "12", "11", "9", "8", "9", "11", "12", "8", "10"]


def at(index: int) -> datetime:
    """The time of the index-th bar (1-based)."""
    return START + (index - 1) * MIN


def series(
    closes: list[str], symbol: str = "AAPL", lows: dict[int, str] | None = None, opens: dict[int, str] | None = None
) -> list[Bar]:
    """Bars opening at the previous close (1-based overrides for opens and lows); high/low bracket open and close."""
    bars = []
    previous = D(closes[0])
    for index, text in enumerate(closes, start=1):
        close = D(text)
        open_ = D(opens[index]) if opens and index in opens else previous
        low = D(lows[index]) if lows and index in lows else min(open_, close)
        bars.append(Bar(symbol, at(index), open_, max(open_, close), low, close, D(100)))
        previous = close
    return bars


def sma(**params) -> object:
    return strategy_generator("SMA_CROSSOVER", {"fast_period": 2, "slow_period": 3, **params})


TEN = BacktestConfig(sizing=FixedQuantity(D(10)))


def trade_row(trade) -> tuple:
    return (
        trade.side,
        trade.quantity,
        trade.entry_time,
        trade.entry_price,
        trade.exit_time,
        trade.exit_price,
        trade.pnl,
    )


def test_next_open_fills_at_the_following_bars_open() -> None:
    result = run_backtest(series(CLOSES), sma(), TEN)
    assert [trade_row(t) for t in result.trades] == [(Side.BUY, D(10), at(11), D(11), at(13), D(8), D(-30))]
    assert result.final_equity == result.final_cash == D(10000) - 30
    assert result.signals == 2 and result.orders == 2 and result.run_log == []
    assert result.trades == closed_trades(result.fills)


def test_this_close_fills_at_the_signal_bars_close_stamped_at_its_end() -> None:
    result = run_backtest(series(CLOSES), sma(), BacktestConfig(sizing=FixedQuantity(D(10)), fill_timing="this_close"))
    assert [trade_row(t) for t in result.trades] == [(Side.BUY, D(10), at(11), D(11), at(13), D(8), D(-30))]
    # The close of bar 10 happens at bar 11's start, the close of bar 12 at bar 13's.
    assert result.config.fill_timing is FillTiming.THIS_CLOSE


def test_flips_close_then_open_with_all_in_sizing() -> None:
    # With shorts: SHORT on bar 7, LONG on bar 10, SHORT on bar 12; each flip is two orders.
    result = run_backtest(series(CLOSES), sma(allow_short=True), BacktestConfig(sizing=ALL_IN))
    rows = [(t.side, t.quantity, t.entry_price, t.exit_price) for t in result.trades]
    # Short 1111 at 9 (bar 8's open), covered at 11 (-2222), long 707 at 11 (7778 // 11), out at 8, short 707.
    assert rows == [(Side.SELL, D(1111), D(9), D(11)), (Side.BUY, D(707), D(11), D(8))]
    assert result.orders == 5
    position = result.positions["AAPL"]
    assert position.quantity < 0  # the last short is still open, marked at the last close
    assert result.final_equity == result.final_cash + position.quantity * D(10)


def test_a_refused_order_shows_in_the_run_log_and_the_target_follows_the_book() -> None:
    limits = RiskLimits(max_position_fraction=D("0.01"), reserve_buffer=D(0), reject_stale_prices=False)
    generator = sma()
    result = run_backtest(series(CLOSES), generator, BacktestConfig(sizing=FixedQuantity(D(10)), risk_limits=limits))
    assert result.trades == [] and result.orders == 1
    [entry] = result.run_log
    assert (entry.kind, entry.at, entry.symbol, entry.side, entry.quantity, entry.purpose) == (
        "refused",
        at(11),
        "AAPL",
        "BUY",
        D(10),
        "entry",
    )
    assert entry.codes == ("max_position_size_exceeded",)
    assert "above the limit of 100.00" in entry.message
    assert entry.signal_id == f"backtest:AAPL:{at(10).isoformat()}"
    # Set back to FLAT, the generator makes no exit signal on bar 12.
    assert result.signals == 1 and generator.target("AAPL") == "FLAT"
    assert result.refusals() == [entry]


def test_stop_loss_fires_within_the_entry_bar_and_resets_the_target() -> None:
    # Entry at bar 11's open (11); stop 5 % under the signal's close 11 = 10.45; bar 11 dips to 10.
    generator = sma(stop_loss_pct="0.05")
    result = run_backtest(series(CLOSES, lows={11: "10"}), generator, TEN)
    [trade] = result.trades
    assert (trade.entry_time, trade.entry_price, trade.exit_time, trade.exit_price) == (
        at(11),
        D(11),
        at(11),
        D("10.45"),
    )
    assert generator.target("AAPL") == "FLAT"
    assert result.orders == 2  # the entry and its stop; no exit signal follows


def test_a_stop_gapped_through_fills_at_the_open() -> None:
    result = run_backtest(series(CLOSES, opens={12: "10"}), sma(stop_loss_pct="0.05"), TEN)
    [trade] = result.trades
    assert (trade.exit_time, trade.exit_price) == (at(12), D(10))


def test_take_profit_and_stop_are_one_cancels_other() -> None:
    generator = sma(stop_loss_pct="0.05", take_profit_pct="0.05")  # stop 10.45, target 11.55
    closes = [*CLOSES[:10], "11.5", *CLOSES[11:]]  # bar 11 stays under the target; bar 12 opens above it
    result = run_backtest(series(closes, opens={12: "11.6"}), generator, TEN)
    [trade] = result.trades
    assert (trade.exit_time, trade.exit_price) == (at(12), D("11.6"))  # opened above the target: the open
    assert result.orders == 3


def test_commission_per_fill_and_equity_conservation() -> None:
    config = BacktestConfig(sizing=FixedQuantity(D(10)), commission=PerOrder(D(1)), close_at_end=True)
    result = run_backtest(series(CLOSES), sma(allow_short=True), config)
    assert all(t.commission == D(2) for t in result.trades)
    assert result.final_equity == D(10000) + sum(t.pnl for t in result.trades)
    assert result.run_log_total == 0 and not any(p.quantity for p in result.positions.values())


def test_warmup_bars_do_not_trade() -> None:
    result = run_backtest(series(CLOSES), sma(), BacktestConfig(sizing=FixedQuantity(D(10)), trade_from=at(11)))
    assert result.trades == [] and result.orders == 0 and result.signals == 1


def test_progress_and_cancellation() -> None:
    bars = [Bar("X", START + i * MIN, D(10), D(10), D(10), D(10), D(1)) for i in range(1000)]
    calls: list[tuple[int, int | None]] = []
    checks = iter([False, False, True])
    result = Backtest(
        bars,
        sma(),
        BacktestConfig(progress_every=100),
        progress=lambda done, total: calls.append((done, total)),
        should_cancel=lambda: next(checks),
    ).run()
    assert result.status == "canceled" and result.bars == 300
    assert calls == [(100, 1000), (200, 1000), (300, 1000)]
    finished = Backtest(
        iter(bars[:250]), sma(), BacktestConfig(progress_every=100), progress=lambda d, t: calls.append((d, t))
    )
    assert finished.run().status == "completed"
    assert calls[3:] == [(100, None), (200, None), (250, None)]


def test_on_trade_streams_trades_as_they_close() -> None:
    seen = []
    result = Backtest(series(CLOSES), sma(allow_short=True), TEN, on_trade=seen.append).run()
    assert seen == result.trades and len(seen) == 2


def test_memory_is_flat_in_bars_the_curve_is_bounded() -> None:
    bars = [Bar("X", START + i * MIN, D(10 + i % 7), D(20), D(5), D(10 + i % 5), D(1)) for i in range(5000)]
    result = run_backtest(bars, sma(allow_short=True), BacktestConfig(curve_points=16))
    assert len(result.equity_curve) <= 32
    assert result.equity_curve[-1].at == bars[-1].minute and result.equity_curve[-1].equity == result.final_equity
    assert len(result.equity_daily) == 5  # 5000 minutes from 14:30 on 2 March end on 6 March
    assert result.metrics is not None and result.metrics.trades == len(result.trades)
    assert result.max_drawdown_bar >= 0


def test_two_symbols_keep_their_own_books() -> None:
    a, b = series(CLOSES, "AAA"), series(CLOSES, "BBB")
    interleaved = [bar for pair in zip(a, b, strict=True) for bar in pair]
    result = run_backtest(interleaved, sma(), TEN)
    assert [(t.symbol, t.pnl) for t in result.trades] == [("AAA", D(-30)), ("BBB", D(-30))]
    assert result.daily_exposure[-1][1] == {}


# ---- replay of recorded EXTERNAL_AI signals ------------------------------------------------------------------------


def signal(minute: int, signal_type: str, **extra) -> dict:
    return {
        "time": (at(minute) + timedelta(seconds=30)).isoformat(),
        "symbol": "AAPL",
        "signal_type": signal_type,
        "position_size": "0.1",
        "confidence": "0.7",
        "metadata": {"model": "gpt-x"},
        **extra,
    }


FLAT_BARS = series(CLOSES)


def test_replay_trades_as_the_live_intake() -> None:
    records = [signal(2, "BUY"), signal(4, "HOLD"), signal(6, "SELL")]
    result = run_backtest(FLAT_BARS, external_signals(records), BacktestConfig(sizing=FixedQuantity(D(10))))
    [trade] = result.trades
    # A signal arriving during bar 2 is acted on at bar 3's open; the SELL during bar 6 at bar 7's open (12 -> 11).
    assert (trade.entry_time, trade.entry_price, trade.exit_time, trade.exit_price) == (at(3), D(10), at(7), D(11))
    assert (trade.model, trade.confidence) == ("gpt-x", D("0.7"))
    assert result.signals == 3


def test_replay_sizes_on_the_capital_by_default() -> None:
    # 0.1 of 10,000 at 10 is 100 shares.
    result = run_backtest(FLAT_BARS, external_signals([signal(2, "BUY")]), BacktestConfig())
    assert result.positions["AAPL"].quantity == D(100)


def test_replay_skips_what_live_would_refuse() -> None:
    records = [
        signal(1, "BUY", expires_at=(at(1) + timedelta(seconds=45)).isoformat()),
        signal(2, "BUY", stop_loss="10.5"),  # above the price for a BUY
        signal(3, "BUY", stop_loss="9", take_profit="9.5"),  # take profit below the price
        {**signal(4, "BUY"), "position_size": "0.0001"},  # 1 of capital buys no share of 11
        signal(20, "BUY"),  # after the last bar
    ]
    result = run_backtest(FLAT_BARS, external_signals(records), BacktestConfig())
    assert [entry.codes for entry in result.run_log] == [
        ("signal_expired",),
        ("invalid_stop_loss",),
        ("invalid_take_profit",),
        ("quantity_below_lot",),
        ("no_bar_after_signal",),
    ]
    assert result.orders == 0


def test_replay_limit_entry_rests_until_touched_then_brackets() -> None:
    # A BUY limit at 9 arrives in bar 5 (price 12): bar 7 dips to 9 (open 11); the stop at 8.5 and target 10.5 follow.
    records = [signal(5, "BUY", target_price="9", stop_loss="8.5", take_profit="10.5")]
    result = run_backtest(FLAT_BARS, external_signals(records), BacktestConfig(sizing=FixedQuantity(D(10))))
    [trade] = result.trades
    assert (trade.entry_time, trade.entry_price) == (at(7), D(9))
    # Bar 8 (open 9, low 8) trips the stop at 8.5 before the target could be reached.
    assert (trade.exit_time, trade.exit_price) == (at(8), D("8.5"))
    assert result.orders == 3


def test_replay_signals_are_checked() -> None:
    with pytest.raises(ValueError, match="time zone"):
        external_signals([{**signal(1, "BUY"), "time": "2026-03-02T14:30:00"}])
    with pytest.raises(ValueError, match="BUY, SELL or HOLD"):
        external_signals([signal(1, "SHORT")])
    with pytest.raises(ValueError, match="position_size"):
        external_signals([{**signal(1, "BUY"), "position_size": "2"}])


def test_working_protective_orders_count_in_the_risk_snapshot_as_live() -> None:
    # As live's book_read, the working stop is a pending order and claims the position's reducing capacity,
    # so an all-in strategy's own exit is checked as if it opened a short, and refused; the stop still protects.
    # (Reported to the risk rules' owner; with a 10-share position the same exit passes.)
    generator = sma(stop_loss_pct="0.5")  # a stop at 5.50 that bar 13 never reaches
    result = run_backtest(series(CLOSES), generator, BacktestConfig(sizing=ALL_IN))
    [entry] = result.run_log
    assert (entry.at, entry.purpose, entry.codes) == (
        at(13),
        "exit",
        ("strategy_capital_exceeded", "insufficient_funds"),
    )
    assert result.positions["AAPL"].quantity == D(909) and generator.target("AAPL") == "LONG"
    small = run_backtest(series(CLOSES), sma(stop_loss_pct="0.5"), TEN)
    assert small.run_log == [] and [t.exit_price for t in small.trades] == [D(8)]
