"""Reads: the portfolio risk assessment (RiskEngine.monitor_portfolio_risk) and parameters."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from risk.core.assessment import AssessedPosition, RiskAssessment, assess, daily_returns
from risk.models import RiskParameters, RiskState
from risk.services import book_read, risk_parameters_for

VAR_LOOKBACK_DAYS = 250


def daily_closes(symbols: set[str], *, days: int = VAR_LOOKBACK_DAYS) -> dict[str, list[Decimal]]:
    """Last close of each UTC day per symbol, from the minute bars the market-data feed stores."""
    from trading.models import Bar

    closes: dict[str, dict] = defaultdict(dict)
    rows = Bar.objects.filter(symbol__in=symbols).order_by("symbol", "minute").values_list("symbol", "minute", "close")
    for symbol, minute, close in rows.iterator(chunk_size=5000):
        closes[symbol][minute.date()] = close  # ordered by minute: the day's last bar wins
    return {s: [c for _, c in sorted(by_day.items())][-days - 1 :] for s, by_day in closes.items()}


def portfolio_risk_assess(*, account, now: datetime | None = None) -> RiskAssessment:
    """RiskEngine.monitor_portfolio_risk for one account (read-only; the monitor task also enforces)."""
    now = now or timezone.now()
    book = book_read(account=account)
    parameters = risk_parameters_for(account=account)
    live = [p for p in book.positions if p[3]]
    positions = [AssessedPosition(p[0], p[1], p[3], book.prices[p[0]]) for p in live]
    state = RiskState.objects.filter(account=account, strategy__isnull=True).first()
    equity = book.equity
    day_start = state.day_start_equity if state and state.day_start_equity is not None else equity
    high_water = state.high_water_mark if state and state.high_water_mark is not None else equity
    returns = {s: daily_returns(c) for s, c in daily_closes({p.symbol for p in positions}).items()}
    return assess(
        positions=positions,
        cash=account.cash,
        returns=returns,
        day_start_equity=day_start,
        high_water_mark=high_water,
        limits={
            "max_position_size": parameters.max_position_size,
            "max_portfolio_exposure": parameters.max_portfolio_exposure,
            "max_net_exposure": parameters.max_net_exposure,
            "max_sector_exposure": parameters.max_sector_exposure,
            "daily_loss_limit": parameters.daily_loss_limit,
            "max_drawdown": parameters.max_drawdown,
        },
        at=now,
        trading_state=account.trading_state,
    )


def parameters_get(*, account, strategy=None) -> RiskParameters:
    if strategy is not None:
        return RiskParameters.objects.filter(strategy=strategy).first() or RiskParameters(strategy=strategy)
    return RiskParameters.objects.filter(account=account).first() or RiskParameters(account=account)
