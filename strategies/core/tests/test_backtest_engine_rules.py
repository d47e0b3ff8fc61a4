"""The engine's rules, one at a time, on a few hand-made bars: config checks, the result's JSON, the run log,
the replay intake's boundaries, resting orders and the risk snapshot's pending orders."""

import os
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from risk.core.rules import RiskLimits
from strategies.core.backtest.engine import Backtest, BacktestConfig, RunLogEntry, run_backtest
from strategies.core.backtest.fills import NO_COMMISSION, NO_SLIPPAGE, FillTiming, FixedSlippage, PerOrder
from strategies.core.backtest.signals import external_signals, strategy_generator
from strategies.core.backtest.sizing import ALL_IN, FixedQuantity
from strategies.core.indicators import CONTEXT
from trading.core.bars import Bar
from trading.core.orders import Side

D = Decimal
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)
TEN = BacktestConfig(sizing=FixedQuantity(D(10)))


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def t(index: int) -> datetime:
    """The time of the index-th bar (1-based), one a minute."""
    return T0 + (index - 1) * MIN


def ohlc(*rows: str, symbol: str = "X", step: timedelta = MIN) -> list[Bar]:
    """Bars from "open high low close" rows, one every ``step`` from T0."""
    bars = []
    for index, row in enumerate(rows):
        o, h, low, c = (D(x) for x in row.split())
        bars.append(Bar(symbol, T0 + index * step, o, h, low, c, D(100)))
    return bars


def flat(n: int, price: str = "10", symbol: str = "X") -> list[Bar]:
    return ohlc(*[f"{price} {price} {price} {price}"] * n, symbol=symbol)


def replay(*records: dict) -> list:
    return external_signals([{"symbol": "X", "position_size": "0.1", **r} for r in records])


def during(index: int, seconds: int = 30) -> str:
    """A time inside the index-th bar."""
    return (t(index) + seconds * SEC).isoformat()


# ---- the configuration -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("cash", [D(0), D(-1), D("NaN"), D("Infinity")])
def test_the_starting_cash_must_be_positive_and_finite(cash: Decimal) -> None:
    with pytest.raises(ValueError, match=exactly(f"The starting cash must be positive, got {cash}.")):
        BacktestConfig(initial_cash=cash)


@pytest.mark.parametrize("lot", [D(0), D(-1), D("Infinity")])
def test_the_lot_size_must_be_positive_and_finite(lot: Decimal) -> None:
    with pytest.raises(ValueError, match=exactly(f"The lot size must be positive, got {lot}.")):
        BacktestConfig(lot_size=lot)


def test_the_smallest_valid_values_are_accepted() -> None:
    config = BacktestConfig(
        initial_cash=D("0.01"),
        lot_size=D("0.001"),
        bar_interval=timedelta(microseconds=1),
        curve_points=2,
        progress_every=1,
        trade_from=T0,
        fill_timing="this_close",
    )
    assert config.fill_timing is FillTiming.THIS_CLOSE
    assert BacktestConfig().fill_timing is FillTiming.NEXT_OPEN


def test_the_bar_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match=exactly("The bar interval must be positive.")):
        BacktestConfig(bar_interval=timedelta(0))


@pytest.mark.parametrize("points, every", [(1, 1), (2, 0)])
def test_curve_points_and_progress_every_have_a_floor(points: int, every: int) -> None:
    with pytest.raises(ValueError, match=exactly("curve_points must be at least 2 and progress_every at least 1.")):
        BacktestConfig(curve_points=points, progress_every=every)


def test_trade_from_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match=exactly("trade_from must carry a time zone.")):
        BacktestConfig(trade_from=datetime(2026, 3, 2, 14, 30))


def test_the_conventions_in_words() -> None:
    assert BacktestConfig().describe() == {
        "fill_timing": "next_open",
        "commission": NO_COMMISSION.describe(),
        "slippage": NO_SLIPPAGE.describe(),
        "sizing": "the signal's position_size",
        "initial_cash": "10000",
        "lot_size": "1",
        "strategy_capital": "equity",
    }
    config = BacktestConfig(
        fill_timing="this_close",
        commission=PerOrder(D(1)),
        slippage=FixedSlippage(D("0.01")),
        sizing=FixedQuantity(D(5)),
        initial_cash=D(500),
        lot_size=D(10),
        strategy_capital=D(300),
    )
    assert config.describe() == {
        "fill_timing": "this_close",
        "commission": PerOrder(D(1)).describe(),
        "slippage": "0.01 a share",
        "sizing": "5 shares",
        "initial_cash": "500",
        "lot_size": "10",
        "strategy_capital": "300",
    }


# ---- the result as JSON, the run log ---------------------------------------------------------------------------

JSON_BARS = ohlc("10 10 10 10", "10 11 10 11", "12 12 12 12", "12 12 12 12")
JSON_SIGNALS = [
    {"id": "buy-1", "time": during(1), "signal_type": "BUY"},
    {"id": "late", "time": during(1, 40), "signal_type": "BUY", "expires_at": t(2).isoformat()},
    {"id": "sell-1", "time": during(2), "signal_type": "SELL"},
    {"id": "buy-2", "time": during(3), "signal_type": "BUY"},
    {"id": "after", "time": during(9), "signal_type": "SELL"},
]


