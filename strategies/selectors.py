"""Reads for strategies and signals."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import prefetch_related_objects

from accounts.permissions import Scope
from strategies.models import Strategy, TradingSignal


def strategy_for_user(*, user: AbstractBaseUser, strategy_id: int) -> Strategy | None:
    return Strategy.objects.filter(pk=strategy_id, owner=user).first()


def strategies_live(*, account_id: int) -> list[Strategy]:
    """An account's strategies that may hold positions: running or paused (by a person or a rule)."""
    idle = [Strategy.Status.DRAFT, Strategy.Status.STOPPED]
    return list(Strategy.objects.filter(account_id=account_id).exclude(status__in=idle).order_by("pk"))


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


def strategy_list(*, user: AbstractBaseUser | None = None, scope: Scope | None = None):
    """A user's own strategies, or those a request's scope reads (own, granted accounts', or all)."""
    rows = Strategy.objects.filter(scope.accounts()) if scope is not None else Strategy.objects.filter(owner=user)
    return rows.order_by("name")


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
