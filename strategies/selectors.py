"""Reads for strategies and signals."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet, prefetch_related_objects

from accounts.permissions import Scope
from strategies.models import Strategy, StrategyVersion, TradingSignal


def strategy_for_user(*, user: AbstractBaseUser, strategy_id: int) -> Strategy | None:
    """One of the user's strategies (a deleted one is no longer anyone's)."""
    return Strategy.objects.filter(pk=strategy_id, owner=user, deleted_at__isnull=True).first()


def strategies_live(*, account_id: int) -> list[Strategy]:
    """An account's strategies that may hold positions: running or paused (by a person or a rule)."""
    idle = [Strategy.Status.DRAFT, Strategy.Status.STOPPED]
    live = Strategy.objects.filter(account_id=account_id, deleted_at__isnull=True).exclude(status__in=idle)
    return list(live.order_by("pk"))


def signal_levels_latest(*, strategy_ids: set[int]) -> dict[tuple[int, str], tuple]:
    """(strategy, symbol) -> (stop loss, take profit) of the latest BUY/SELL signal that named either."""
    levels: dict[tuple[int, str], tuple] = {}
    signals = (
        TradingSignal.objects.filter(strategy_id__in=strategy_ids, signal_type__in=["BUY", "SELL"])
        .exclude(stop_loss__isnull=True, take_profit__isnull=True)
        .order_by("pk")
        .values_list("strategy_id", "symbol", "stop_loss", "take_profit")
    )
    for strategy_id, symbol, stop_loss, take_profit in signals:
        levels[(strategy_id, symbol)] = (stop_loss, take_profit)  # the latest wins
    return levels


def strategy_list(*, scope: Scope) -> QuerySet[Strategy]:
    """The strategies a request's scope reads, by name, deleted ones left out: a person's own (and granted
    accounts', or every one for operations); a producer key only the strategy it is scoped to (none unscoped)."""
    strategies = Strategy.objects.filter(deleted_at__isnull=True)
    if scope.producer:
        strategies = strategies.filter(owner_id=scope.user_id, pk=scope.strategy_id)
    else:
        strategies = strategies.filter(scope.accounts())
    return strategies.order_by("name", "pk")


def strategy_versions(*, strategy: Strategy) -> QuerySet[StrategyVersion]:
    """Every version of a strategy, newest first, with who made it."""
    return StrategyVersion.objects.filter(strategy=strategy).select_related("created_by").order_by("-number")


def strategy_signals(*, strategy: Strategy, limit: int) -> list[TradingSignal]:
    """A strategy's latest signals, newest first, with their orders (for each one's outcome)."""
    return list(TradingSignal.objects.filter(strategy=strategy).prefetch_related("orders").order_by("-pk")[:limit])


def signal_orders_load(signals: list[TradingSignal]) -> None:
    """Read the signals' orders into them (one query) for their answer; the signal rows are current."""
    prefetch_related_objects(signals, "orders")


def signal_get(*, scope: Scope, external_id: str) -> TradingSignal | None:
    """A producer key sees its own signals (its strategy's, if scoped); people those sent to readable accounts."""
    return (
        TradingSignal.objects.filter(scope.signals(), external_id=external_id)
        .prefetch_related("orders")
        .order_by("-pk")
        .first()
    )


def signal_counts(*, since) -> tuple[int, int]:
    """(signals received, signals refused) since a moment (operations' rates)."""
    signals = TradingSignal.objects.filter(created_at__gte=since)
    return signals.count(), signals.filter(status=TradingSignal.Status.REJECTED).count()


def signal_records(*, strategy_id: int, since=None, until=None) -> list[dict]:
    """A strategy's recorded producer signals in [since, until) of arrival, oldest first, as the
    backtester replays them (``strategies.core.backtest.signals.external_signals`` reads these dicts)."""
    signals = TradingSignal.objects.filter(strategy_id=strategy_id)
    if since is not None:
        signals = signals.filter(created_at__gte=since)
    if until is not None:
        signals = signals.filter(created_at__lt=until)
    return [
        {
            "id": signal.external_id,
            "time": signal.created_at,
            "symbol": signal.symbol,
            "signal_type": signal.signal_type,
            "position_size": signal.position_size,
            "stop_loss": signal.stop_loss,
            "take_profit": signal.take_profit,
            "target_price": signal.target_price,
            "confidence": signal.confidence_score,
            "expires_at": signal.expires_at,
            "metadata": signal.metadata,
        }
        for signal in signals.order_by("created_at", "pk")
    ]
