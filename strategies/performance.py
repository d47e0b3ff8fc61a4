"""The Strategy Analyzer: a strategy's closed trades, metrics and daily equity, rebuilt from its fills.

``performance_update(strategy)`` is the one write. It reads the strategy's executions
(``trading.models.Execution``), turns them into closed trades with the pure core
(``strategies.core.metrics.closed_trades``), replaces the strategy's ``StrategyTrade``
rows, extends the daily equity curve and stores every figure of
``strategies.core.metrics.performance`` in ``StrategyPerformance`` (mirrored into
``Strategy.performance_metrics``). The formulas are the core's; this module only
gathers the data:

- a trade's ``version`` is the ``strategy_version`` of the order that opened it; its
  ``model`` the opening signal's ``metadata.model``, else the API key's name it came through, else the
  producer's user name; its
  ``confidence`` the signal's ``confidence_score``;
- the equity of a day is ``capital + realized P&L (net of commissions) + unrealized P&L``
  of the fills up to that day's end, the open quantity valued at the symbol's last
  stored 1-minute bar of the day (else its last fill price); today's at the live price.
  Days are weekdays (UTC dates) from the strategy's deployment (or first fill) to today.
  Past days once stored are kept; today's point is updated on every run;
- alpha and beta are against the benchmark symbol (``configuration["benchmark"]``, else
  ``STRATEGY_BENCHMARK_SYMBOL``, SPY) from its daily closes in the stored bars, when present.

Reads for the REST views (``performance_get``, ``trade_list``, ``attribution_get``) are here too.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from strategies.core.attribution import Attribution, attribution
from strategies.core.autopause import config_validate
from strategies.core.metrics import (
    ClosedTrade,
    TradeFill,
    closed_trades,
    daily_returns,
    drawdown_series,
    performance,
)
from strategies.models import Strategy, StrategyPerformance, StrategyTrade, TradingSignal
from trading.core.orders import Side
from trading.core.positions import PositionState, apply_fill, unrealized_pnl
from trading.marketdata.prices import prices_get
from trading.models import Bar, Execution

_ZERO = Decimal(0)
_CENT = Decimal("0.01")


def benchmark_symbol(strategy: Strategy) -> str:
    configured = (strategy.configuration or {}).get("benchmark")
    return configured if isinstance(configured, str) and configured else settings.STRATEGY_BENCHMARK_SYMBOL


def _risk_free_rate(strategy: Strategy) -> Decimal:
    config, _ = config_validate((strategy.configuration or {}).get("auto_pause"))
    return config.risk_free_rate if config is not None else _ZERO


# ---------- fills and trades ----------
def strategy_fills(strategy: Strategy) -> list[tuple[TradeFill, int | None]]:
    """Every execution of the strategy, oldest first, as the core's fills with its order's strategy version."""
    rows = (
        Execution.objects.filter(strategy=strategy)
        .select_related("instrument", "order__signal__producer")
        .order_by("executed_at", "pk")
    )
    fills = []
    for row in rows:
        signal = row.order.signal
        model = confidence = None
        if signal is not None:
            named = (signal.metadata or {}).get("model") if isinstance(signal.metadata, dict) else None
            model = str(named)[:128] if named else signal.producer_name or signal.producer.get_username()
            confidence = signal.confidence_score
        fill = TradeFill(
            symbol=row.instrument.symbol,
            at=row.executed_at,
            side=Side(row.side),
            quantity=row.quantity,
            price=row.price,
            commission=row.commission,
            model=model,
            confidence=confidence,
        )
        fills.append((fill, row.order.strategy_version))
    return fills


def _trades_with_versions(fills: list[tuple[TradeFill, int | None]]) -> list[tuple[ClosedTrade, int | None]]:
    # A trade opens at a fill's time: the first fill of that symbol at that time names the version.
    versions: dict[tuple[str, datetime], int | None] = {}
    for fill, version in fills:
        versions.setdefault((fill.symbol, fill.at), version)
    trades = closed_trades(fill for fill, _ in fills)
    return [(trade, versions.get((trade.symbol, trade.entry_time))) for trade in trades]


def _trade_row(strategy: Strategy, trade: ClosedTrade, version: int | None) -> StrategyTrade:
    return StrategyTrade(
        strategy=strategy,
        version=version,
        symbol=trade.symbol,
        side=trade.side.value,
        quantity=trade.quantity,
        entry_at=trade.entry_time,
        exit_at=trade.exit_time,
        entry_price=trade.entry_price.quantize(Decimal("0.000001")),
        exit_price=trade.exit_price.quantize(Decimal("0.000001")),
        pnl=trade.pnl.quantize(Decimal("0.000001")),
        return_fraction=trade.return_fraction.quantize(Decimal("0.0000000001")),
        commission=trade.commission,
        model=trade.model or "",
        confidence=trade.confidence,
    )


def stored_trades(strategy: Strategy) -> list[ClosedTrade]:
    """The stored closed trades as the core's ClosedTrade (attribution, auto-pause)."""
    return [
        ClosedTrade(
            symbol=row.symbol,
            side=Side(row.side),
            quantity=row.quantity,
            entry_time=row.entry_at,
            exit_time=row.exit_at,
            entry_price=row.entry_price,
            exit_price=row.exit_price,
            pnl=row.pnl,
            commission=row.commission,
            model=row.model or None,
            confidence=row.confidence,
        )
        for row in StrategyTrade.objects.filter(strategy=strategy).order_by("exit_at", "id")
    ]


