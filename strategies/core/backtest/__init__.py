"""The backtester's pure engine: live code run on history (no Django; see README "Backtester (engine)").

Modules: ``data`` (OHLCV into Decimal bars, validation), ``fills`` (fill conventions,
commission, slippage), ``sizing``, ``orders`` (the adapter on the order state machine),
``signals`` (generators and replayed EXTERNAL_AI signals), ``fast`` (the exact SMA fast
path), ``engine`` (``Backtest``), ``optimize``, ``compare`` (live against backtest) and
``validation`` (VaR replay, Kupiec).
"""

from strategies.core.backtest.engine import (
    WIDE_OPEN_LIMITS,
    Backtest,
    BacktestConfig,
    BacktestResult,
    RunLogEntry,
    run_backtest,
)
from strategies.core.backtest.fills import FillTiming
from strategies.core.backtest.signals import ExternalSignal, external_signals, strategy_generator

__all__ = [
    "WIDE_OPEN_LIMITS",
    "Backtest",
    "BacktestConfig",
    "BacktestResult",
    "ExternalSignal",
    "FillTiming",
    "RunLogEntry",
    "external_signals",
    "run_backtest",
    "strategy_generator",
]
