"""Live against backtest on hand-made trades: matched pairs, slippage, timing, refusals and misses."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from strategies.core.backtest.compare import compare_fills, compare_trades
from strategies.core.backtest.engine import RunLogEntry
from strategies.core.metrics import ClosedTrade, TradeFill
from trading.core.orders import Side

D = Decimal
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)


def trade(
    entry: int,
    exit_: int,
    entry_price: str,
    exit_price: str,
    *,
    symbol: str = "AAPL",
    side: Side = Side.BUY,
    quantity: str = "10",
    commission: str = "0",
) -> ClosedTrade:
    q, p0, p1, c = D(quantity), D(entry_price), D(exit_price), D(commission)
    return ClosedTrade(symbol, side, q, T0 + entry * MIN, T0 + exit_ * MIN, p0, p1, (p1 - p0) * q * side.sign - c, c)


def refusal(minute: int, codes: tuple[str, ...], *, symbol: str = "AAPL", side: str = "BUY") -> RunLogEntry:
    return RunLogEntry(T0 + minute * MIN, "refused", symbol, side, D(10), "entry", "sig", codes, "refused because")


def test_identical_trades_show_no_difference() -> None:
    trades = [trade(1, 5, "100", "101"), trade(7, 9, "102", "101", side=Side.SELL)]
    report = compare_trades(trades, list(trades))
    assert report.differences == [] and report.matched == 2 and report.identical == 2 and report.pnl_gap == 0


def test_slippage_timing_quantity_and_commission() -> None:
    live = [trade(2, 6, "100.05", "100.90", quantity="9", commission="2")]
    backtest = [trade(1, 6, "100", "101")]
    [difference] = compare_trades(live, backtest).differences
    assert difference.causes == ("fill_price", "timing", "quantity", "commission")
    assert difference.entry_delay == MIN and difference.exit_delay == timedelta(0)
    assert difference.entry_price_difference == D("0.05") and difference.exit_price_difference == D("-0.10")
    assert difference.entry_slippage_bps == D(5)  # paid 5 bps more to buy
    # Got 0.10 less when selling: worse, so positive; 0.10 of 101 is 9.9 bps.
    assert difference.exit_slippage_bps == D("9.900990099009900990099009901")
    assert difference.pnl_difference == (D("0.85") * 9 - 2) - 10
    assert "entry filled at 100.05 live, 100 in the backtest (+5.0 bps)" in difference.explanation


def test_a_short_that_sold_higher_live_did_better() -> None:
    [difference] = compare_trades(
        [trade(1, 3, "50.10", "49", side=Side.SELL)], [trade(1, 3, "50", "49", side=Side.SELL)]
    ).differences
    assert difference.entry_slippage_bps == D(-20)


def test_unmatched_trades_name_the_refusal_or_the_miss() -> None:
    live = [trade(1, 4, "100", "101"), trade(20, 25, "90", "91")]
    backtest = [trade(10, 12, "95", "96", side=Side.SELL), trade(30, 31, "80", "79")]
    report = compare_trades(
        live,
        backtest,
        backtest_log=[refusal(2, ("max_position_size_exceeded",))],
        live_refusals=[refusal(10, ("kill_switch_engaged",), side="SELL")],
    )
    assert [(d.causes, d.risk_codes) for d in report.differences] == [
        (("refused_in_backtest",), ("max_position_size_exceeded",)),
        (("refused_live",), ("kill_switch_engaged",)),
        (("missed_in_backtest",), ()),
        (("missed_live",), ()),
    ]
    assert report.differences[0].pnl_difference == D(10)  # counted alone, live - backtest
    assert report.differences[1].pnl_difference == D(10)  # the backtest's short lost 10 that live never lost
    assert "was refused in the backtest (max_position_size_exceeded)" in report.differences[0].explanation
    assert report.by_cause == {"refused_in_backtest": 1, "refused_live": 1, "missed_in_backtest": 1, "missed_live": 1}
    assert report.matched == 0


def test_matching_respects_symbol_side_and_tolerance_and_takes_the_nearest() -> None:
    live = [trade(5, 9, "100", "101")]
    backtest = [trade(2, 8, "100", "101"), trade(6, 9, "100", "101"), trade(5, 9, "100", "101", symbol="MSFT")]
    report = compare_trades(live, backtest, tolerance=timedelta(minutes=3))
    assert report.matched == 1
    matched = [d for d in report.differences if d.live is not None]
    assert matched[0].backtest.entry_time == T0 + 6 * MIN  # nearer than minute 2
    assert len([d for d in report.differences if d.causes == ("missed_live",)]) == 2


def test_compare_fills_builds_round_trips_first() -> None:
    def fills(price_in: str) -> list[TradeFill]:
        return [
            TradeFill("AAPL", T0, Side.BUY, D(10), D(price_in)),
            TradeFill("AAPL", T0 + 3 * MIN, Side.SELL, D(10), D(101)),
        ]

    report = compare_fills(fills("100.02"), fills("100"))
    assert report.matched == 1 and report.differences[0].causes == ("fill_price",)
    assert D(report.as_dict()["differences"][0]["entry_slippage_bps"]) == 2
