"""Strategy performance metrics (the Strategy Analyzer; the backtester shares it).

Inputs: a daily equity curve ``{date: equity}`` (end-of-day equity, ``Decimal``,
positive, free of deposits and withdrawals; dates are the trading days, in any
order, sorted here) and the closed trades (``closed_trades`` builds them from fills).

Conventions: ``periods_per_year`` = 252 trading days; ``risk_free_rate`` is an
annual rate, 0 unless configured, taken as ``rf = risk_free_rate / 252`` per day.
A ratio that is undefined (too few days, a zero denominator) is ``None``, never
infinite and never a division error.

Return-based figures come from empyrical-reloaded (``empyrical``), the
maintained fork of Quantopian's library, computed in float64 and handed back as
``Decimal`` through the float's shortest repr (they are statistics, not money):

- daily returns ``r_t = E_t / E_{t-1} - 1`` (exact, in ``Decimal``); ``n`` of them.
- ``total_return = E_last / E_first - 1`` (``Decimal``; 0 for a one-day curve).
- ``annualized_return = (1 + total_return) ** (252 / n) - 1`` (CAGR; ``empyrical.annual_return``).
- ``volatility = std(r, ddof=1) * sqrt(252)`` (``empyrical.annual_volatility``), n >= 2.
- ``sharpe = mean(r - rf) / std(r - rf, ddof=1) * sqrt(252)`` (``empyrical.sharpe_ratio``).
- ``sortino = mean(r - rf) * 252 / (sqrt(mean(min(r - rf, 0) ** 2)) * sqrt(252))``
  (``empyrical.sortino_ratio``; the minimum acceptable return is ``rf``).
- ``calmar = annualized_return / max_drawdown`` (``empyrical.calmar_ratio``).
- ``beta = cov(r, b) / var(b)`` (population moments) and ``alpha = (1 + mean((r - rf) -
  beta * (b - rf))) ** 252 - 1`` over the dates both the strategy and the benchmark
  have a return (``empyrical.alpha_beta_aligned``); needs 2 common dates and a
  benchmark that moves.

Exact ``Decimal`` figures (``CONTEXT``, 34 digits):

- drawdown ``d_t = (P_t - E_t) / P_t`` with ``P_t = max(E_s, s <= t)``, a fraction >= 0;
  ``max_drawdown = max(d_t)``. ``max_drawdown_duration_days`` = the longest stretch, in
  calendar days, from a peak to the first day equity is back at or above it (or
  to the last day, if it has not recovered).
- a trade is a win when its net P&L (after commissions) is > 0 and a loss when < 0;
  ``win_rate = wins / trades``; ``profit_factor = gross_profit / |gross_loss|``;
  ``average_win = gross_profit / wins``; ``average_loss = gross_loss / losses`` (negative);
  ``expectancy = total_pnl / trades`` (= win_rate * average_win + loss_rate * average_loss).
- ``exposure`` = the length of the union of the trades' ``[entry_time, exit_time]``
  intervals within the window, divided by the window's length; the window is
  midnight UTC of the first equity date to midnight UTC after the last, unless given.
- ``turnover = sum(quantity * (entry_price + exit_price)) / mean(equity)``: both legs'
  notional over the average equity of the period.

Closed trades from fills (``closed_trades``): per symbol, a trade opens when the
position leaves flat and closes when it is flat again; a fill that flips the
position closes one trade and opens the next at its price, its commission split
pro rata between them (the closing part rounded half-even to the commission's
own decimal places, the opening part the rest, so commissions add up exactly).
Every fill goes through ``trading.core.positions.apply_fill`` (average cost), and
a trade's P&L is the realized P&L that function books over it, so live positions
and backtests agree (over a flat-to-flat trade average cost and FIFO give the
same total anyway). ``entry_price`` and ``exit_price`` are the quantity-weighted
averages of the opening and closing fills; ``quantity`` is the quantity opened
(= closed).
"""

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import empyrical
import numpy as np

from strategies.core.indicators import CONTEXT
from trading.core.orders import Side
from trading.core.positions import PositionState, apply_fill, split_reducing

PERIODS_PER_YEAR = 252
_ZERO = Decimal(0)
_C = CONTEXT


@dataclass(frozen=True)
class TradeFill:
    """One execution of a strategy: ``at`` aware; ``model``/``confidence`` tag the signal behind it."""

    symbol: str
    at: datetime
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal = _ZERO
    model: str | None = None
    confidence: Decimal | None = None


