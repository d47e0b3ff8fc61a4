"""Auto-pause rules: pure checks over a strategy's equity, trades and returns.

Each rule returns ``None`` or a ``Breach`` (``rule`` code, ``limit``, ``actual``
and a sentence). The monitor service runs ``evaluate`` after each day's close
and on equity updates, and moves a RUNNING (or PAUSED) strategy to AUTO_PAUSED
(``strategies.core.lifecycle``) on any breach; a person re-approves with a
one-time password. A rule left ``None`` in the config is off.

Rules (fractions: 0.10 = 10 %)
    ``auto_pause_drawdown``: ``drawdown = (peak - equity) / peak`` where ``peak`` is the
        highest of the daily curve and the current equity; breached when
        ``drawdown >= max_drawdown`` (as the risk engine's ``max_drawdown_exceeded``).
    ``auto_pause_consecutive_losses``: the number of most recent closed trades (by exit
        time) in a row with net P&L < 0 (a break-even trade ends the run); breached when
        ``streak >= max_consecutive_losses``.
    ``auto_pause_sharpe_below_benchmark``: over the last ``sharpe_window_days`` dates on
        which both the strategy and the benchmark have a daily return, the strategy's
        annualized Sharpe (``metrics.sharpe_ratio``) against the benchmark's; breached
        when ``strategy_sharpe < benchmark_sharpe - sharpe_margin`` (strictly below).
        Not evaluated with fewer common dates or an undefined Sharpe on either side.
    ``auto_pause_daily_loss``: ``loss = (day_start_equity - equity) / day_start_equity``;
        breached when ``loss >= daily_loss_limit``.

Defaults: drawdown 10 %, 5 consecutive losses, Sharpe window 20 days with margin 0,
daily loss 3 %, risk-free rate 0.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from strategies.core.indicators import CONTEXT
from strategies.core.metrics import ClosedTrade, daily_returns, sharpe_ratio
from strategies.core.params import DECIMAL, INT, NON_FIELD_ERRORS, ParamSpec, specs_validate

DRAWDOWN = "auto_pause_drawdown"
CONSECUTIVE_LOSSES = "auto_pause_consecutive_losses"
SHARPE_BELOW_BENCHMARK = "auto_pause_sharpe_below_benchmark"
DAILY_LOSS = "auto_pause_daily_loss"
RULES = (DRAWDOWN, CONSECUTIVE_LOSSES, SHARPE_BELOW_BENCHMARK, DAILY_LOSS)
_ZERO = Decimal(0)
_C = CONTEXT


@dataclass(frozen=True)
class Breach:
    rule: str
    limit: Decimal
    actual: Decimal
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "limit": str(self.limit), "actual": str(self.actual), "message": self.message}


@dataclass(frozen=True)
class AutoPauseConfig:
    max_drawdown: Decimal | None = Decimal("0.10")
    max_consecutive_losses: int | None = 5
    sharpe_window_days: int | None = 20
    sharpe_margin: Decimal = Decimal(0)
    daily_loss_limit: Decimal | None = Decimal("0.03")
    risk_free_rate: Decimal = Decimal(0)


_ONE, _HUNDRED = Decimal(1), Decimal(100)
CONFIG_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "max_drawdown",
        DECIMAL,
        AutoPauseConfig.max_drawdown,
        "Pause when equity falls this fraction below its peak (0.10 = 10 %); empty for off.",
        _ZERO,
        _ONE,
        minimum_exclusive=True,
        nullable=True,
    ),
    ParamSpec(
        "max_consecutive_losses",
        INT,
        AutoPauseConfig.max_consecutive_losses,
        "Pause after this many losing trades in a row; empty for off.",
        _ONE,
        Decimal(1000),
        nullable=True,
    ),
    ParamSpec(
        "sharpe_window_days",
        INT,
        AutoPauseConfig.sharpe_window_days,
        "Days over which the strategy's Sharpe ratio is compared with the benchmark's; empty for off.",
        Decimal(2),
        Decimal(10_000),
        nullable=True,
    ),
    ParamSpec(
        "sharpe_margin",
        DECIMAL,
        AutoPauseConfig.sharpe_margin,
        "How far below the benchmark's Sharpe ratio the strategy's may fall before a pause.",
        _ZERO,
        Decimal(10),
    ),
    ParamSpec(
        "daily_loss_limit",
        DECIMAL,
        AutoPauseConfig.daily_loss_limit,
        "Pause when the day's loss reaches this fraction of the day's starting equity; empty for off.",
        _ZERO,
        _ONE,
        minimum_exclusive=True,
        nullable=True,
    ),
    ParamSpec(
        "risk_free_rate",
        DECIMAL,
        AutoPauseConfig.risk_free_rate,
        "Annual risk-free rate for the Sharpe ratios.",
        _ZERO,
        _ONE,
        maximum_exclusive=True,
    ),
)


def config_validate(raw: Mapping[str, Any] | None) -> tuple[AutoPauseConfig | None, dict[str, list[str]]]:
    """(config with defaults filled, {}) or (None, field errors), like ``params.params_validate``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return None, {NON_FIELD_ERRORS: ["Send the auto-pause rules as an object."]}
    values, errors = specs_validate(CONFIG_SPECS, raw, owner="the auto-pause rules")
    if errors:
        return None, errors
    return AutoPauseConfig(**values), {}  # type: ignore[arg-type]


