"""Reads of the backtester: a person's own datasets, backtests and optimizations, and the data on offer."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from backtests import sources
from backtests.models import Backtest, Dataset, Optimization
from trading.marketdata.history import bar_symbols, bars_exist


def backtest_list(*, user: AbstractBaseUser) -> QuerySet[Backtest]:
    return Backtest.objects.filter(owner=user).defer("trades", "equity", "comparison").order_by("-pk")


def backtest_get(*, user: AbstractBaseUser, backtest_id: int) -> Backtest | None:
    return Backtest.objects.filter(owner=user, pk=backtest_id).first()


def dataset_list(*, user: AbstractBaseUser) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=user).defer("content").order_by("-pk")


def optimization_list(*, user: AbstractBaseUser) -> QuerySet[Optimization]:
    return Optimization.objects.filter(owner=user).order_by("-pk")


def optimization_get(*, user: AbstractBaseUser, optimization_id: int) -> Optimization | None:
    return Optimization.objects.filter(owner=user, pk=optimization_id).first()


def stored_bars_exist(*, symbol: str, start: datetime | None, end: datetime | None) -> bool:
    return bars_exist(symbol=symbol, since=start, until=end)


def data_sources(*, user: AbstractBaseUser) -> dict[str, Any]:
    """What a backtest can run on: the samples, the symbols with stored bars, the person's datasets."""
    return {
        "samples": list(sources.SAMPLE_NAMES),
        "bar_symbols": bar_symbols(),
        "datasets": [
            {"id": d.pk, "name": d.name, "symbol": d.symbol, "rows": d.rows}
            for d in dataset_list(user=user).only("pk", "name", "symbol", "rows")
        ],
    }
