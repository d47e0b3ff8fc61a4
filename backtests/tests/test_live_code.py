"""The backtest loop is the live code with no Django in it: the engine imports none, the Django layer's run
calls Django only from its progress and cancel callbacks, and the engine calls the very functions live
trading's services call (the risk rules, apply_fill and cash_delta)."""

import subprocess
import sys
from pathlib import Path

import pytest

from backtests import services
from backtests.services import runs
from risk import selectors as risk_selectors
from risk.core import rules
from strategies.core.backtest import engine
from trading.core import positions
from trading.services import executions

ROOT = Path(__file__).resolve().parents[2]
CALLBACKS = {"progress", "should_cancel"}

PURE_RUN = """
import sys
from datetime import timedelta
from strategies.core.backtest import BacktestConfig, run_backtest, strategy_generator
from strategies.core.backtest.data import sample_bars
from strategies.core.backtest.sizing import ALL_IN
generator = strategy_generator("SMA_CROSSOVER", {"fast_period": 10, "slow_period": 20, "allow_short": True})
config = BacktestConfig(sizing=ALL_IN, bar_interval=timedelta(days=1))
result = run_backtest(sample_bars("GOOG"), generator, config)
assert str(result.final_equity) == "81812.37", result.final_equity
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("django", "rest_framework", "channels", "celery"))
print("LOADED", loaded)
"""


def test_the_engine_runs_a_backtest_without_importing_django():
    answer = subprocess.run(
        [sys.executable, "-c", PURE_RUN], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert "LOADED []" in answer.stdout, answer.stdout + answer.stderr


def test_the_engine_calls_the_functions_live_trading_calls():
    assert engine.validate_order is rules.validate_order is risk_selectors.validate_order
    assert engine.apply_fill is positions.apply_fill is executions.apply_fill
    assert engine.cash_delta is positions.cash_delta is executions.cash_delta


@pytest.mark.django_db
def test_the_django_run_touches_django_only_in_its_callbacks(demo, monkeypatch):
    backtest = services.backtest_create(
        owner=demo.trader,
        data={
            "strategy_type": "SMA_CROSSOVER",
            "parameters": {"fast_period": 10, "slow_period": 20, "allow_short": True},
            "source": "sample",
            "sample": "GOOG",
            "settings": {"sizing": "all_in"},
        },
        dispatch=False,
    )
    outside: set[str] = set()
    calls = {"validate_order": 0, "apply_fill": 0, "callbacks": 0}
    real_run = runs.core_run
    real_validate, real_apply = engine.validate_order, engine.apply_fill

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(engine, "validate_order", counted("validate_order", real_validate))
    monkeypatch.setattr(engine, "apply_fill", counted("apply_fill", real_apply))

    def watch(frame, event, arg):
        if event != "call":
            return
        if "/django/" not in frame.f_code.co_filename:
            if frame.f_code.co_name in CALLBACKS and frame.f_code.co_filename.endswith("services/runs.py"):
                calls["callbacks"] += 1
            return
        caller = frame.f_back
        while caller is not None:
            if caller.f_code.co_name in CALLBACKS and caller.f_code.co_filename.endswith("services/runs.py"):
                return
            caller = caller.f_back
        outside.add(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")

    def watched_run(*args, **kwargs):
        sys.setprofile(watch)
        try:
            return real_run(*args, **kwargs)
        finally:
            sys.setprofile(None)

    monkeypatch.setattr(runs, "core_run", watched_run)
    finished = services.backtest_run(backtest_id=backtest.pk)
    assert finished.status == "completed"
    assert not outside, sorted(outside)[:10]
    assert calls["callbacks"] > 0  # the callbacks ran, and Django inside them was allowed
    # Every order went through the live risk rules, every fill through the live P&L code.
    assert calls["validate_order"] >= len(finished.trades) * 2 > 0
    assert calls["apply_fill"] >= len(finished.trades) * 2