def test_the_result_as_json() -> None:
    result = run_backtest(JSON_BARS, replay(*JSON_SIGNALS), TEN)
    assert result.metrics is not None
    assert result.as_dict() == {
        "status": "completed",
        "bars": 4,
        "start": "2026-03-02T14:30:00+00:00",
        "end": "2026-03-02T14:33:00+00:00",
        "conventions": TEN.describe(),
        "final_cash": "9900",
        "final_equity": "10020",
        "max_drawdown_bar": "0",
        "signals": 4,
        "orders": 3,
        "metrics": result.metrics.as_dict(),
        "trades": [
            {
                "symbol": "X",
                "side": "BUY",
                "quantity": "10",
                "entry_time": "2026-03-02T14:31:00+00:00",
                "exit_time": "2026-03-02T14:32:00+00:00",
                "entry_price": "10",
                "exit_price": "12",
                "pnl": "20",
                "commission": "0",
            }
        ],
        "equity_daily": [["2026-03-02", "10020"]],
        "equity_curve": [
            ["2026-03-02T14:30:00+00:00", "10000", "0"],
            ["2026-03-02T14:31:00+00:00", "10010", "0"],
            ["2026-03-02T14:32:00+00:00", "10020", "0"],
            ["2026-03-02T14:33:00+00:00", "10020", "0"],
        ],
        "drawdown_daily": [["2026-03-02", "0"]],
        "run_log": [
            {
                "at": "2026-03-02T14:31:00+00:00",
                "kind": "skipped",
                "symbol": "X",
                "side": "BUY",
                "quantity": None,
                "purpose": "entry",
                "signal_id": "late",
                "codes": ["signal_expired"],
                "message": "The signal expired at 2026-03-02T14:31:00+00:00.",
            },
            {
                "at": "2026-03-02T14:33:00+00:00",
                "kind": "skipped",
                "symbol": "X",
                "side": None,
                "quantity": None,
                "purpose": "entry",
                "signal_id": "after",
                "codes": ["no_bar_after_signal"],
                "message": f"No bar of X came after the signal of {during(9)}.",
            },
        ],
        "run_log_total": 2,
        "positions": {"X": "10"},
    }


def test_an_empty_run_as_json() -> None:
    result = run_backtest([], replay(), TEN)
    summary = result.as_dict()
    assert (summary["status"], summary["bars"], summary["start"], summary["end"]) == ("completed", 0, None, None)
    assert (summary["metrics"], summary["equity_daily"], summary["drawdown_daily"]) == (None, [], [])
    assert result.drawdown_daily == []


def test_a_run_log_entry_with_a_quantity_as_json() -> None:
    entry = RunLogEntry(t(1), "refused", "X", "SELL", D("2.5"), "exit", None, ("a", "b"), "no")
    assert entry.as_dict() == {
        "at": "2026-03-02T14:30:00+00:00",
        "kind": "refused",
        "symbol": "X",
        "side": "SELL",
        "quantity": "2.5",
        "purpose": "exit",
        "signal_id": None,
        "codes": ["a", "b"],
        "message": "no",
    }


@pytest.mark.parametrize("keep", [1, 2])
def test_the_run_log_keeps_at_most_max_log_entries_and_counts_them_all(keep: int) -> None:
    records = [{"id": f"s{i}", "time": during(9 + i), "signal_type": "BUY"} for i in range(3)]
    result = run_backtest(flat(2), replay(*records), BacktestConfig(max_log_entries=keep))
    assert [entry.signal_id for entry in result.run_log] == ["s0", "s1", "s2"][:keep]
    assert result.run_log_total == 3


# ---- the replay intake: what it skips, at its boundaries --------------------------------------------------------


def skipped(side: str | None, quantity: Decimal | None, signal_id: str, code: str, message: str) -> RunLogEntry:
    return RunLogEntry(t(2), "skipped", "X", side, quantity, "entry", signal_id, (code,), message)


@pytest.mark.parametrize(
    "record, entry",
    [
        (
            {"signal_type": "BUY", "expires_at": t(2).isoformat()},  # expires as the bar opens: too late
            skipped("BUY", None, "s", "signal_expired", "The signal expired at 2026-03-02T14:31:00+00:00."),
        ),
        (
            {"signal_type": "BUY", "position_size": "0.00099"},  # 9.90 of capital at 10: 0.99 of a share
            skipped("BUY", D(0), "s", "quantity_below_lot", "0.00099 of capital buys less than one lot of X."),
        ),
        (
            {"signal_type": "BUY", "stop_loss": "10"},  # at the price is not on the losing side
            skipped("BUY", D(100), "s", "invalid_stop_loss", "A BUY stop loss must lie on the losing side of 10."),
        ),
        (
            {"signal_type": "SELL", "stop_loss": "10"},
            skipped("SELL", D(100), "s", "invalid_stop_loss", "A SELL stop loss must lie on the losing side of 10."),
        ),
        (
            {"signal_type": "SELL", "stop_loss": "9"},
            skipped("SELL", D(100), "s", "invalid_stop_loss", "A SELL stop loss must lie on the losing side of 10."),
        ),
        (
            {"signal_type": "BUY", "stop_loss": "9", "take_profit": "10"},  # at the price is not a profit
            skipped("BUY", D(100), "s", "invalid_take_profit", "A BUY take profit must lie on the winning side of 10."),
        ),
        (
            {"signal_type": "SELL", "stop_loss": "11", "take_profit": "10.01"},
            skipped(
                "SELL", D(100), "s", "invalid_take_profit", "A SELL take profit must lie on the winning side of 10."
            ),
        ),
    ],
)
def test_the_intake_skips_with_the_live_codes(record: dict, entry: RunLogEntry) -> None:
    result = run_backtest(flat(3), replay({"id": "s", "time": during(1), **record}), BacktestConfig())
    assert result.run_log == [entry]
    assert result.orders == 0 and result.fills == []


@pytest.mark.parametrize(
    "record, orders",
    [
        ({"expires_at": (t(2) + timedelta(microseconds=1)).isoformat()}, 1),  # still valid at the open
        ({"position_size": "0.001"}, 1),  # exactly one share
        ({"stop_loss": "9.99", "take_profit": "10.01"}, 3),  # a cent either side: a bracket
        ({"stop_loss": "9.99"}, 2),  # a stop alone
        ({"take_profit": "5"}, 1),  # a take profit without a stop is not used, so not checked
    ],
)
def test_the_intake_takes_what_lies_just_inside_its_limits(record: dict, orders: int) -> None:
    result = run_backtest(flat(3), replay({"time": during(1), "signal_type": "BUY", **record}), BacktestConfig())
    assert result.run_log == [] and result.orders == orders
    assert [(f.side, f.price, f.at) for f in result.fills] == [(Side.BUY, D(10), t(2))]


def test_a_market_entrys_take_profit_and_stop_work_from_its_bar() -> None:
    bars = ohlc("10 10 10 10", "10 10 10 10", "10 11.5 10 11", "11 11 11 11")
    signals = replay({"time": during(1), "signal_type": "BUY", "stop_loss": "9", "take_profit": "11"})
    [trade] = run_backtest(bars, signals, BacktestConfig()).trades
    assert (trade.exit_time, trade.exit_price) == (t(3), D(11))
    bars = ohlc("10 10 10 10", "10 10 10 10", "10 10 8 9", "9 9 9 9")
    [trade] = run_backtest(bars, signals, BacktestConfig()).trades
    assert (trade.exit_time, trade.exit_price) == (t(3), D(9))