# ---------- prices ----------
def daily_closes(symbols: Iterable[str], *, since: date) -> dict[str, dict[date, Decimal]]:
    """Each symbol's last stored 1-minute bar close of each UTC day from ``since`` on."""
    symbols = list(symbols)
    if not symbols:
        return {}
    start = datetime.combine(since, time(0), tzinfo=UTC)
    lasts = (
        Bar.objects.filter(symbol__in=symbols, minute__gte=start)
        .annotate(day=TruncDate("minute"))
        .values("symbol", "day")
        .annotate(last=Max("minute"))
        .values_list("last", flat=True)
    )
    closes: dict[str, dict[date, Decimal]] = {}
    rows = Bar.objects.filter(symbol__in=symbols, minute__in=list(lasts)).values_list("symbol", "minute", "close")
    for symbol, minute, close in rows:
        closes.setdefault(symbol, {})[minute.astimezone(UTC).date()] = close
    return closes


def benchmark_returns(symbol: str, *, since: date) -> dict[date, Decimal] | None:
    """The benchmark's daily returns from its stored daily closes (None with fewer than two days)."""
    closes = daily_closes([symbol], since=since).get(symbol, {})
    if len(closes) < 2:
        return None
    return dict(daily_returns(closes))


# ---------- the equity curve ----------
def _weekdays(start: date, end: date) -> list[date]:
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days or [end]


def equity_curve_build(
    *,
    capital: Decimal,
    fills: list[TradeFill],
    days: list[date],
    closes: Mapping[str, Mapping[date, Decimal]],
    live_prices: Mapping[str, Decimal] | None = None,
    today: date | None = None,
) -> dict[date, Decimal]:
    """``capital + realized + unrealized`` at each day's close, in cents (the module docstring's rule)."""
    states: dict[str, PositionState] = {}
    last_price: dict[str, Decimal] = {}
    ordered = sorted(fills, key=lambda f: f.at)
    position = 0
    curve: dict[date, Decimal] = {}
    for day in days:
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
        while position < len(ordered) and ordered[position].at < end:
            fill = ordered[position]
            states[fill.symbol] = apply_fill(
                states.get(fill.symbol, PositionState()),
                side=fill.side,
                quantity=fill.quantity,
                price=fill.price,
                commission=fill.commission,
            )
            last_price[fill.symbol] = fill.price
            position += 1
        value = capital
        for symbol, state in states.items():
            value += state.realized_pnl
            if state.quantity:
                price = closes.get(symbol, {}).get(day)
                if day == today and live_prices and symbol in live_prices:
                    price = live_prices[symbol]
                value += unrealized_pnl(state, price if price is not None else last_price[symbol])
        curve[day] = value.quantize(_CENT)
    return curve


def _stored_curve(stored: StrategyPerformance | None) -> dict[date, Decimal]:
    if stored is None:
        return {}
    curve = {}
    for point in stored.equity or []:
        try:
            curve[date.fromisoformat(point["day"])] = Decimal(point["equity"])
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue
    return curve