@dataclass(frozen=True)
class ClosedTrade:
    """A flat-to-flat round trip; ``side`` BUY is a long trade, SELL a short one; ``pnl`` is net of commission."""

    symbol: str
    side: Side
    quantity: Decimal
    entry_time: datetime
    exit_time: datetime
    entry_price: Decimal
    exit_price: Decimal
    pnl: Decimal
    commission: Decimal = _ZERO
    model: str | None = None
    confidence: Decimal | None = None

    @property
    def gross_pnl(self) -> Decimal:
        return self.pnl + self.commission

    @property
    def return_fraction(self) -> Decimal:
        """Net P&L over the capital the entry cost: ``pnl / (quantity * entry_price)``."""
        return _C.divide(self.pnl, _C.multiply(self.quantity, self.entry_price))

    @property
    def is_win(self) -> bool:
        return self.pnl > 0

    @property
    def is_loss(self) -> bool:
        return self.pnl < 0


class _OpenTrade:
    __slots__ = (
        "commission",
        "confidence",
        "entry_notional",
        "entry_quantity",
        "entry_time",
        "exit_notional",
        "exit_quantity",
        "exit_time",
        "gross",
        "model",
        "side",
    )

    def __init__(self, fill: TradeFill) -> None:
        self.side = fill.side
        self.entry_time = self.exit_time = fill.at
        self.model, self.confidence = fill.model, fill.confidence
        self.entry_quantity = self.entry_notional = self.exit_quantity = self.exit_notional = _ZERO
        self.gross = self.commission = _ZERO

    def closed(self, symbol: str) -> ClosedTrade:
        return ClosedTrade(
            symbol=symbol,
            side=self.side,
            quantity=self.entry_quantity,
            entry_time=self.entry_time,
            exit_time=self.exit_time,
            entry_price=_C.divide(self.entry_notional, self.entry_quantity),
            exit_price=_C.divide(self.exit_notional, self.exit_quantity),
            pnl=self.gross - self.commission,
            commission=self.commission,
            model=self.model,
            confidence=self.confidence,
        )


def closed_trades(fills: Iterable[TradeFill]) -> list[ClosedTrade]:
    """The closed round trips in ``fills`` (any symbols), ordered by exit time then symbol.

    Fills are taken per symbol in time order (stable for equal times). A trade still
    open at the end is not returned.
    """
    by_symbol: dict[str, list[TradeFill]] = {}
    for fill in fills:
        if fill.at.tzinfo is None or fill.at.utcoffset() is None:
            raise ValueError(f"A fill time must carry a time zone, got {fill.at!r}.")
        by_symbol.setdefault(fill.symbol, []).append(fill)
    trades: list[ClosedTrade] = []
    for symbol, symbol_fills in by_symbol.items():
        trades.extend(_symbol_trades(symbol, sorted(symbol_fills, key=lambda f: f.at)))
    trades.sort(key=lambda t: (t.exit_time, t.symbol))
    return trades


def _symbol_trades(symbol: str, fills: list[TradeFill]) -> list[ClosedTrade]:
    state = PositionState()
    current: _OpenTrade | None = None
    out: list[ClosedTrade] = []
    for fill in fills:
        reducing, opening = split_reducing(state.quantity, fill.side, fill.quantity)
        after = apply_fill(state, side=fill.side, quantity=fill.quantity, price=fill.price, commission=fill.commission)
        if reducing > 0 and opening > 0:
            # Pro rata on the commission's own grid (cents stay cents), so the two parts add up exactly.
            share = _C.divide(_C.multiply(fill.commission, reducing), fill.quantity)
            closing_commission = share.quantize(Decimal(1).scaleb(min(fill.commission.as_tuple().exponent, 0)))
        else:
            closing_commission = fill.commission if reducing > 0 else _ZERO
        if reducing > 0:
            assert current is not None
            current.exit_quantity += reducing
            current.exit_notional += _C.multiply(reducing, fill.price)
            # apply_fill charged the whole commission to realized P&L; add it back to get this fill's gross.
            current.gross += after.realized_pnl + fill.commission - state.realized_pnl
            current.commission += closing_commission
            current.exit_time = fill.at
            if after.quantity == 0 or opening > 0:
                out.append(current.closed(symbol))
                current = None
        if opening > 0:
            if current is None:
                current = _OpenTrade(fill)
            current.entry_quantity += opening
            current.entry_notional += _C.multiply(opening, fill.price)
            current.commission += fill.commission - closing_commission
        state = after
    return out