def test_a_refused_market_entry_is_logged_with_its_signal_and_places_no_stop() -> None:
    limits = RiskLimits(max_position_fraction=D("0.01"), reserve_buffer=D(0), reject_stale_prices=False)
    signals = replay({"id": "r", "time": during(1), "signal_type": "BUY", "stop_loss": "9"})
    result = run_backtest(flat(3), signals, BacktestConfig(risk_limits=limits))
    [entry] = result.run_log
    assert (entry.kind, entry.purpose, entry.signal_id, entry.codes) == (
        "refused",
        "entry",
        "r",
        ("max_position_size_exceeded",),
    )
    assert result.orders == 1 and result.fills == []


# ---- resting limit entries ------------------------------------------------------------------------------------

BUFFERED = RiskLimits(max_position_fraction=D(1_000_000), reserve_buffer=D("0.02"), reject_stale_prices=False)


def test_a_limit_entry_reserves_no_buffer_a_market_entry_does() -> None:
    # All the cash at 10: a limit order cannot fill above its price, a market order reserves 2 % more.
    config = BacktestConfig(sizing=FixedQuantity(D(1000)), risk_limits=BUFFERED)
    limit = run_backtest(flat(3), replay({"time": during(1), "signal_type": "BUY", "target_price": "10"}), config)
    assert limit.run_log == [] and [(f.price, f.at) for f in limit.fills] == [(D(10), t(2))]
    market = run_backtest(flat(3), replay({"id": "m", "time": during(1), "signal_type": "BUY"}), config)
    [entry] = market.run_log
    assert (entry.signal_id, entry.purpose, entry.codes) == (
        "m",
        "entry",
        ("strategy_capital_exceeded", "insufficient_funds"),
    )


def test_resting_limit_orders_reserve_no_buffer_in_later_checks() -> None:
    # Two BUY limits at 10 under bars at 11, 500 each: the second fits the cash exactly beside the first.
    config = BacktestConfig(sizing=FixedQuantity(D(500)), risk_limits=BUFFERED)
    records = [{"time": during(1, s), "signal_type": "BUY", "target_price": "10"} for s in (10, 20)]
    result = run_backtest(flat(3, "11"), replay(*records), config)
    assert result.run_log == [] and result.orders == 2 and result.fills == []


def test_a_refused_limit_entry_is_logged_with_its_signal() -> None:
    limits = RiskLimits(max_position_fraction=D("0.01"), reserve_buffer=D(0), reject_stale_prices=False)
    signals = replay({"id": "r", "time": during(1), "signal_type": "BUY", "target_price": "9"})
    [entry] = run_backtest(flat(3), signals, BacktestConfig(risk_limits=limits)).run_log
    assert (entry.purpose, entry.signal_id, entry.codes) == ("entry", "r", ("max_position_size_exceeded",))


def test_a_resting_limit_is_a_pending_order_a_market_order_can_self_cross() -> None:
    limits = RiskLimits(
        max_position_fraction=D(1_000_000), reserve_buffer=D(0), reject_stale_prices=False, prevent_self_cross=True
    )
    records = [
        {"time": during(1, 10), "signal_type": "BUY", "target_price": "9"},
        {"id": "cross", "time": during(1, 20), "signal_type": "SELL"},
    ]
    result = run_backtest(flat(3), replay(*records), BacktestConfig(risk_limits=limits))
    [entry] = result.run_log
    assert (entry.signal_id, entry.codes) == ("cross", ("self_cross",))
    assert entry.message == "The order would trade against the account's own resting BUY limit order in X at 9."


def test_a_limit_entry_fill_carries_the_signals_model_and_its_exits_work_from_the_next_bar() -> None:
    # A BUY limit at 9 fills in bar 3 (low 8.8) with its stop at 8.5 and target at 10.5; bar 3 also falls to 8.4,
    # but the exits work only from bar 4, where the target is reached. Order rates are counted (a limit is set).
    limits = RiskLimits(
        max_position_fraction=D(1_000_000),
        reserve_buffer=D(0),
        reject_stale_prices=False,
        max_strategy_orders_per_minute=100,
    )
    bars = ohlc("10 10 10 10", "10 10 10 10", "10 10 8.4 9", "9 11 9 11", "11 11 11 11")
    records = [
        {
            "time": during(1),
            "signal_type": "BUY",
            "target_price": "9",
            "stop_loss": "8.5",
            "take_profit": "10.5",
            "confidence": "0.6",
            "metadata": {"model": "m1"},
        },
        {"time": during(4), "signal_type": "BUY", "position_size": "0.01"},
    ]
    result = run_backtest(bars, replay(*records), BacktestConfig(risk_limits=limits))
    assert [(f.side, f.quantity, f.price, f.at, f.model, f.confidence) for f in result.fills] == [
        (Side.BUY, D(111), D(9), t(3), "m1", D("0.6")),  # 1,000 of capital sized at the limit price
        (Side.SELL, D(111), D("10.5"), t(4), None, None),
        (Side.BUY, D(9), D(11), t(5), None, None),
    ]
    assert result.run_log == [] and result.orders == 4


# ---- protective orders working through a bar --------------------------------------------------------------------


def test_a_shorts_target_reached_at_the_open_fills_before_its_stop() -> None:
    # Short at 10 with a BUY stop at 11 and target at 9; bar 3 opens at 8.5 (past the target) and rises to 11.5.
    bars = ohlc("10 10 10 10", "10 10 10 10", "8.5 11.5 8.5 11", "11 11 11 11")
    signals = replay({"time": during(1), "signal_type": "SELL", "stop_loss": "11", "take_profit": "9"})
    [trade] = run_backtest(bars, signals, BacktestConfig()).trades
    assert (trade.side, trade.exit_time, trade.exit_price) == (Side.SELL, t(3), D("8.5"))


def test_a_shorts_stop_triggers_on_the_high_and_slips_upwards() -> None:
    bars = ohlc("10 10 10 10", "10 10 10 10", "10 11.5 10 11", "11 11 11 11")
    signals = replay({"time": during(1), "signal_type": "SELL", "stop_loss": "11"})
    result = run_backtest(bars, signals, BacktestConfig(slippage=FixedSlippage(D("0.05"))))
    assert [(f.side, f.price, f.at) for f in result.fills] == [
        (Side.SELL, D("9.95"), t(2)),
        (Side.BUY, D("11.05"), t(3)),
    ]