# ---------- the write ----------
def performance_update(strategy: Strategy | int, *, now: datetime | None = None) -> StrategyPerformance | None:
    """Rebuild the strategy's closed trades and store its metrics and equity curve; None for a vanished strategy.

    Reads and writes under the strategy's row lock (FOR NO KEY UPDATE: signals, orders and events for the
    strategy go on being inserted), so two runs at once store the later fills, never the earlier ones.
    """
    now = now or timezone.now()
    strategy_id = strategy if isinstance(strategy, int) else strategy.pk
    today = now.astimezone(UTC).date()
    with transaction.atomic():
        strategy = Strategy.objects.select_for_update(no_key=True).filter(pk=strategy_id).first()
        if strategy is None:
            return None
        fills = strategy_fills(strategy)
        trades = _trades_with_versions(fills)
        plain_fills = [fill for fill, _ in fills]
        started = strategy.deployed_at or strategy.created_at or now
        start = started.astimezone(UTC).date()
        if plain_fills:
            start = min(start, min(f.at for f in plain_fills).astimezone(UTC).date())
        days = _weekdays(start, today)
        if today not in days:
            days.append(today)  # a weekend update still marks today's equity
        symbols = {f.symbol for f in plain_fills}
        computed = equity_curve_build(
            capital=strategy.capital,
            fills=plain_fills,
            days=days,
            closes=daily_closes(symbols, since=start),
            live_prices=prices_get(symbols) if symbols else {},
            today=today,
        )
        stored = StrategyPerformance.objects.filter(strategy=strategy).first()
        kept = {day: value for day, value in _stored_curve(stored).items() if day < today}
        # The core's figures need a positive equity every day (a strategy that lost all its capital has none).
        curve = {day: value for day, value in {**computed, **kept}.items() if value > 0}
        figures: dict[str, Any] = {}
        if curve:
            benchmark = benchmark_returns(benchmark_symbol(strategy), since=start)
            metrics = performance(
                curve,
                [trade for trade, _ in trades],
                benchmark_returns=benchmark,
                risk_free_rate=_risk_free_rate(strategy),
            )
            figures = {**metrics.as_dict(), "benchmark": benchmark_symbol(strategy)}
        StrategyTrade.objects.filter(strategy=strategy).delete()
        StrategyTrade.objects.bulk_create([_trade_row(strategy, trade, version) for trade, version in trades])
        equity = [
            {"day": p.day.isoformat(), "equity": str(p.equity), "drawdown": str(p.drawdown)}
            for p in drawdown_series(curve)
        ]
        stored, _ = StrategyPerformance.objects.update_or_create(
            strategy=strategy, defaults={"metrics": figures, "equity": equity, "version": strategy.version}
        )
        strategy.performance_metrics = figures
        strategy.save(update_fields=["performance_metrics"])
    return stored


def strategies_to_analyze() -> list[int]:
    """Strategies the beat schedule brings up to date: every one that is not a draft."""
    return list(Strategy.objects.exclude(status=Strategy.Status.DRAFT).order_by("pk").values_list("pk", flat=True))


# ---------- reads (the REST views) ----------
def performance_get(strategy: Strategy) -> dict[str, Any]:
    """The stored figures as ``GET strategies/{id}/performance/`` answers them (empty before the first run)."""
    stored = StrategyPerformance.objects.filter(strategy=strategy).first()
    if stored is None:
        return {"metrics": {}, "equity": [], "updated_at": None, "version": strategy.version}
    return {
        "metrics": stored.metrics,
        "equity": stored.equity,
        "updated_at": stored.updated_at,
        "version": stored.version,
    }


def trade_list(strategy: Strategy) -> QuerySet[StrategyTrade]:
    return StrategyTrade.objects.filter(strategy=strategy).order_by("exit_at", "id")


def signal_counts_by_model(strategy: Strategy) -> dict[str, int]:
    """Signals sent to the strategy per model (``metadata.model``, else the key's name, else the user name)."""
    counts: dict[str, int] = {}
    rows = TradingSignal.objects.filter(strategy=strategy).values_list(
        "metadata", "producer_name", "producer__username"
    )
    for metadata, key_name, username in rows.iterator():
        named = metadata.get("model") if isinstance(metadata, dict) else None
        model = str(named)[:128] if named else key_name or username
        counts[model] = counts.get(model, 0) + 1
    return counts


def attribution_get(strategy: Strategy) -> Attribution:
    return attribution(stored_trades(strategy), signal_counts=signal_counts_by_model(strategy))


__all__ = [
    "attribution_get",
    "benchmark_returns",
    "daily_closes",
    "equity_curve_build",
    "performance_get",
    "performance_update",
    "signal_counts_by_model",
    "stored_trades",
    "strategies_to_analyze",
    "strategy_fills",
    "trade_list",
]
