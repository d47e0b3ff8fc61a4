"""The metrics' rules at their limits: how many days each ratio needs, another number of periods per year,
the exposure union to the microsecond, drawdown stretches, and the refusals' messages."""

import re
import warnings
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal

import numpy as np
import pytest

from strategies.core.indicators import CONTEXT
from strategies.core.metrics import ClosedTrade, TradeFill, closed_trades, daily_returns, performance, sharpe_ratio
from trading.core.orders import Side

D = Decimal
DAY0 = date(2026, 1, 5)
MIDNIGHT = datetime(2026, 1, 5, tzinfo=UTC)


def curve(*values: int | str) -> dict[date, Decimal]:
    return {DAY0 + timedelta(days=i): D(v) for i, v in enumerate(values)}


def held(entry: datetime, exit_: datetime, pnl: str = "0") -> ClosedTrade:
    return ClosedTrade("X", Side.BUY, D(1), entry, exit_, D(1), D(1), D(pnl))


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def close(a, b) -> None:
    assert a is not None and abs(float(a) - b) <= 1e-9, (a, b)


def test_a_two_day_curve_has_a_return_and_calmar_but_no_dispersion() -> None:
    m = performance(curve(100, 90))
    close(m.annualized_return, 0.9**252 - 1)
    close(m.calmar, (0.9**252 - 1) / 0.1)
    assert (m.volatility, m.sharpe, m.sortino) == (None, None, None)


def test_a_three_day_curve_has_volatility_sharpe_and_sortino() -> None:
    m = performance(curve(100, 110, 99))
    returns = np.array([0.1, -0.1])
    close(m.volatility, returns.std(ddof=1) * np.sqrt(252))
    assert m.sharpe == 0
    close(m.sortino, 0.0)


def test_another_number_of_periods_per_year_reaches_every_ratio() -> None:
    values = [100, 104, 101, 107, 103]
    equity = curve(*values)
    bench = [0.01, 0.02, -0.01, 0.03]
    benchmark = {day: D(str(b)) for day, b in zip(sorted(equity)[1:], bench, strict=True)}
    m = performance(equity, periods_per_year=12, risk_free_rate=D("0.06"), benchmark_returns=benchmark)
    returns = np.diff(values) / np.array(values[:-1])
    excess = returns - 0.06 / 12
    close(m.annualized_return, (103 / 100) ** (12 / 4) - 1)
    close(m.volatility, returns.std(ddof=1) * np.sqrt(12))
    close(m.sharpe, excess.mean() / excess.std(ddof=1) * np.sqrt(12))
    close(m.sortino, excess.mean() * 12 / (np.sqrt((np.minimum(excess, 0) ** 2).mean()) * np.sqrt(12)))
    close(m.calmar, ((103 / 100) ** 3 - 1) / (4 / 107))
    theirs = np.array(bench) - 0.06 / 12
    beta = np.cov(excess, theirs, bias=True)[0, 1] / np.var(theirs)
    close(m.beta, beta)
    close(m.alpha, (1 + (excess - beta * theirs).mean()) ** 12 - 1)
    assert m.periods_per_year == 12
    close(sharpe_ratio([D(str(r)) for r in returns], periods_per_year=12, risk_free_rate=D("0.06")), float(m.sharpe))


def test_sharpe_needs_two_returns() -> None:
    close(sharpe_ratio([D("0.01"), D("0.03")]), 0.02 / np.std([0.01, 0.03], ddof=1) * np.sqrt(252))


def test_alpha_and_beta_need_two_common_dates() -> None:
    equity = curve(100, 101, 99, 102)
    days = sorted(equity)
    m = performance(equity, benchmark_returns={days[1]: D("0.02"), days[3]: D("0.01")})
    ours, theirs = np.array([0.01, 102 / 99 - 1]), np.array([0.02, 0.01])
    beta = np.cov(ours, theirs, bias=True)[0, 1] / np.var(theirs)
    close(m.beta, beta)
    close(m.alpha, (1 + (ours - beta * theirs).mean()) ** 252 - 1)
    alone = performance(equity, benchmark_returns={days[1]: D("0.02"), DAY0 - timedelta(days=1): D("0.01")})
    assert (alone.alpha, alone.beta) == (None, None)