def _sorted_curve(equity: Mapping[date, Decimal]) -> list[tuple[date, Decimal]]:
    curve = sorted(equity.items())
    for day, value in curve:
        if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
            raise ValueError(f"Equity must be a positive Decimal, got {value!r} on {day}.")
    return curve


def daily_returns(equity: Mapping[date, Decimal]) -> list[tuple[date, Decimal]]:
    """``(date_t, E_t / E_{t-1} - 1)`` for each equity date after the first."""
    curve = _sorted_curve(equity)
    return [
        (day, _C.subtract(_C.divide(value, previous), 1)) for (_, previous), (day, value) in itertools.pairwise(curve)
    ]


@dataclass(frozen=True)
class DrawdownPoint:
    day: date
    equity: Decimal
    peak: Decimal
    drawdown: Decimal  # (peak - equity) / peak, >= 0


def drawdown_series(equity: Mapping[date, Decimal]) -> list[DrawdownPoint]:
    """Each day's running peak and drawdown below it (the dashboard's underwater chart)."""
    out = []
    peak = _ZERO
    for day, value in _sorted_curve(equity):
        peak = max(peak, value)
        out.append(DrawdownPoint(day, value, peak, _C.divide(peak - value, peak)))
    return out


def _max_drawdown_duration(points: Sequence[DrawdownPoint]) -> int:
    longest, peak_day = 0, points[0].day  # the first day is a peak
    for previous, point in itertools.pairwise(points):
        if point.drawdown == 0:
            if previous.drawdown > 0:  # back at the peak: the stretch ends today
                longest = max(longest, (point.day - peak_day).days)
            peak_day = point.day
    if points[-1].drawdown > 0:  # not recovered: the stretch runs to the last day
        longest = max(longest, (points[-1].day - peak_day).days)
    return longest


def _decimal(value: Any) -> Decimal | None:
    number = float(value)
    return Decimal(repr(number)) if math.isfinite(number) else None


def _daily_risk_free(risk_free_rate: Decimal, periods_per_year: int) -> float:
    return float(risk_free_rate) / periods_per_year


def sharpe_ratio(
    returns: Sequence[Decimal], *, risk_free_rate: Decimal = _ZERO, periods_per_year: int = PERIODS_PER_YEAR
) -> Decimal | None:
    """Annualized Sharpe ratio of periodic returns, ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods)``.

    None with fewer than 2 returns or no dispersion.
    """
    if len(returns) < 2:
        return None
    array = np.array([float(r) for r in returns])
    rf = _daily_risk_free(risk_free_rate, periods_per_year)
    return _decimal(empyrical.sharpe_ratio(array, risk_free=rf, annualization=periods_per_year))


def current_drawdown(equity: Mapping[date, Decimal]) -> Decimal:
    """The last day's drawdown below the curve's peak (0 for an empty curve)."""
    points = drawdown_series(equity)
    return points[-1].drawdown if points else _ZERO


def _exposure(trades: Sequence[ClosedTrade], start: datetime, end: datetime) -> Decimal:
    # The union's length: sweep the intervals by start, counting only what lies past the part already counted.
    intervals = sorted((max(t.entry_time, start), min(t.exit_time, end)) for t in trades if t.entry_time < end)
    covered, counted_to = timedelta(0), start
    for begin, finish in intervals:
        if finish > counted_to:
            covered += finish - max(begin, counted_to)
            counted_to = finish
    return _C.divide(_micro(covered), _micro(end - start))


