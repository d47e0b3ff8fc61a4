"""Risk metrics validated on history: the risk engine's 1-day VaR replayed day by day, and Kupiec's test.

VaR replay (``var_backtest``)
    For each day ``t`` of the run that starts with a position, the VaR is
    ``risk.core.assessment.historical_var`` (the risk engine's own: 1-day historical VaR,
    nearest rank, floored at 0) of the exposures held at the end of day ``t - 1``
    (``quantity * close`` per symbol) over the daily close-to-close returns of the
    ``lookback`` days up to ``t - 1``; days with fewer than ``min_history`` returns are
    not scored. The day's loss is compared with it two ways: *hypothetical*, the P&L
    of holding those exposures through day ``t`` (``sum(exposure * r_t)``, what the VaR
    forecasts: the Basel "clean" backtest), and *actual*, the change of equity over the
    day (trading, commissions and slippage included). A loss strictly greater than the
    VaR is an exception; at 95 % about 5 % of the scored days should be exceptions.

Kupiec's proportion-of-failures test (``kupiec_pof``)
    With ``n`` scored days, ``x`` exceptions, ``p = 1 - confidence`` and ``pi = x / n``:
    ``LR = -2 ln((1 - p)^(n - x) p^x) + 2 ln((1 - pi)^(n - x) pi^x)`` (``0 ln 0 = 0``),
    chi-squared with one degree of freedom under the hypothesis that the true exception
    rate is ``p``; ``p_value = P(chi2_1 > LR)`` (``scipy.stats.chi2.sf``). The VaR is
    rejected (its exception rate differs significantly from ``p``) when ``p_value <
    significance`` (0.05 by default).
"""

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from scipy.stats import chi2

from risk.core.assessment import historical_var
from strategies.core.backtest.engine import BacktestResult

_ZERO = Decimal(0)


@dataclass(frozen=True)
class KupiecResult:
    observations: int
    exceptions: int
    expected_rate: float
    rate: float | None
    lr: float | None
    p_value: float | None
    significance: float

    @property
    def rejected(self) -> bool:
        """True when the exception rate differs significantly from the expected one."""
        return self.p_value is not None and self.p_value < self.significance

    def as_dict(self) -> dict[str, Any]:
        return {
            "observations": self.observations,
            "exceptions": self.exceptions,
            "expected_rate": self.expected_rate,
            "rate": self.rate,
            "lr": self.lr,
            "p_value": self.p_value,
            "significance": self.significance,
            "rejected": self.rejected,
        }


def kupiec_pof(
    exceptions: int, observations: int, *, confidence: float = 0.95, significance: float = 0.05
) -> KupiecResult:
    """Kupiec's proportion-of-failures likelihood ratio and its p-value (see the module docstring)."""
    if not 0 <= exceptions <= observations:
        raise ValueError(f"Need 0 <= exceptions <= observations, got {exceptions} of {observations}.")
    if not 0 < confidence < 1:
        raise ValueError(f"The confidence must lie in (0, 1), got {confidence}.")
    p = float(1 - Decimal(str(confidence)))  # 0.05, not 0.050000000000000044
    if observations == 0:
        return KupiecResult(0, 0, p, None, None, None, significance)
    n, x = observations, exceptions
    pi = x / n
    # LR = 2 [(n - x) ln((1 - pi) / (1 - p)) + x ln(pi / p)]; a count of 0 drops its term (0 ln 0 = 0).
    terms = ((n - x, 1 - pi, 1 - p), (x, pi, p))
    lr = max(2 * sum(count * math.log(rate / expected) for count, rate, expected in terms if count), 0.0)
    return KupiecResult(n, x, p, pi, lr, float(chi2.sf(lr, 1)), significance)


@dataclass(frozen=True)
class VarDay:
    day: date
    var: Decimal
    hypothetical_pnl: Decimal
    actual_pnl: Decimal
    observations: int

    @property
    def hypothetical_exception(self) -> bool:
        return -self.hypothetical_pnl > self.var

    @property
    def actual_exception(self) -> bool:
        return -self.actual_pnl > self.var


@dataclass(frozen=True)
class VarValidation:
    confidence: Decimal
    lookback: int
    days: list[VarDay]
    hypothetical: KupiecResult
    actual: KupiecResult

    def as_dict(self) -> dict[str, Any]:
        return {
            "confidence": str(self.confidence),
            "lookback": self.lookback,
            "scored_days": len(self.days),
            "hypothetical": self.hypothetical.as_dict(),
            "actual": self.actual.as_dict(),
            "days": [
                {
                    "day": d.day.isoformat(),
                    "var": str(d.var),
                    "hypothetical_pnl": str(d.hypothetical_pnl),
                    "actual_pnl": str(d.actual_pnl),
                    "hypothetical_exception": d.hypothetical_exception,
                    "actual_exception": d.actual_exception,
                }
                for d in self.days
            ],
        }


def var_backtest_series(
    marks: Sequence[tuple[date, Mapping[str, Decimal]]],
    exposures: Sequence[tuple[date, Mapping[str, Decimal]]],
    equity: Mapping[date, Decimal],
    *,
    confidence: Decimal = Decimal("0.95"),
    lookback: int = 250,
    min_history: int = 20,
    significance: float = 0.05,
) -> VarValidation:
    """The VaR replay over daily closes, end-of-day exposures and equity (see the module docstring)."""
    if lookback < 2 or min_history < 2:
        raise ValueError("The VaR needs at least two days of returns (lookback and min_history >= 2).")
    exposure_of = dict(exposures)
    history: dict[str, deque[Decimal]] = {}
    days: list[VarDay] = []
    for (previous_day, previous_marks), (day, today) in pairwise(marks):
        returns_today = {
            s: (price - previous_marks[s]) / previous_marks[s]
            for s, price in today.items()
            if s in previous_marks and previous_marks[s] > 0
        }
        held = exposure_of.get(previous_day)
        if held and any(held.values()):
            returns = {s: list(history.get(s, ())) for s in held}
            var, observations = historical_var(held, returns, confidence=confidence)
            if var is not None and observations >= min_history:
                hypothetical = sum((value * returns_today.get(s, _ZERO) for s, value in held.items()), _ZERO)
                actual = equity[day] - equity[previous_day]
                days.append(VarDay(day, var, hypothetical, actual, observations))
        for symbol, value in returns_today.items():
            history.setdefault(symbol, deque(maxlen=lookback)).append(value)
    level = float(confidence)
    hypothetical_exceptions = sum(1 for d in days if d.hypothetical_exception)
    actual_exceptions = sum(1 for d in days if d.actual_exception)
    return VarValidation(
        confidence=confidence,
        lookback=lookback,
        days=days,
        hypothetical=kupiec_pof(hypothetical_exceptions, len(days), confidence=level, significance=significance),
        actual=kupiec_pof(actual_exceptions, len(days), confidence=level, significance=significance),
    )


def var_backtest(result: BacktestResult, **options: Any) -> VarValidation:
    """``var_backtest_series`` over a backtest's daily marks, exposures and equity."""
    return var_backtest_series(result.daily_marks, result.daily_exposure, result.equity_daily, **options)
