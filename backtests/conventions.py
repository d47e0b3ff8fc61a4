"""A backtest's settings as the API takes them (plain JSON) into the core's ``BacktestConfig``.

Pure Python: the Django layer stores the settings as sent and builds the config from them in the
task, so the same settings always make the same run.

Settings (every key optional; the default in brackets)
    ``initial_cash`` ("10000"); ``fill_timing`` (``next_open`` | ``this_close``);
    ``commission_model`` (``none`` | ``per_share`` | ``per_order`` | ``bps`` | ``percent``) with
    ``commission`` (the rate, fee, bps or percent) and ``commission_minimum`` (per share only);
    ``slippage_model`` (``none`` | ``bps`` | ``fixed``) with ``slippage``; ``sizing``
    (``fraction_of_equity`` | ``fraction_of_capital`` | ``fixed_quantity`` | ``all_in``) with
    ``sizing_value`` (the fraction or the quantity; none: the signal's ``position_size``);
    ``lot_size`` ("1"); ``close_at_end`` (false).
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from strategies.core.backtest import BacktestConfig, FillTiming
from strategies.core.backtest.fills import (
    NO_COMMISSION,
    NO_SLIPPAGE,
    Bps,
    BpsSlippage,
    Commission,
    FixedSlippage,
    PercentOfValue,
    PerOrder,
    PerShare,
    Slippage,
)
from strategies.core.backtest.sizing import ALL_IN, FixedQuantity, FractionOfCapital, FractionOfEquity, Sizing

COMMISSION_MODELS = ("none", "per_share", "per_order", "bps", "percent")
SLIPPAGE_MODELS = ("none", "bps", "fixed")
SIZINGS = ("fraction_of_equity", "fraction_of_capital", "fixed_quantity", "all_in")
FILL_TIMINGS = tuple(str(timing) for timing in FillTiming)


def _decimal(settings: Mapping[str, Any], name: str, default: str | None = None) -> Decimal | None:
    raw = settings.get(name)
    if raw is None or raw == "":
        return None if default is None else Decimal(default)
    return Decimal(str(raw))


def commission_build(settings: Mapping[str, Any]) -> Commission:
    model = settings.get("commission_model") or "none"
    amount = _decimal(settings, "commission", "0")
    assert amount is not None
    if model == "none":
        return NO_COMMISSION
    if model == "per_share":
        return PerShare(amount, _decimal(settings, "commission_minimum", "0") or Decimal(0))
    if model == "per_order":
        return PerOrder(amount)
    if model == "bps":
        return Bps(amount)
    if model == "percent":
        return PercentOfValue(amount)
    raise ValueError(f"Unknown commission model {model!r}.")


def slippage_build(settings: Mapping[str, Any]) -> Slippage:
    model = settings.get("slippage_model") or "none"
    amount = _decimal(settings, "slippage", "0")
    assert amount is not None
    if model == "none":
        return NO_SLIPPAGE
    if model == "bps":
        return BpsSlippage(amount)
    if model == "fixed":
        return FixedSlippage(amount)
    raise ValueError(f"Unknown slippage model {model!r}.")


def sizing_build(settings: Mapping[str, Any]) -> Sizing | None:
    sizing = settings.get("sizing") or ""
    value = _decimal(settings, "sizing_value")
    if sizing == "":
        return None  # the engine's default: a fraction of equity (generators) or of capital (replay)
    if sizing == "fraction_of_equity":
        return FractionOfEquity(value)
    if sizing == "fraction_of_capital":
        return FractionOfCapital(value)
    if sizing == "fixed_quantity":
        if value is None:
            raise ValueError("A fixed quantity needs sizing_value.")
        return FixedQuantity(value)
    if sizing == "all_in":
        return ALL_IN
    raise ValueError(f"Unknown sizing {sizing!r}.")


def config_build(
    settings: Mapping[str, Any],
    *,
    bar_interval: timedelta,
    total_bars: int | None = None,
    strategy_capital: Decimal | None = None,
    trade_from: datetime | None = None,
) -> BacktestConfig:
    """The core's config; progress is reported about every 2 % of the bars (at least every 256)."""
    every = 65_536 if not total_bars else max(256, min(65_536, total_bars // 50))
    initial_cash = _decimal(settings, "initial_cash", "10000")
    lot_size = _decimal(settings, "lot_size", "1")
    assert initial_cash is not None and lot_size is not None
    return BacktestConfig(
        initial_cash=initial_cash,
        fill_timing=FillTiming(settings.get("fill_timing") or FillTiming.NEXT_OPEN),
        commission=commission_build(settings),
        slippage=slippage_build(settings),
        sizing=sizing_build(settings),
        lot_size=lot_size,
        strategy_capital=strategy_capital,
        bar_interval=bar_interval,
        close_at_end=bool(settings.get("close_at_end", False)),
        trade_from=trade_from,
        progress_every=every,
    )