TWO_BRACKETS = [
    {"time": during(1, 10), "signal_type": "BUY", "stop_loss": "9", "take_profit": "20"},
    {"time": during(1, 20), "signal_type": "BUY", "stop_loss": "8", "take_profit": "12"},
]


def test_orders_the_bar_does_not_reach_leave_the_others_working() -> None:
    # The second entry's stop (8) and target (12) are not reached by bar 3; the first entry's stop (9) is.
    # Its target then is cancelled (never fills at 20); the other stop still works in bar 4, its target is gone.
    bars = ohlc("10 10 10 10", "10 10 10 10", "10 10.5 8.5 9", "9 9 7.5 8", "20 25 20 25")
    result = run_backtest(bars, replay(*TWO_BRACKETS), BacktestConfig())
    assert [(f.side, f.price, f.at) for f in result.fills] == [
        (Side.BUY, D(10), t(2)),
        (Side.BUY, D(10), t(2)),
        (Side.SELL, D(9), t(3)),
        (Side.SELL, D(8), t(4)),
    ]


def test_a_bar_through_both_stops_fills_both_and_cancels_both_targets() -> None:
    bars = ohlc("10 10 10 10", "10 10 10 10", "10 10 7.5 8", "20 25 20 25")
    result = run_backtest(bars, replay(*TWO_BRACKETS), BacktestConfig())
    assert [(f.side, f.price, f.at) for f in result.fills] == [
        (Side.BUY, D(10), t(2)),
        (Side.BUY, D(10), t(2)),
        (Side.SELL, D(8), t(3)),
        (Side.SELL, D(9), t(3)),
    ]


# ---- the generator's target follows the book --------------------------------------------------------------------

# SMA(2)/SMA(3): LONG on bar 10, FLAT on bar 12 (long only); with shorts SHORT on bar 7, LONG on 10, SHORT on 12.
CLOSES = ["10", "10", "10", "11", "12", "11", "9", "8", "9", "11", "12", "8", "10"]


def closes(
    values: list[str], lows: dict[int, str] | None = None, step: timedelta = MIN, highs: dict[int, str] | None = None
) -> list[Bar]:
    """Bars opening at the previous close, spanning open and close (1-based low/high overrides), every ``step``."""
    bars, previous = [], D(values[0])
    for index, text in enumerate(values, start=1):
        close = D(text)
        low = D(lows[index]) if lows and index in lows else min(previous, close)
        high = D(highs[index]) if highs and index in highs else max(previous, close)
        bars.append(Bar("X", T0 + (index - 1) * step, previous, high, low, close, D(100)))
        previous = close
    return bars


def sma(**params: object) -> object:
    return strategy_generator("SMA_CROSSOVER", {"fast_period": 2, "slow_period": 3, **params})


def test_a_protective_exit_sets_the_target_flat_so_no_exit_signal_follows() -> None:
    generator = sma(stop_loss_pct="0.05")  # the stop at 10.45; bar 11 dips to 10
    result = run_backtest(closes(CLOSES, lows={11: "10"}), generator, TEN)
    assert [(f.side, f.price, f.at) for f in result.fills] == [(Side.BUY, D(11), t(11)), (Side.SELL, D("10.45"), t(11))]
    assert generator.target("X") == "FLAT" and result.signals == 1


def test_an_exit_cancels_the_positions_stop_and_target() -> None:
    # The stop at 7.70 and target at 16.50 work when the exit fills at bar 13's open (8); bar 14 spans 5.50 to 17.
    bars = closes([*CLOSES, "5.5"], highs={14: "17"})
    result = run_backtest(bars, sma(stop_loss_pct="0.3", take_profit_pct="0.5"), TEN)
    assert [(f.side, f.price, f.at) for f in result.fills] == [(Side.BUY, D(11), t(11)), (Side.SELL, D(8), t(13))]
    assert result.positions["X"].quantity == 0


RATE_LIMITED = BacktestConfig(
    sizing=FixedQuantity(D(1)),
    risk_limits=RiskLimits(
        max_position_fraction=D(1_000_000),
        reserve_buffer=D(0),
        reject_stale_prices=False,
        max_strategy_orders_per_minute=2,
    ),
)


def test_a_refused_exit_leaves_a_one_share_long_and_its_target() -> None:
    # Bars 10 s apart: the entry and its stop (bar 11) are the minute's two orders when the exit comes (bar 13).
    generator = sma(stop_loss_pct="0.5")
    result = run_backtest(closes(CLOSES, step=10 * SEC), generator, RATE_LIMITED)
    [entry] = result.run_log
    assert (entry.purpose, entry.codes) == ("exit", ("order_rate_exceeded",))
    assert entry.signal_id == f"backtest:X:{(T0 + 11 * 10 * SEC).isoformat()}"  # bar 12's FLAT
    assert result.positions["X"].quantity == 1 and generator.target("X") == "LONG"


def test_a_refused_flip_leaves_the_short_and_its_target() -> None:
    generator = sma(stop_loss_pct="0.5", allow_short=True)
    result = run_backtest(closes(CLOSES, step=10 * SEC), generator, RATE_LIMITED)
    [entry] = result.run_log
    assert (entry.purpose, entry.codes) == ("exit", ("order_rate_exceeded",))
    assert result.positions["X"].quantity == -1 and generator.target("X") == "SHORT"
    assert result.signals == 2  # SHORT, LONG (refused); the SHORT of bar 12 is already the target


def test_one_share_positions_close_and_flip() -> None:
    one = BacktestConfig(sizing=FixedQuantity(D(1)))
    result = run_backtest(closes(CLOSES), sma(), one)
    assert [(f.side, f.quantity, f.price, f.at) for f in result.fills] == [
        (Side.BUY, D(1), D(11), t(11)),
        (Side.SELL, D(1), D(8), t(13)),
    ]
    result = run_backtest(closes(CLOSES), sma(allow_short=True), one)
    assert [(f.side, f.quantity, f.price, f.at) for f in result.fills] == [
        (Side.SELL, D(1), D(9), t(8)),
        (Side.BUY, D(1), D(11), t(11)),  # the short closed, then the long opened
        (Side.BUY, D(1), D(11), t(11)),
        (Side.SELL, D(1), D(8), t(13)),
        (Side.SELL, D(1), D(8), t(13)),
    ]