def test_a_benchmark_that_never_moves_gives_no_alpha_and_no_warning() -> None:
    equity = curve(100, 101, 99, 102)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = performance(equity, benchmark_returns={day: D(0) for day in equity})
    assert (m.alpha, m.beta) == (None, None)


def test_any_positive_pnl_is_a_win_and_empty_sums_are_decimal_zeros() -> None:
    m = performance(curve(100, 101), [held(MIDNIGHT, MIDNIGHT, "0.5")])
    assert (m.wins, m.gross_profit, m.average_win) == (1, D("0.5"), D("0.5"))
    assert all(type(v) is Decimal and v == 0 for v in (m.gross_loss, m.commissions))
    empty = performance(curve(100, 101))
    zeros = (empty.gross_profit, empty.gross_loss, empty.total_pnl, empty.commissions)
    assert all(type(v) is Decimal and v == 0 for v in zeros)


def test_refusals_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=exactly("Performance needs an equity curve of at least one day.")):
        performance({})
    with pytest.raises(ValueError, match=exactly("The periods per year must be positive, got 0.")):
        performance(curve(100, 101), periods_per_year=0)
    close(performance(curve(100, 101), periods_per_year=1).annualized_return, 0.01)
    with pytest.raises(ValueError, match=exactly("The exposure window must end after it starts.")):
        performance(curve(100), window=(MIDNIGHT, MIDNIGHT))
    tiny = performance(curve(100), [held(MIDNIGHT, MIDNIGHT + timedelta(microseconds=1))])
    assert tiny.exposure == CONTEXT.divide(1, 86_400_000_000)


def test_exposure_is_the_union_of_the_holding_intervals_in_the_window() -> None:
    hour = timedelta(hours=1)
    start = MIDNIGHT + 10 * hour
    trades = [
        held(start - 3 * hour, start - hour),  # before the window
        held(start - hour, start + hour),  # straddles the start: 1 h
        held(start + 30 * hour / 60, start + 2 * hour),  # overlaps it: +1 h
        held(start + 3 * hour, start + 4 * hour),  # apart: +1 h
        held(start + 3 * hour + hour / 4, start + 3 * hour + hour / 2),  # inside the last: +0
        held(start + 9 * hour, start + 11 * hour),  # straddles the end: 1 h
        held(start + 12 * hour, start + 13 * hour),  # after the window
    ]
    m = performance(curve(100), trades, window=(start, start + 10 * hour))
    assert m.exposure == D("0.4")


def test_exposure_counts_days_seconds_and_microseconds() -> None:
    held_for = timedelta(days=1, seconds=3, microseconds=7)
    m = performance(curve(100, 101), [held(MIDNIGHT, MIDNIGHT + held_for)])
    assert m.exposure == CONTEXT.divide(86_403_000_007, 172_800_000_000)


def test_the_default_window_is_midnight_to_midnight_after_the_last_day() -> None:
    m = performance(curve(100, 101), [held(MIDNIGHT, MIDNIGHT + timedelta(hours=1))])
    assert m.exposure == CONTEXT.divide(1, 48)


def test_drawdown_duration_rules() -> None:
    # Rising with gaps between the dates: never underwater.
    assert performance({DAY0: D(100), DAY0 + timedelta(days=3): D(101)}).max_drawdown_duration_days == 0
    # Back exactly at the peak ends the stretch; a later, shorter one does not replace it.
    assert performance(curve(100, 90, 100, 95, 101)).max_drawdown_duration_days == 2
    # Still under at the end: the stretch runs to the last day.
    assert performance(curve(100, 101, 90, 95)).max_drawdown_duration_days == 2
    assert performance(curve(100, 99, 98, 101, 100)).max_drawdown_duration_days == 3


# Closed trades from fills, and the curve's refusals.


def fill(symbol: str, minute: int, side: Side, qty: int, price: str, commission: str = "0") -> TradeFill:
    return TradeFill(symbol, MIDNIGHT + timedelta(minutes=minute), side, D(qty), D(price), D(commission))


