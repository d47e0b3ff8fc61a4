"""A run's settings (plain JSON) into the core's BacktestConfig: each model as named, defaults as stated."""

from datetime import timedelta
from decimal import Decimal

import pytest

from backtests.conventions import config_build
from strategies.core.backtest import FillTiming
from strategies.core.backtest.fills import (
    NO_COMMISSION,
    NO_SLIPPAGE,
    Bps,
    BpsSlippage,
    FixedSlippage,
    PercentOfValue,
    PerOrder,
    PerShare,
)
from strategies.core.backtest.sizing import ALL_IN, FixedQuantity, FractionOfCapital, FractionOfEquity

DAY = timedelta(days=1)


def test_the_defaults():
    config = config_build({}, bar_interval=DAY)
    assert config.initial_cash == Decimal(10000)
    assert config.fill_timing is FillTiming.NEXT_OPEN
    assert (config.commission, config.slippage, config.sizing) == (NO_COMMISSION, NO_SLIPPAGE, None)
    assert config.bar_interval == DAY and not config.close_at_end


@pytest.mark.parametrize(
    "given, commission",
    [
        ({"commission_model": "percent", "commission": "0.2"}, PercentOfValue(Decimal("0.2"))),
        ({"commission_model": "bps", "commission": "5"}, Bps(Decimal(5))),
        ({"commission_model": "per_order", "commission": "1"}, PerOrder(Decimal(1))),
        (
            {"commission_model": "per_share", "commission": "0.005", "commission_minimum": "1"},
            PerShare(Decimal("0.005"), Decimal(1)),
        ),
    ],
)
def test_commission_models(given, commission):
    assert config_build(given, bar_interval=DAY).commission == commission


def test_slippage_sizing_and_timing():
    config = config_build(
        {"slippage_model": "bps", "slippage": "3", "sizing": "fraction_of_capital", "sizing_value": "0.5"},
        bar_interval=DAY,
    )
    assert config.slippage == BpsSlippage(Decimal(3)) and config.sizing == FractionOfCapital(Decimal("0.5"))
    config = config_build({"slippage_model": "fixed", "slippage": "0.01", "sizing": "all_in"}, bar_interval=DAY)
    assert config.slippage == FixedSlippage(Decimal("0.01")) and config.sizing is ALL_IN
    config = config_build(
        {"sizing": "fixed_quantity", "sizing_value": "7", "fill_timing": "this_close"}, bar_interval=DAY
    )
    assert config.sizing == FixedQuantity(Decimal(7)) and config.fill_timing is FillTiming.THIS_CLOSE
    assert config_build({"sizing": "fraction_of_equity"}, bar_interval=DAY).sizing == FractionOfEquity(None)


def test_progress_is_reported_about_every_two_percent():
    assert config_build({}, bar_interval=DAY, total_bars=2148).progress_every == 256
    assert config_build({}, bar_interval=DAY, total_bars=1_000_000).progress_every == 20_000
    assert config_build({}, bar_interval=DAY, total_bars=100_000_000).progress_every == 65_536


def test_settings_that_cannot_be_built_are_refused():
    with pytest.raises(ValueError, match="sizing_value"):
        config_build({"sizing": "fixed_quantity"}, bar_interval=DAY)
    with pytest.raises(ValueError, match="commission model"):
        config_build({"commission_model": "free"}, bar_interval=DAY)