def test_an_entry_sized_under_one_lot_is_skipped_and_the_target_stays_flat() -> None:
    generator = sma()
    result = run_backtest(closes(CLOSES), generator, BacktestConfig(sizing=FixedQuantity(D("0.5"))))
    assert result.run_log == [
        RunLogEntry(
            t(11),
            "skipped",
            "X",
            "BUY",
            D(0),
            "entry",
            f"backtest:X:{t(10).isoformat()}",
            ("quantity_below_lot",),
            "The sizing buys less than one lot of X at 11.",
        )
    ]
    assert result.orders == 0 and result.signals == 1 and generator.target("X") == "FLAT"


# ---- when a recorded signal reaches the market -------------------------------------------------------------------

FOUR = ohlc("10 10 10 10", "10.5 11 10.5 11", "11.5 12 11.5 12", "12 12 12 12")


@pytest.mark.parametrize(
    "timing, arrives, price, at",
    [
        ("this_close", during(2), D(11), t(3)),  # during bar 2: at its close, which happens at bar 3's start
        ("this_close", t(3).isoformat(), D(12), t(4)),  # as bar 3 starts: at bar 3's close
        ("next_open", t(2).isoformat(), D("10.5"), t(2)),  # as bar 2 starts: at its open
        ("next_open", during(2), D("11.5"), t(3)),
    ],
)
def test_a_recorded_signal_is_acted_on_at_the_first_price_after_it(
    timing: str, arrives: str, price: Decimal, at: datetime
) -> None:
    result = run_backtest(FOUR, replay({"time": arrives, "signal_type": "BUY"}), BacktestConfig(fill_timing=timing))
    assert [(f.price, f.at) for f in result.fills] == [(price, at)]


def test_a_signal_may_come_before_its_symbols_first_bar() -> None:
    bars = [*flat(2), Bar("Y", t(3), D(20), D(20), D(20), D(20), D(1))]  # Y's first bar comes third
    result = run_backtest(bars, replay({"symbol": "Y", "time": during(1), "signal_type": "BUY"}), TEN)
    assert [(f.symbol, f.price, f.at) for f in result.fills] == [("Y", D(20), t(3))]


def test_closing_at_the_end_keeps_a_resting_entry_aside() -> None:
    # X holds a position and a resting BUY limit at 5, Y a position: both close at the end, one bar interval on.
    x, y = flat(3), flat(3, "20", symbol="Y")
    bars = [bar for pair in zip(x, y, strict=True) for bar in pair]
    records = [
        {"time": during(1, 10), "signal_type": "BUY"},
        {"time": during(1, 20), "signal_type": "BUY", "target_price": "5"},
        {"symbol": "Y", "time": during(1, 30), "signal_type": "BUY"},
    ]
    result = run_backtest(bars, replay(*records), BacktestConfig(sizing=FixedQuantity(D(10)), close_at_end=True))
    assert [(f.symbol, f.side, f.price, f.at) for f in result.fills] == [
        ("X", Side.BUY, D(10), t(2)),
        ("Y", Side.BUY, D(20), t(2)),
        ("X", Side.SELL, D(10), t(4)),
        ("Y", Side.SELL, D(20), t(4)),
    ]
    assert result.run_log == [] and result.orders == 5


@pytest.mark.parametrize("fraction, refused", [("0.0089", False), ("0.00891", True)])
def test_a_working_stop_left_without_its_position_reserves_with_the_buffer(fraction: str, refused: bool) -> None:
    # A BUY of 100 with a stop at 9, sold again by a SELL signal: the stop keeps working and, with nothing left to
    # protect, reserves 100 * 9 * 1.02 = 918 of the 10,000 cash. A BUY then gets 9,082: 890 at 10.20 fit, 891 not.
    config = BacktestConfig(risk_limits=BUFFERED, strategy_capital=D(1_000_000))
    records = [
        {"time": during(1), "signal_type": "BUY", "position_size": "0.001", "stop_loss": "9"},
        {"time": during(2), "signal_type": "SELL", "position_size": "0.001"},
        {"id": "last", "time": during(3), "signal_type": "BUY", "position_size": fraction},
    ]
    result = run_backtest(flat(5), replay(*records), config)
    needs = "The order needs 9088.20 of buying power but the account has 9082.00 available."
    assert [(entry.codes, entry.message) for entry in result.run_log] == (
        [(("insufficient_funds",), needs)] if refused else []
    )
    assert len(result.fills) == (2 if refused else 3)


def test_run_backtest_hands_the_callbacks_on() -> None:
    seen: list = []
    result = run_backtest(JSON_BARS, replay(*JSON_SIGNALS), TEN, on_trade=seen.append)
    assert seen == result.trades and len(seen) == 1


# ---- equity, marks and exposure, bar by bar and day by day -------------------------------------------------------

NIGHT = datetime(2026, 3, 2, 23, 58, tzinfo=UTC)
DAY1, DAY2 = NIGHT.date(), NIGHT.date() + timedelta(days=1)


def night_bars() -> list[Bar]:
    """X and Y over midnight, X first each minute: X 10 -> 12 -> 9 -> 10, Y 20 -> 18 -> 19 -> 21."""
    rows = [("10", "10", "20", "20"), ("10", "12", "20", "18"), ("12", "9", "18", "19"), ("9", "10", "19", "21")]
    bars = []
    for index, (xo, xc, yo, yc) in enumerate(rows):
        minute = NIGHT + index * MIN
        for symbol, o, c in (("X", D(xo), D(xc)), ("Y", D(yo), D(yc))):
            bars.append(Bar(symbol, minute, o, max(o, c), min(o, c), c, D(1)))
    return bars


NIGHT_SIGNALS = [
    {"time": (NIGHT + 10 * SEC).isoformat(), "signal_type": "BUY"},
    {"symbol": "Y", "time": (NIGHT + 20 * SEC).isoformat(), "signal_type": "SELL"},
]