@pytest.mark.parametrize(
    ("commission", "closing", "opening"),
    [
        ("0.10", "0.03", "0.07"),  # a third of 0.10, on the cent
        ("0.05", "0.02", "0.03"),  # half of 0.05 is 0.025: half-even to 0.02
        ("1E+1", "3", "7"),  # a commission of 10 written with a positive exponent splits in units
    ],
)
def test_a_flip_splits_its_commission_on_the_commission_grid(commission: str, closing: str, opening: str) -> None:
    quantity = 200 if commission == "0.05" else 300
    fills = [fill("X", 0, Side.BUY, 100, "10"), fill("X", 1, Side.SELL, quantity, "11", commission)]
    fills.append(fill("X", 2, Side.BUY, quantity - 100, "11"))
    first, second = closed_trades(fills)
    assert (str(first.commission), str(second.commission)) == (closing, opening)


def test_trades_closing_together_are_ordered_by_symbol_and_equal_times_keep_their_order() -> None:
    fills = [
        fill("MSFT", 0, Side.BUY, 1, "10"),
        fill("AAPL", 0, Side.BUY, 1, "10"),
        fill("MSFT", 1, Side.SELL, 1, "12"),
        fill("AAPL", 1, Side.SELL, 1, "11"),
        fill("AAPL", 2, Side.SELL, 1, "11"),
        fill("AAPL", 2, Side.BUY, 1, "10"),
    ]
    trades = closed_trades(fills)
    assert [(t.symbol, t.side, t.pnl) for t in trades] == [
        ("AAPL", Side.BUY, D(1)),
        ("MSFT", Side.BUY, D(2)),
        ("AAPL", Side.SELL, D(1)),
    ]
    assert trades[-1].is_win and not trades[-1].is_loss
    loss = ClosedTrade("X", Side.BUY, D(2), MIDNIGHT, MIDNIGHT, D(10), D(9), D(-3), D(1))
    assert loss.is_loss and not loss.is_win and loss.gross_pnl == D(-2) and loss.return_fraction == D("-0.15")


def test_a_naive_fill_time_is_refused_by_name() -> None:
    naive = datetime(2026, 1, 5, 10)
    with pytest.raises(ValueError, match=exactly(f"A fill time must carry a time zone, got {naive!r}.")):
        closed_trades([TradeFill("X", naive, Side.BUY, D(1), D(1))])


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "0", "-1"])
def test_equity_must_be_a_positive_finite_decimal(bad: str) -> None:
    with pytest.raises(ValueError, match=exactly(f"Equity must be a positive Decimal, got {D(bad)!r} on 2026-01-06.")):
        performance({DAY0: D(100), DAY0 + timedelta(days=1): D(bad)})
    with pytest.raises(ValueError, match=exactly("Equity must be a positive Decimal, got 100 on 2026-01-05.")):
        daily_returns({DAY0: 100})  # type: ignore[dict-item]


def test_a_flip_of_one_unit_each_way_still_splits_the_commission() -> None:
    fills = [fill("X", 0, Side.BUY, 1, "10"), fill("X", 1, Side.SELL, 2, "11", "0.10"), fill("X", 2, Side.BUY, 1, "9")]
    first, second = closed_trades(fills)
    assert (first.side, first.quantity, first.commission) == (Side.BUY, D(1), D("0.05"))
    assert (second.side, second.quantity, second.commission, second.entry_time) == (
        Side.SELL,
        D(1),
        D("0.05"),
        MIDNIGHT + timedelta(minutes=1),
    )


def test_a_second_round_trip_starts_at_its_own_entry() -> None:
    fills = [fill("X", m, side, 1, "10") for m, side in enumerate([Side.BUY, Side.SELL, Side.BUY, Side.SELL])]
    _, second = closed_trades(fills)
    assert (second.entry_time, second.exit_time) == (MIDNIGHT + timedelta(minutes=2), MIDNIGHT + timedelta(minutes=3))


def test_a_time_zone_without_an_offset_is_refused() -> None:
    class NoOffset(tzinfo):
        def utcoffset(self, dt: datetime | None) -> None:
            return None

    at = datetime(2026, 1, 5, 10, tzinfo=NoOffset())
    with pytest.raises(ValueError, match="must carry a time zone"):
        closed_trades([TradeFill("X", at, Side.BUY, D(1), D(1))])


def test_a_small_positive_equity_is_accepted_and_the_inputs_are_reported() -> None:
    m = performance(curve("0.5", "0.75"), risk_free_rate=D("0.03"))
    assert (m.starting_equity, m.ending_equity, m.total_return, m.risk_free_rate) == (
        D("0.5"),
        D("0.75"),
        D("0.5"),
        D("0.03"),
    )
