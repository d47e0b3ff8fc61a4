"""Writes of the backtester: datasets uploaded, backtests and optimizations asked for, run, canceled.

A run is a Celery task (``backtests.tasks``) that calls ``backtest_run``: it loads the bars, builds the
generator (or the recorded signals) and the config, then hands everything to the pure engine
(``strategies.core.backtest``), which loops over the bars with no Django in it. The only calls back
out of the loop are the progress and cancel callbacks, every ``progress_every`` bars (about 2 % of
the run): they write the progress, push it to the owner's browsers and read the cancel flag.

On the embedded default (``BACKTESTS_IN_THREAD``) the task runs in a thread of the web process, so a
request returns at once and the page sees the progress live, as it does from a worker on the real stack.
"""

from backtests.services.common import InvalidBacktest, data_spec_check, frame_load
from backtests.services.datasets import dataset_upload
from backtests.services.optimizations import (
    candidate_evaluate,
    candidate_fail,
    optimization_cancel,
    optimization_create,
    optimization_start,
)
from backtests.services.runs import backtest_cancel, backtest_create, backtest_fail, backtest_run

__all__ = [
    "InvalidBacktest",
    "backtest_cancel",
    "backtest_create",
    "backtest_fail",
    "backtest_run",
    "candidate_evaluate",
    "candidate_fail",
    "data_spec_check",
    "dataset_upload",
    "frame_load",
    "optimization_cancel",
    "optimization_create",
    "optimization_start",
]