def test_equity_is_cash_plus_marked_positions_bar_by_bar_and_day_by_day() -> None:
    # Long 10 X at 10 and short 10 Y at 20 at 23:59's opens; equity after each bar (X, then Y, each minute):
    # 10000, 10000 | 10020, 10040 (the peak) || 10010, 10000 | 10010, 9990.
    result = run_backtest(night_bars(), replay(*NIGHT_SIGNALS), TEN)
    peak = D(10040)
    equities = [D(10000), D(10000), D(10020), peak, D(10010), D(10000), D(10010), D(9990)]
    minutes = [NIGHT + (i // 2) * MIN for i in range(8)]
    drawdowns = [D(0)] * 4 + [CONTEXT.divide(peak - e, peak) for e in equities[4:]]
    assert [(p.at, p.equity, p.drawdown) for p in result.equity_curve] == list(
        zip(minutes, equities, drawdowns, strict=True)
    )
    assert result.max_drawdown_bar == CONTEXT.divide(D(50), peak)
    assert result.equity_daily == {DAY1: peak, DAY2: D(9990)}
    assert result.daily_marks == [(DAY1, {"X": D(12), "Y": D(18)}), (DAY2, {"X": D(10), "Y": D(21)})]
    assert result.daily_exposure == [(DAY1, {"X": D(120), "Y": D(-180)}), (DAY2, {"X": D(100), "Y": D(-210)})]
    assert (result.final_cash, result.final_equity) == (D(10100), D(9990))
    assert (result.start, result.end, result.bars) == (NIGHT, NIGHT + 3 * MIN, 8)
    assert [d.drawdown for d in result.drawdown_daily] == [D(0), CONTEXT.divide(D(50), peak)]


def test_the_curve_keeps_evenly_spaced_points_and_the_last_bar() -> None:
    # At most 2 * curve_points: the 4th point halves the curve (every 2nd bar), the 8th again (every 4th bar).
    result = run_backtest(
        night_bars(), replay(*NIGHT_SIGNALS), BacktestConfig(sizing=FixedQuantity(D(10)), curve_points=2)
    )
    assert [(p.at, p.equity) for p in result.equity_curve] == [
        (NIGHT, D(10000)),
        (NIGHT + 2 * MIN, D(10000)),  # the 6th bar
        (NIGHT + 3 * MIN, D(9990)),  # the end, added by the finish
    ]


def test_the_position_carries_the_commissions_charged() -> None:
    config = BacktestConfig(sizing=FixedQuantity(D(10)), commission=PerOrder(D(1)))
    records = [{"time": during(1), "signal_type": "BUY"}, {"time": during(2), "signal_type": "SELL"}]
    position = run_backtest(JSON_BARS, replay(*records), config).positions["X"]
    assert (position.quantity, position.realized_pnl, position.commissions) == (D(0), D(18), D(2))


def test_a_market_entrys_exits_count_in_the_order_rate_but_are_never_refused() -> None:
    # The entry, its stop and its target at 14:31's open, then a second entry at the same open: the minute's
    # fourth order, accepted under a limit of 4 a minute, refused under 3; the exits pass even under 1 a minute.
    records = [
        {"time": during(1), "signal_type": "BUY", "stop_loss": "5", "take_profit": "20"},
        {"id": "again", "time": during(1, 50), "signal_type": "BUY"},
    ]
    for limit, codes in ((4, []), (3, [("order_rate_exceeded",)]), (1, [("order_rate_exceeded",)])):
        limits = RiskLimits(
            max_position_fraction=D(1_000_000),
            reserve_buffer=D(0),
            reject_stale_prices=False,
            max_strategy_orders_per_minute=limit,
        )
        result = run_backtest(flat(3), replay(*records), BacktestConfig(sizing=FixedQuantity(D(1)), risk_limits=limits))
        assert [entry.codes for entry in result.run_log] == codes
        assert result.orders == 4


# ---- the end of a run ----------------------------------------------------------------------------------------------


def test_a_signal_handed_to_a_symbol_with_no_later_bar_is_logged_at_the_end() -> None:
    bars = [*flat(1), Bar("Y", t(1), D(20), D(20), D(20), D(20), D(1)), *flat(2)[1:]]  # Y's only bar is the first
    result = run_backtest(bars, replay({"id": "y", "symbol": "Y", "time": during(1), "signal_type": "BUY"}), TEN)
    assert result.run_log == [
        RunLogEntry(
            t(2),
            "skipped",
            "Y",
            None,
            None,
            "entry",
            "y",
            ("no_bar_after_signal",),
            f"No bar of Y came after the signal of {during(1)}.",
        )
    ]
    assert result.signals == 1


def test_a_generator_signal_on_the_last_bar_is_not_logged() -> None:
    result = run_backtest(closes(CLOSES[:10]), sma(), TEN)  # LONG on bar 10, the last
    assert result.signals == 1 and result.run_log == [] and result.fills == []


def test_a_cancelled_run_neither_closes_nor_logs_what_is_left() -> None:
    records = [{"time": during(1), "signal_type": "BUY"}, {"time": during(9), "signal_type": "SELL"}]
    checks = iter([False, True])
    result = Backtest(
        flat(4),
        replay(*records),
        BacktestConfig(sizing=FixedQuantity(D(10)), close_at_end=True, progress_every=2),
        should_cancel=lambda: next(checks),
    ).run()
    assert (result.status, result.bars, result.run_log) == ("canceled", 4, [])
    assert result.positions["X"].quantity == 10 and len(result.fills) == 1


def test_a_refused_close_at_the_end_is_logged_as_end_of_run() -> None:
    # Bars 30 s apart: the entry at the last bar's open and the close 30 s later are in the same minute.
    limits = RiskLimits(
        max_position_fraction=D(1_000_000),
        reserve_buffer=D(0),
        reject_stale_prices=False,
        max_strategy_orders_per_minute=1,
    )
    config = BacktestConfig(sizing=FixedQuantity(D(10)), close_at_end=True, bar_interval=30 * SEC, risk_limits=limits)
    bars = ohlc("10 10 10 10", "10 10 10 10", step=30 * SEC)
    result = run_backtest(bars, replay({"time": (T0 + 10 * SEC).isoformat(), "signal_type": "BUY"}), config)
    [entry] = result.run_log
    assert (entry.at, entry.purpose, entry.signal_id, entry.codes) == (
        T0 + 60 * SEC,
        "end_of_run",
        None,
        ("order_rate_exceeded",),
    )
    assert result.positions["X"].quantity == 10


# ---- what the risk snapshot holds ---------------------------------------------------------------------------------


def test_the_strategy_capital_bounds_what_the_strategy_may_use() -> None:
    config = BacktestConfig(sizing=FixedQuantity(D(100)), strategy_capital=D(999))
    result = run_backtest(flat(3), replay({"time": during(1), "signal_type": "BUY"}), config)
    assert [entry.codes for entry in result.run_log] == [("strategy_capital_exceeded",)]
    config = BacktestConfig(sizing=FixedQuantity(D(100)), strategy_capital=D(1000))
    assert run_backtest(flat(3), replay({"time": during(1), "signal_type": "BUY"}), config).run_log == []


@pytest.mark.parametrize(
    "limit, code",
    [
        ({"daily_loss_limit": D("0.003")}, "daily_loss_limit_exceeded"),
        ({"max_drawdown": D("0.003")}, "max_drawdown_exceeded"),
    ],
)
def test_the_day_starts_and_the_peak_is_measured_at_the_marks(limit: dict, code: str) -> None:
    # The night's second day starts at 10040 (also the peak); at 00:01's open equity is 10000: a loss of 40 is past
    # 0.3 % of 10040 (30.12), so a new order is refused; under a limit of 0.4 % (40.16) it passes.
    records = [*NIGHT_SIGNALS, {"id": "more", "time": (NIGHT + 2 * MIN + 30 * SEC).isoformat(), "signal_type": "BUY"}]
    base = {"max_position_fraction": D(1_000_000), "reserve_buffer": D(0), "reject_stale_prices": False}
    config = BacktestConfig(sizing=FixedQuantity(D(10)), risk_limits=RiskLimits(**base, **limit))
    result = run_backtest(night_bars(), replay(*records), config)
    assert [(entry.signal_id, entry.codes) for entry in result.run_log] == [("more", (code,))]
    looser = {name: D("0.004") for name in limit}
    config = BacktestConfig(sizing=FixedQuantity(D(10)), risk_limits=RiskLimits(**base, **looser))
    assert run_backtest(night_bars(), replay(*records), config).run_log == []


def test_a_symbol_that_cannot_be_borrowed_is_not_sold_short() -> None:
    config = BacktestConfig(sizing=FixedQuantity(D(10)), not_shortable=frozenset({"X"}))
    result = run_backtest(flat(3), replay({"time": during(1), "signal_type": "SELL"}), config)
    assert [entry.codes for entry in result.run_log] == [("not_easy_to_borrow",)]


@pytest.mark.parametrize("lot, approved", [(D(1), D(50)), (D(20), D(40))])
def test_an_order_the_rules_resize_trades_the_approved_whole_lots(lot: Decimal, approved: Decimal) -> None:
    limits = RiskLimits(
        max_position_fraction=D("0.05"),
        reserve_buffer=D(0),
        reject_stale_prices=False,
        resize=frozenset({"max_position_size_exceeded"}),
    )
    config = BacktestConfig(sizing=FixedQuantity(D(100)), risk_limits=limits, lot_size=lot)
    result = run_backtest(flat(3), replay({"time": during(1), "signal_type": "BUY"}), config)
    assert result.run_log == [] and [f.quantity for f in result.fills] == [approved]  # 5 % of 10,000 at 10: 50


# ---- round trips --------------------------------------------------------------------------------------------------

ZIGZAG = [
    {"time": during(1), "signal_type": "BUY", "position_size": "0.001"},  # long 1 at 14:31
    {"time": during(2), "signal_type": "SELL", "position_size": "0.002"},  # through zero: short 1 at 14:32
    {"time": during(3), "signal_type": "BUY", "position_size": "0.002"},  # through zero: long 1 at 14:33
    {"time": during(4), "signal_type": "SELL", "position_size": "0.001"},  # flat at 14:34
]


@pytest.mark.parametrize("count", [2, 3, 4])
def test_a_fill_through_zero_closes_the_round_trip_at_once(count: int) -> None:
    seen: list = []
    result = run_backtest(flat(6), replay(*ZIGZAG[:count]), BacktestConfig(), on_trade=seen.append)
    trips = [(Side.BUY, t(2), t(3)), (Side.SELL, t(3), t(4)), (Side.BUY, t(4), t(5))]
    assert [(trade.side, trade.entry_time, trade.exit_time) for trade in result.trades] == trips[: count - 1]
    assert seen == result.trades


@pytest.mark.parametrize("band, codes", [(D("0.0999"), [("price_band_exceeded",)]), (D("0.1"), [])])
def test_a_limit_price_is_measured_against_the_symbols_last_price(band: Decimal, codes: list) -> None:
    # A BUY limit at 9 under a last price of 10 is 10 % away.
    limits = RiskLimits(
        max_position_fraction=D(1_000_000), reserve_buffer=D(0), reject_stale_prices=False, max_price_deviation=band
    )
    signals = replay({"time": during(1), "signal_type": "BUY", "target_price": "9"})
    result = run_backtest(flat(3), signals, BacktestConfig(risk_limits=limits))
    assert [entry.codes for entry in result.run_log] == codes


def test_the_account_order_rate_counts_the_runs_orders() -> None:
    limits = RiskLimits(
        max_position_fraction=D(1_000_000),
        reserve_buffer=D(0),
        reject_stale_prices=False,
        max_account_orders_per_minute=1,
    )
    records = [{"time": during(1), "signal_type": "BUY"}, {"id": "second", "time": during(1, 50), "signal_type": "BUY"}]
    [entry] = run_backtest(flat(3), replay(*records), BacktestConfig(risk_limits=limits)).run_log
    assert (entry.signal_id, entry.codes) == ("second", ("order_rate_exceeded",))
    assert entry.message == "The account already sent 1 orders in the last minute; the limit is 1 per minute."


def two_symbols(y_price: str = "10") -> list[Bar]:
    x, y = flat(3), flat(3, y_price, symbol="Y")
    return [bar for pair in zip(x, y, strict=True) for bar in pair]  # X's bar first each minute


def test_a_sector_counts_every_holding_in_it() -> None:
    # 10 X (100) held in tech; 40 Y (400) fit the 4 % position limit but bring tech to 500, past 4 % of 10,000.
    limits = RiskLimits(
        max_position_fraction=D("0.04"), max_sector_exposure=D("0.04"), reserve_buffer=D(0), reject_stale_prices=False
    )
    records = [
        {"time": during(1), "signal_type": "BUY", "position_size": "0.01"},
        {"id": "y", "symbol": "Y", "time": during(2), "signal_type": "BUY", "position_size": "0.04"},
    ]
    config = BacktestConfig(risk_limits=limits, sectors={"X": "tech", "Y": "tech"})
    [entry] = run_backtest(two_symbols(), replay(*records), config).run_log
    assert (entry.signal_id, entry.codes) == ("y", ("max_sector_exposure_exceeded",))


def test_a_resting_order_in_another_symbol_holds_its_cash() -> None:
    # Y's BUY limit of 600 at 10 (under Y's 11) reserves 6,000 from 14:31; X's 500 at 10 at 14:32 then exceed the
    # 4,000 left. (X's book is the run's first: each minute starts with X.)
    records = [
        {"symbol": "Y", "time": during(1), "signal_type": "BUY", "position_size": "0.6", "target_price": "10"},
        {"id": "x", "time": during(2), "signal_type": "BUY", "position_size": "0.5"},
    ]
    [entry] = run_backtest(two_symbols("11"), replay(*records), BacktestConfig()).run_log
    assert (entry.signal_id, entry.codes) == ("x", ("strategy_capital_exceeded", "insufficient_funds"))
    assert entry.message == (  # every violation's message, in order, one sentence after the other
        "The order would bring the strategy's committed capital to 11000, above its allocation of 10000. "
        "The order needs 5000 of buying power but the account has 4000 available."
    )


def test_all_in_sizes_on_equity_less_what_is_held() -> None:
    # 333 X at 30 leave 10 of cash; equity 10,000 less the 9,990 held buys 1 Y at 10.
    x, y = flat(3, "30"), flat(3, symbol="Y")
    bars = [bar for pair in zip(x, y, strict=True) for bar in pair]
    records = [{"time": during(1), "signal_type": "BUY"}, {"symbol": "Y", "time": during(2), "signal_type": "BUY"}]
    result = run_backtest(bars, replay(*records), BacktestConfig(sizing=ALL_IN))
    assert [(f.symbol, f.quantity, f.price) for f in result.fills] == [("X", D(333), D(30)), ("Y", D(1), D(10))]


def test_each_resting_entry_keeps_its_own_model_and_stop() -> None:
    # BUY limits at 9 (model a, stop 8.5) and 8 (model b, stop 7): bar 3 reaches 9 only, bar 4 reaches 8 and 7.9,
    # bar 5 falls to 6.9 (both stops).
    records = [
        {
            "time": during(1, 10),
            "signal_type": "BUY",
            "target_price": "9",
            "stop_loss": "8.5",
            "metadata": {"model": "a"},
        },
        {
            "time": during(1, 20),
            "signal_type": "BUY",
            "target_price": "8",
            "stop_loss": "7",
            "metadata": {"model": "b"},
        },
    ]
    bars = ohlc("10 10 10 10", "10 10 10 10", "10 10 8.8 9", "9 9 7.9 8", "8 8 6.9 7")
    result = run_backtest(bars, replay(*records), TEN)
    assert [(f.side, f.price, f.at, f.model) for f in result.fills] == [
        (Side.BUY, D(9), t(3), "a"),
        (Side.SELL, D("8.5"), t(4), None),  # a's stop, from the bar after its fill, placed before b's limit
        (Side.BUY, D(8), t(4), "b"),
        (Side.SELL, D(7), t(5), None),
    ]


def test_a_symbol_never_traded_has_no_mark() -> None:
    result = run_backtest(flat(2), replay({"symbol": "Y", "time": during(1), "signal_type": "BUY"}), TEN)
    assert result.daily_marks == [(T0.date(), {"X": D(10)})]
    assert [entry.codes for entry in result.run_log] == [("no_bar_after_signal",)]


@pytest.fixture
def tokyo() -> object:
    """The machine's zone set to UTC+9 for the test (the engine must not depend on it)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.mark.usefixtures("tokyo")
def test_days_are_utc_days_whatever_the_machines_zone() -> None:
    result = run_backtest(night_bars(), replay(*NIGHT_SIGNALS), TEN)
    assert list(result.equity_daily) == [DAY1, DAY2]


def test_a_generator_is_sized_on_equity_by_default() -> None:
    # Short 111 at 9 (0.1 of 10,000), covered at 11 (-222); the long is then 0.1 of 9,778 at 11: 88 (not 90).
    result = run_backtest(closes(CLOSES), sma(allow_short=True), BacktestConfig())
    assert [(f.side, f.quantity, f.price) for f in result.fills][:3] == [
        (Side.SELL, D(111), D(9)),
        (Side.BUY, D(111), D(11)),
        (Side.BUY, D(88), D(11)),
    ]


@pytest.mark.parametrize("start, fills", [(t(10), 2), (t(10) + timedelta(microseconds=1), 0)])
def test_trading_starts_with_the_bar_at_trade_from(start: datetime, fills: int) -> None:
    # LONG on bar 10: traded when bar 10 is at or after trade_from, otherwise only warms the generator up.
    result = run_backtest(closes(CLOSES), sma(), BacktestConfig(sizing=FixedQuantity(D(10)), trade_from=start))
    assert len(result.fills) == fills and result.signals == 2 - (fills == 0)


def test_each_halving_doubles_the_curves_spacing() -> None:
    # curve_points 2: bars 1-4 sampled, halved at the 4th (every 2nd bar on), at the 8th (every 4th), at the 16th
    # (every 8th); the end is added: bars 1, 12 and 16.
    result = run_backtest(flat(16), replay(), BacktestConfig(curve_points=2))
    assert [p.at for p in result.equity_curve] == [t(1), t(12), t(16)]


def test_progress_reports_the_last_stretch_with_the_known_total() -> None:
    calls: list[tuple[int, int | None]] = []
    Backtest(flat(5), replay(), BacktestConfig(progress_every=2), progress=lambda d, n: calls.append((d, n))).run()
    assert calls == [(2, 5), (4, 5), (5, 5)]
    calls.clear()
    Backtest(flat(4), replay(), BacktestConfig(progress_every=2), progress=lambda d, n: calls.append((d, n))).run()
    assert calls == [(2, 4), (4, 4)]  # the last checkpoint was the end: no second report of it
