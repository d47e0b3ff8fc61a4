"""The comparison's rules, one at a time: matching at the tolerance and on ties, which refusal explains a
missing trade, the exact explanations and the JSON form."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from strategies.core.backtest.compare import compare_fills, compare_trades
from strategies.core.backtest.engine import RunLogEntry
from strategies.core.metrics import ClosedTrade, TradeFill
from trading.core.orders import Side

D = Decimal
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)
BUY, SELL = Side.BUY, Side.SELL


def trade(
    entry: int,
    exit_: int,
    entry_price: str = "100",
    exit_price: str = "101",
    *,
    symbol: str = "AAPL",
    side: Side = BUY,
    quantity: str = "10",
    commission: str = "0",
) -> ClosedTrade:
    q, p0, p1, c = D(quantity), D(entry_price), D(exit_price), D(commission)
    return ClosedTrade(symbol, side, q, T0 + entry * MIN, T0 + exit_ * MIN, p0, p1, (p1 - p0) * q * side.sign - c, c)


def refusal(
    minute: int,
    codes: tuple[str, ...] = ("max_position_size_exceeded",),
    *,
    symbol: str = "AAPL",
    side: str | None = "BUY",
    purpose: str = "entry",
    message: str = "too big",
) -> RunLogEntry:
    return RunLogEntry(T0 + minute * MIN, "refused", symbol, side, D(10), purpose, "sig", codes, message)


def only_live(live: ClosedTrade, backtest_log: list[RunLogEntry]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    [difference] = compare_trades([live], [], backtest_log=backtest_log, tolerance=2 * MIN).differences
    return difference.causes, difference.risk_codes


# Matching.


def test_a_backtest_entry_exactly_at_the_tolerance_matches_and_one_just_beyond_does_not() -> None:
    at_limit = compare_trades([trade(5, 9)], [trade(7, 9)], tolerance=2 * MIN)
    assert at_limit.matched == 1
    beyond = compare_trades([trade(5, 9)], [trade(7, 9)], tolerance=2 * MIN - timedelta(microseconds=1))
    assert beyond.matched == 0


def test_of_two_equally_near_backtest_trades_the_earlier_is_taken() -> None:
    report = compare_trades([trade(5, 20)], [trade(3, 20), trade(7, 20)], tolerance=3 * MIN)
    [left] = [d for d in report.differences if d.causes == ("missed_live",)]
    assert left.backtest is not None and left.backtest.entry_time == T0 + 7 * MIN


def test_a_matched_pair_that_differs_is_not_identical() -> None:
    live = [trade(1, 5), trade(10, 15, "100", "102"), trade(20, 25, "100", "103"), trade(40, 45)]
    backtest = [trade(1, 5), trade(10, 15), trade(20, 25), trade(60, 65)]
    report = compare_trades(live, backtest)
    assert (report.matched, report.identical) == (3, 1)
    assert report.by_cause == {"fill_price": 2, "missed_in_backtest": 1, "missed_live": 1}


def test_pnl_totals_are_decimals_even_with_no_trade() -> None:
    report = compare_trades([], [])
    assert (report.live_pnl, report.backtest_pnl, report.pnl_gap) == (D(0), D(0), D(0))
    assert all(type(value) is Decimal for value in (report.live_pnl, report.backtest_pnl, report.pnl_gap))


def test_compare_fills_passes_the_options_on() -> None:
    live = [TradeFill("AAPL", T0 + 5 * MIN, BUY, D(1), D(100)), TradeFill("AAPL", T0 + 9 * MIN, SELL, D(1), D(101))]
    backtest = [TradeFill("AAPL", T0, BUY, D(1), D(100)), TradeFill("AAPL", T0 + 9 * MIN, SELL, D(1), D(101))]
    assert compare_fills(live, backtest).matched == 0  # 5 minutes apart, beyond the default 2
    assert compare_fills(live, backtest, tolerance=5 * MIN).matched == 1


# Which refusal explains a trade the other side lacks.


def test_a_refusal_at_the_tolerance_counts_and_one_just_beyond_does_not() -> None:
    assert only_live(trade(10, 20), [refusal(12)]) == (("refused_in_backtest",), ("max_position_size_exceeded",))
    late = replace(refusal(12), at=T0 + 12 * MIN + timedelta(microseconds=1))
    assert only_live(trade(10, 20), [late]) == (("missed_in_backtest",), ())


def test_a_refusal_of_another_symbol_or_side_or_purpose_is_skipped_and_the_next_one_found() -> None:
    log = [
        refusal(10, ("other_symbol",), symbol="MSFT"),
        refusal(10, ("other_side",), side="SELL"),
        refusal(10, ("stop",), purpose="stop_loss"),
        refusal(11, ("ours",)),
    ]
    assert only_live(trade(10, 20), log) == (("refused_in_backtest",), ("ours",))


def test_a_refusal_of_another_symbol_on_the_same_side_does_not_count() -> None:
    assert only_live(trade(10, 20), [refusal(10, symbol="MSFT")]) == (("missed_in_backtest",), ())


def test_a_refusal_without_a_side_counts_for_either_direction() -> None:
    assert only_live(trade(10, 20, side=SELL), [refusal(10, ("halted",), side=None)]) == (
        ("refused_in_backtest",),
        ("halted",),
    )


def test_an_exit_refusal_counts() -> None:
    assert only_live(trade(10, 20), [refusal(10, ("exit_refused",), purpose="exit")]) == (
        ("refused_in_backtest",),
        ("exit_refused",),
    )


def test_the_nearest_refusal_is_named_and_the_first_logged_on_a_tie() -> None:
    log = [refusal(8, ("far",)), refusal(9, ("before",)), refusal(11, ("after",))]
    assert only_live(trade(10, 20), log) == (("refused_in_backtest",), ("before",))


def test_a_later_refusal_nearer_than_the_first_replaces_it() -> None:
    assert only_live(trade(10, 20), [refusal(12, ("first",)), refusal(9, ("second",))]) == (
        ("refused_in_backtest",),
        ("second",),
    )


# Explanations, word for word.


def test_the_explanation_of_a_matched_pair_names_every_difference() -> None:
    live = [trade(2, 4, "100.05", "100.90", quantity="9", commission="2")]
    [difference] = compare_trades(live, [trade(1, 6)]).differences
    assert (difference.symbol, difference.side) == ("AAPL", BUY)
    assert difference.explanation == (
        "AAPL long trade entered 2026-03-02T14:31:00+00:00: "
        "entry filled at 100.05 live, 100 in the backtest (+5.0 bps); "
        "exit filled at 100.90 live, 101 in the backtest (+9.9 bps); "
        "entry +60 s from the backtest's; exit -120 s from the backtest's; "
        "9 shares live, 10 in the backtest; commission 2 live, 0 in the backtest; "
        "P&L -4.35 live against the backtest."
    )


def test_the_explanation_of_a_short_with_only_its_exit_different() -> None:
    live, backtest = trade(1, 5, "50", "48", side=SELL), trade(1, 3, "50", "49", side=SELL)
    [difference] = compare_trades([live], [backtest]).differences
    assert (difference.symbol, difference.side) == ("AAPL", SELL)
    assert difference.explanation == (
        "AAPL short trade entered 2026-03-02T14:31:00+00:00: "
        "exit filled at 48 live, 49 in the backtest (-204.1 bps); exit +120 s from the backtest's; "
        "P&L +10 live against the backtest."
    )


def test_the_explanations_of_unmatched_trades() -> None:
    live = [trade(1, 4, symbol="MSFT", side=SELL), trade(20, 25)]
    backtest = [trade(10, 12, side=SELL), trade(30, 31, symbol="TSLA")]
    report = compare_trades(
        live,
        backtest,
        backtest_log=[refusal(2, ("a", "b"), symbol="MSFT", side="SELL", message="too big")],
        live_refusals=[refusal(10, ("c", "d"), side="SELL", message="halted")],
    )
    assert [(d.symbol, d.side, d.causes, d.risk_codes, d.explanation) for d in report.differences] == [
        (
            "MSFT",
            SELL,
            ("refused_in_backtest",),
            ("a", "b"),
            "MSFT short trade entered live at 2026-03-02T14:31:00+00:00 was refused in the backtest (a, b): too big",
        ),
        (
            "AAPL",
            SELL,
            ("refused_live",),
            ("c", "d"),
            "AAPL short trade entered in the backtest at 2026-03-02T14:40:00+00:00 was refused live (c, d): halted",
        ),
        (
            "AAPL",
            BUY,
            ("missed_in_backtest",),
            (),
            "AAPL long trade entered live at 2026-03-02T14:50:00+00:00 has no backtest signal near it.",
        ),
        (
            "TSLA",
            BUY,
            ("missed_live",),
            (),
            "TSLA long trade entered in the backtest at 2026-03-02T15:00:00+00:00 "
            "never traded live: no live signal near it.",
        ),
    ]


# The JSON form.


def test_the_json_form_of_a_comparison() -> None:
    live = [trade(2, 4, "100.05", "101", commission="1"), trade(20, 25, "90", "91", symbol="MSFT")]
    backtest = [trade(1, 6, "100", "101")]
    data = compare_trades(live, backtest).as_dict()
    assert data == {
        "matched": 1,
        "identical": 0,
        "live_pnl": "18.50",
        "backtest_pnl": "10",
        "pnl_gap": "8.50",
        "by_cause": {"fill_price": 1, "timing": 1, "commission": 1, "missed_in_backtest": 1},
        "differences": [
            {
                "symbol": "AAPL",
                "side": "BUY",
                "causes": ["fill_price", "timing", "commission"],
                "explanation": data["differences"][0]["explanation"],
                "risk_codes": [],
                "live": {
                    "quantity": "10",
                    "entry_time": "2026-03-02T14:32:00+00:00",
                    "exit_time": "2026-03-02T14:34:00+00:00",
                    "entry_price": "100.05",
                    "exit_price": "101",
                    "pnl": "8.50",
                    "commission": "1",
                },
                "backtest": {
                    "quantity": "10",
                    "entry_time": "2026-03-02T14:31:00+00:00",
                    "exit_time": "2026-03-02T14:36:00+00:00",
                    "entry_price": "100",
                    "exit_price": "101",
                    "pnl": "10",
                    "commission": "0",
                },
                "entry_delay_seconds": 60.0,
                "exit_delay_seconds": -120.0,
                "entry_price_difference": "0.05",
                "exit_price_difference": "0",
                "entry_slippage_bps": "5.00",
                "exit_slippage_bps": "0",  # not "-0": no slippage has no sign
                "pnl_difference": "-1.50",
            },
            {
                "symbol": "MSFT",
                "side": "BUY",
                "causes": ["missed_in_backtest"],
                "explanation": "MSFT long trade entered live at 2026-03-02T14:50:00+00:00 has no backtest signal "
                "near it.",
                "risk_codes": [],
                "live": {
                    "quantity": "10",
                    "entry_time": "2026-03-02T14:50:00+00:00",
                    "exit_time": "2026-03-02T14:55:00+00:00",
                    "entry_price": "90",
                    "exit_price": "91",
                    "pnl": "10",
                    "commission": "0",
                },
                "backtest": None,
                "entry_delay_seconds": None,
                "exit_delay_seconds": None,
                "entry_price_difference": None,
                "exit_price_difference": None,
                "entry_slippage_bps": None,
                "exit_slippage_bps": None,
                "pnl_difference": "10",
            },
        ],
    }