def _percent(fraction: Decimal) -> str:
    return f"{fraction * _HUNDRED:.2f} %"


def drawdown_breach(*, peak: Decimal, equity: Decimal, limit: Decimal) -> Breach | None:
    """``(peak - equity) / peak >= limit``."""
    if peak <= 0:
        return None
    drawdown = _C.divide(peak - equity, peak)
    if drawdown < limit:
        return None
    message = f"Equity {equity} is {_percent(drawdown)} below its peak {peak}, reaching the {_percent(limit)} limit."
    return Breach(DRAWDOWN, limit, drawdown, message)


def losing_streak(trades: Sequence[ClosedTrade]) -> int:
    """How many of the most recent trades (by exit time) lost money in a row."""
    streak = 0
    for trade in sorted(trades, key=lambda t: t.exit_time, reverse=True):
        if not trade.is_loss:
            break
        streak += 1
    return streak


def consecutive_losses_breach(trades: Sequence[ClosedTrade], *, limit: int) -> Breach | None:
    """``losing_streak(trades) >= limit``."""
    streak = losing_streak(trades)
    if streak < limit:
        return None
    message = f"The last {streak} trades lost money, reaching the limit of {limit} losing trades in a row."
    return Breach(CONSECUTIVE_LOSSES, Decimal(limit), Decimal(streak), message)


def sharpe_breach(strategy_sharpe: Decimal, benchmark_sharpe: Decimal, *, margin: Decimal, days: int) -> Breach | None:
    """``strategy_sharpe < benchmark_sharpe - margin``; ``limit`` is the right-hand side."""
    limit = benchmark_sharpe - margin
    if strategy_sharpe >= limit:
        return None
    message = (
        f"The strategy's Sharpe ratio over {days} days, {strategy_sharpe:.4f}, fell below the benchmark's "
        f"{benchmark_sharpe:.4f}" + (f" less the margin {margin}." if margin else ".")
    )
    return Breach(SHARPE_BELOW_BENCHMARK, limit, strategy_sharpe, message)


def rolling_sharpes(
    strategy_returns: Mapping[date, Decimal],
    benchmark_returns: Mapping[date, Decimal],
    *,
    window: int,
    risk_free_rate: Decimal = _ZERO,
) -> tuple[Decimal, Decimal] | None:
    """(strategy Sharpe, benchmark Sharpe) over the last ``window`` common dates, or None if undefined."""
    common = sorted(day for day in strategy_returns if day in benchmark_returns)[-window:]
    if len(common) < window:
        return None
    ours = sharpe_ratio([strategy_returns[d] for d in common], risk_free_rate=risk_free_rate)
    theirs = sharpe_ratio([benchmark_returns[d] for d in common], risk_free_rate=risk_free_rate)
    if ours is None or theirs is None:
        return None
    return ours, theirs


def daily_loss_breach(*, day_start_equity: Decimal, equity: Decimal, limit: Decimal) -> Breach | None:
    """``(day_start_equity - equity) / day_start_equity >= limit``."""
    if day_start_equity <= 0:
        return None
    loss = _C.divide(day_start_equity - equity, day_start_equity)
    if loss < limit:
        return None
    message = (
        f"Today's loss of {_percent(loss)} from the day's start at {day_start_equity} "
        f"reached the {_percent(limit)} limit."
    )
    return Breach(DAILY_LOSS, limit, loss, message)


def evaluate(
    config: AutoPauseConfig,
    *,
    equity_curve: Mapping[date, Decimal],
    trades: Sequence[ClosedTrade] = (),
    equity: Decimal | None = None,
    day_start_equity: Decimal | None = None,
    benchmark_returns: Mapping[date, Decimal] | None = None,
) -> list[Breach]:
    """Every enabled rule, in ``RULES`` order; an empty list means keep running.

    ``equity`` is the current equity (the curve's last value when not given);
    ``day_start_equity`` the equity when today's session began (the daily loss rule
    is skipped without it); ``benchmark_returns`` the benchmark's daily returns
    (the Sharpe rule is skipped without them).
    """
    breaches: list[Breach] = []
    values = list(equity_curve.values())
    current = equity if equity is not None else (equity_curve[max(equity_curve)] if equity_curve else None)
    if config.max_drawdown is not None and current is not None:
        peak = max([*values, current])
        breaches.extend(b for b in [drawdown_breach(peak=peak, equity=current, limit=config.max_drawdown)] if b)
    if config.max_consecutive_losses is not None:
        breach = consecutive_losses_breach(trades, limit=config.max_consecutive_losses)
        breaches.extend([breach] if breach else [])
    if config.sharpe_window_days is not None and benchmark_returns is not None:
        sharpes = rolling_sharpes(
            dict(daily_returns(equity_curve)),
            benchmark_returns,
            window=config.sharpe_window_days,
            risk_free_rate=config.risk_free_rate,
        )
        if sharpes is not None:
            breach = sharpe_breach(*sharpes, margin=config.sharpe_margin, days=config.sharpe_window_days)
            breaches.extend([breach] if breach else [])
    if config.daily_loss_limit is not None and day_start_equity is not None and current is not None:
        breach = daily_loss_breach(day_start_equity=day_start_equity, equity=current, limit=config.daily_loss_limit)
        breaches.extend([breach] if breach else [])
    return breaches
