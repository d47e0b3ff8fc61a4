"""Portfolio risk assessment: exposures, concentration, historical VaR, drawdown, limit utilization.

Definitions:
- exposure of a symbol = ``quantity * price`` (signed); gross = sum of ``abs``; net = sum.
- sector exposure = gross exposure of the sector's symbols.
- concentration: ``largest_weight`` = largest ``abs(exposure) / gross``; ``hhi`` =
  sum of squared weights (1 = one position, 1/n = n equal positions).
- 1-day 95 % historical VaR: for each past day ``t`` the portfolio P&L
  ``sum(exposure_s * r_s,t)`` with ``r`` the symbol's daily close-to-close return;
  VaR is the loss at the 5th percentile (nearest rank, ``ceil(0.05 * n)``-th worst),
  floored at 0. Symbols without history count as no move; ``observations`` says
  how many days the figure rests on (``None`` VaR when fewer than 2).
- utilization = actual / limit for every limit, as a percentage (0 when the limit is off).
"""

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

_ZERO = Decimal(0)
_PERCENT_STEP = Decimal("0.01")


@dataclass(frozen=True)
class AssessedPosition:
    symbol: str
    sector: str
    quantity: Decimal
    price: Decimal


@dataclass(frozen=True)
class LimitUse:
    name: str
    limit: Decimal | None
    actual: Decimal

    @property
    def utilization_pct(self) -> Decimal | None:
        if self.limit is None:
            return None
        if self.limit <= 0:
            return Decimal(100) if self.actual > 0 else _ZERO
        return (self.actual / self.limit * 100).quantize(_PERCENT_STEP, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RiskAssessment:
    at: datetime
    equity: Decimal
    gross_exposure: Decimal
    net_exposure: Decimal
    exposure_by_symbol: dict[str, Decimal]
    exposure_by_sector: dict[str, Decimal]
    largest_weight: Decimal
    hhi: Decimal
    var_95_1d: Decimal | None
    var_observations: int
    drawdown: Decimal
    high_water_mark: Decimal
    daily_pnl: Decimal
    daily_loss_limit: Decimal | None
    limits: tuple[LimitUse, ...] = field(default_factory=tuple)
    trading_state: str = "ACTIVE"

    def as_dict(self) -> dict[str, Any]:
        def money(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "at": self.at.isoformat(),
            "equity": money(self.equity),
            "gross_exposure": money(self.gross_exposure),
            "net_exposure": money(self.net_exposure),
            "exposure_by_symbol": {k: str(v) for k, v in self.exposure_by_symbol.items()},
            "exposure_by_sector": {k: str(v) for k, v in self.exposure_by_sector.items()},
            "concentration": {"largest_weight": str(self.largest_weight), "hhi": str(self.hhi)},
            "var_95_1d": money(self.var_95_1d),
            "var_observations": self.var_observations,
            "drawdown": money(self.drawdown),
            "high_water_mark": money(self.high_water_mark),
            "daily_pnl": money(self.daily_pnl),
            "daily_loss_limit": money(self.daily_loss_limit),
            "trading_state": self.trading_state,
            "utilization": {
                use.name: {
                    "limit": money(use.limit),
                    "actual": str(use.actual),
                    "pct": money(use.utilization_pct),
                }
                for use in self.limits
            },
        }


def daily_returns(closes: Sequence[Decimal]) -> list[Decimal]:
    return [(b - a) / a for a, b in itertools.pairwise(closes) if a > 0]


def historical_var(
    exposures: Mapping[str, Decimal], returns: Mapping[str, Sequence[Decimal]], *, confidence: Decimal = Decimal("0.95")
) -> tuple[Decimal | None, int]:
    """1-day historical VaR over the days every priced symbol shares (aligned on the most recent)."""
    series = {s: returns[s] for s in exposures if returns.get(s)}
    if not series:
        return None, 0
    days = min(len(r) for r in series.values())
    if days < 2:
        return None, days
    pnl = []
    for t in range(days):
        pnl.append(sum(exposures[s] * r[len(r) - days + t] for s, r in series.items()))
    pnl.sort()
    rank = max(math.ceil((1 - confidence) * days), 1)
    return max(-pnl[rank - 1], _ZERO), days


def assess(
    *,
    positions: Sequence[AssessedPosition],
    cash: Decimal,
    returns: Mapping[str, Sequence[Decimal]],
    day_start_equity: Decimal,
    high_water_mark: Decimal,
    limits: Mapping[str, Decimal | None],
    at: datetime,
    trading_state: str = "ACTIVE",
) -> RiskAssessment:
    """``limits``: fractions of equity for position / gross / net / sector, and daily loss / drawdown fractions."""
    by_symbol: dict[str, Decimal] = {}
    by_sector: dict[str, Decimal] = {}
    for p in positions:
        value = p.quantity * p.price
        by_symbol[p.symbol] = by_symbol.get(p.symbol, _ZERO) + value
    sectors = {p.symbol: p.sector for p in positions}
    for symbol, value in by_symbol.items():
        by_sector[sectors[symbol]] = by_sector.get(sectors[symbol], _ZERO) + abs(value)
    gross = sum((abs(v) for v in by_symbol.values()), _ZERO)
    net = sum(by_symbol.values(), _ZERO)
    equity = cash + net
    weights = [abs(v) / gross for v in by_symbol.values()] if gross > 0 else []
    largest = max(weights, default=_ZERO)
    hhi = sum((w * w for w in weights), _ZERO)
    var, observations = historical_var(by_symbol, returns)
    high_water = max(high_water_mark, equity)
    drawdown = high_water - equity
    daily_pnl = equity - day_start_equity

    def of_equity(name: str) -> Decimal | None:
        fraction = limits.get(name)
        return None if fraction is None else fraction * equity

    uses = [
        LimitUse(
            "max_position_size",
            of_equity("max_position_size"),
            max((abs(v) for v in by_symbol.values()), default=_ZERO),
        ),
        LimitUse("max_portfolio_exposure", of_equity("max_portfolio_exposure"), gross),
        LimitUse("max_net_exposure", of_equity("max_net_exposure"), abs(net)),
        LimitUse("max_sector_exposure", of_equity("max_sector_exposure"), max(by_sector.values(), default=_ZERO)),
        LimitUse(
            "daily_loss_limit",
            None if limits.get("daily_loss_limit") is None else limits["daily_loss_limit"] * day_start_equity,
            max(-daily_pnl, _ZERO),
        ),
        LimitUse(
            "max_drawdown",
            None if limits.get("max_drawdown") is None else limits["max_drawdown"] * high_water,
            drawdown,
        ),
    ]
    return RiskAssessment(
        at=at,
        equity=equity,
        gross_exposure=gross,
        net_exposure=net,
        exposure_by_symbol=by_symbol,
        exposure_by_sector=by_sector,
        largest_weight=largest,
        hhi=hhi,
        var_95_1d=var,
        var_observations=observations,
        drawdown=drawdown,
        high_water_mark=high_water,
        daily_pnl=daily_pnl,
        daily_loss_limit=uses[4].limit,
        limits=tuple(uses),
        trading_state=trading_state,
    )
