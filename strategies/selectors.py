"""Reads for strategies and signals."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, prefetch_related_objects

from strategies.models import Strategy, TradingSignal


def strategy_for_user(*, user: AbstractBaseUser, strategy_id: int) -> Strategy | None:
    return Strategy.objects.filter(pk=strategy_id, owner=user).first()


def strategy_list(*, user: AbstractBaseUser):
    return Strategy.objects.filter(owner=user).order_by("name")


def signal_orders_load(signals: list[TradingSignal]) -> None:
    """Read the signals' orders into them (one query) for their answer; the signal rows are current."""
    prefetch_related_objects(signals, "orders")


def signal_for_user(*, user: AbstractBaseUser, external_id: str) -> TradingSignal | None:
    """A producer sees its own signals; a trader sees those sent to their strategies."""
    return (
        TradingSignal.objects.filter(Q(producer=user) | Q(strategy__owner=user), external_id=external_id)
        .prefetch_related("orders")
        .order_by("-pk")
        .first()
    )