def _micro(delta: timedelta) -> Decimal:
    return Decimal((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


@dataclass(frozen=True)
class PerformanceMetrics:
    start: date
    end: date
    days: int
    starting_equity: Decimal
    ending_equity: Decimal
    total_return: Decimal
    annualized_return: Decimal | None
    volatility: Decimal | None
    sharpe: Decimal | None
    sortino: Decimal | None
    calmar: Decimal | None
    max_drawdown: Decimal
    max_drawdown_duration_days: int
    trades: int
    wins: int
    losses: int
    win_rate: Decimal | None
    profit_factor: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    expectancy: Decimal | None
    total_pnl: Decimal
    gross_profit: Decimal
    gross_loss: Decimal
    commissions: Decimal
    exposure: Decimal
    turnover: Decimal
    alpha: Decimal | None
    beta: Decimal | None
    risk_free_rate: Decimal
    periods_per_year: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: decimals as strings, dates as ISO strings, None kept."""

        def text(value: Any) -> Any:
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, date):
                return value.isoformat()
            return value

        return {f.name: text(getattr(self, f.name)) for f in fields(self)}


def performance(
    equity: Mapping[date, Decimal],
    trades: Sequence[ClosedTrade] = (),
    *,
    benchmark_returns: Mapping[date, Decimal] | None = None,
    risk_free_rate: Decimal = _ZERO,
    periods_per_year: int = PERIODS_PER_YEAR,
    window: tuple[datetime, datetime] | None = None,
) -> PerformanceMetrics:
    """Every figure of the module docstring from the daily equity curve and the closed trades.

    ``benchmark_returns`` are the benchmark's daily returns by date (alpha and beta are
    None without them); ``window`` overrides the exposure window (aware datetimes).
    """
    curve = _sorted_curve(equity)
    if not curve:
        raise ValueError("Performance needs an equity curve of at least one day.")
    if periods_per_year <= 0:
        raise ValueError(f"The periods per year must be positive, got {periods_per_year}.")
    returns = daily_returns(equity)
    array = np.array([float(r) for _, r in returns])
    rf = _daily_risk_free(risk_free_rate, periods_per_year)
    n = len(returns)
    points = drawdown_series(equity)
    max_drawdown = max(p.drawdown for p in points)

    annualized = volatility = sharpe = sortino = calmar = None
    if n >= 1:
        annualized = _decimal(empyrical.annual_return(array, annualization=periods_per_year))
        # Undefined (None) without a drawdown: empyrical gives NaN rather than divide by zero.
        calmar = _decimal(empyrical.calmar_ratio(array, annualization=periods_per_year))
    if n >= 2:
        volatility = _decimal(empyrical.annual_volatility(array, annualization=periods_per_year))
        sharpe = _decimal(empyrical.sharpe_ratio(array, risk_free=rf, annualization=periods_per_year))
        sortino = _decimal(empyrical.sortino_ratio(array, required_return=rf, annualization=periods_per_year))

    alpha = beta = None
    if benchmark_returns is not None:
        common = [(r, benchmark_returns[day]) for day, r in returns if day in benchmark_returns]
        if len(common) >= 2:
            ours = np.array([float(r) for r, _ in common])
            theirs = np.array([float(b) for _, b in common])
            # A benchmark that never moves gives NaN (None), without a warning.
            pair = empyrical.alpha_beta_aligned(ours, theirs, risk_free=rf, annualization=periods_per_year)
            alpha, beta = _decimal(pair[0]), _decimal(pair[1])

    pnls = [t.pnl for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_profit, gross_loss, total_pnl = sum(wins, _ZERO), sum(losses, _ZERO), sum(pnls, _ZERO)
    count = len(pnls)

    if window is None:
        window = (
            datetime.combine(curve[0][0], time(0), tzinfo=UTC),
            datetime.combine(curve[-1][0] + timedelta(days=1), time(0), tzinfo=UTC),
        )
    if window[1] <= window[0]:
        raise ValueError("The exposure window must end after it starts.")
    mean_equity = _C.divide(sum((v for _, v in curve), _ZERO), len(curve))
    notional = sum((_C.multiply(t.quantity, t.entry_price + t.exit_price) for t in trades), _ZERO)

    return PerformanceMetrics(
        start=curve[0][0],
        end=curve[-1][0],
        days=len(curve),
        starting_equity=curve[0][1],
        ending_equity=curve[-1][1],
        total_return=_C.subtract(_C.divide(curve[-1][1], curve[0][1]), 1),
        annualized_return=annualized,
        volatility=volatility,
        sharpe=sharpe,
        sortino=sortino,
        calmar=calmar,
        max_drawdown=max_drawdown,
        max_drawdown_duration_days=_max_drawdown_duration(points),
        trades=count,
        wins=len(wins),
        losses=len(losses),
        win_rate=_C.divide(len(wins), count) if count else None,
        profit_factor=_C.divide(gross_profit, -gross_loss) if gross_loss < 0 else None,
        average_win=_C.divide(gross_profit, len(wins)) if wins else None,
        average_loss=_C.divide(gross_loss, len(losses)) if losses else None,
        expectancy=_C.divide(total_pnl, count) if count else None,
        total_pnl=total_pnl,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        commissions=sum((t.commission for t in trades), _ZERO),
        exposure=_exposure(trades, *window),
        turnover=_C.divide(notional, mean_equity),
        alpha=alpha,
        beta=beta,
        risk_free_rate=risk_free_rate,
        periods_per_year=periods_per_year,
    )
