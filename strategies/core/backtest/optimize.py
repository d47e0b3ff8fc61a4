"""Parameter search over a generator: grid and random candidates, walk-forward validation, heat maps.

Every evaluation is one pure call, ``evaluate(strategy_type, parameters, bars, config)
-> Evaluation``, over a window of bars: the Django layer fans them out as Celery tasks
(the arguments are plain data: the parameters a JSON object, the bars a window of a
stored series, the config a frozen dataclass) and hands the results back to ``rank``,
``heatmap`` and ``walk_forward``, which here also run them in-process for tests and the CLI.

Candidates are validated through ``strategies.core.params`` (``params_validate``): a
combination the strategy type refuses (``fast_period >= slow_period``) is left out and
listed with its field errors, never evaluated.

Walk-forward (``walk_forward_windows(n, train=, test=, step=, anchored=)``)
    Window ``k`` (from 0) trains on bars ``[start_k, start_k + train)`` and tests on
    ``[start_k + train, start_k + train + test)``, with ``start_k = k * step`` (``step``
    defaults to ``test``, so the test windows tile the data without overlap). Anchored
    windows train from bar 0 to the test start instead (an expanding window). Only
    windows whose test fits entirely in the data are made. In each window the best
    candidate in sample (by ``metric``) is run out of sample; its test run is warmed up
    on the ``warmup`` bars before the test start (default: the end of the training
    window, at most the generator's warm-up), which only feed the generator and trade
    nothing (``BacktestConfig.trade_from``).

Ranking: by a ``PerformanceMetrics`` field (``sharpe`` by default), highest first
(``maximize=False`` for ``max_drawdown`` and the like); an undefined figure ranks last;
ties keep the candidates' order.
"""

import itertools
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from strategies.core.backtest.engine import BacktestConfig, run_backtest
from strategies.core.backtest.signals import strategy_generator
from strategies.core.metrics import PerformanceMetrics
from strategies.core.params import params_dump, params_validate
from trading.core.bars import Bar

METRICS = tuple(
    f.name for f in fields(PerformanceMetrics) if f.name not in ("start", "end", "risk_free_rate", "periods_per_year")
)


@dataclass(frozen=True)
class Evaluation:
    """One candidate over one window: its cleaned parameters and the run's figures (JSON-ready)."""

    parameters: dict[str, Any]
    metrics: dict[str, Any]
    trades: int
    final_equity: Decimal
    bars: int
    refused: int

    def value(self, metric: str) -> Decimal | None:
        """A metric as a number (None when undefined, or when the run had no day)."""
        if metric == "final_equity":
            return self.final_equity
        raw = self.metrics.get(metric)
        return None if raw is None else Decimal(str(raw))

    def as_dict(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "metrics": self.metrics,
            "trades": self.trades,
            "final_equity": str(self.final_equity),
            "bars": self.bars,
            "refused": self.refused,
        }


@dataclass(frozen=True)
class InvalidCandidate:
    parameters: dict[str, Any]
    errors: dict[str, list[str]]


def evaluate(
    strategy_type: str,
    parameters: Mapping[str, Any],
    bars: Iterable[Bar],
    config: BacktestConfig | None = None,
) -> Evaluation:
    """Run one candidate over ``bars`` (a pure function: what a Celery task calls).

    Raises ``InvalidStrategyParameters`` for parameters the strategy type refuses.
    """
    generator = strategy_generator(strategy_type, dict(parameters))
    result = run_backtest(bars, generator, config)
    return Evaluation(
        parameters=params_dump(generator.params),
        metrics=result.metrics.as_dict() if result.metrics is not None else {},
        trades=len(result.trades),
        final_equity=result.final_equity,
        bars=result.bars,
        refused=result.run_log_total,
    )


def _validated(
    strategy_type: str, combos: Iterable[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[InvalidCandidate]]:
    valid, invalid = [], []
    for combo in combos:
        params, errors = params_validate(strategy_type, combo)
        if errors:
            invalid.append(InvalidCandidate(combo, errors))
        else:
            assert params is not None
            valid.append(combo)
    return valid, invalid


def grid(
    strategy_type: str, space: Mapping[str, Sequence[Any]], *, fixed: Mapping[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[InvalidCandidate]]:
    """Every combination of ``space`` (plus the ``fixed`` parameters), in order: (valid ones, refused ones)."""
    choices = ([(name, value) for value in values] for name, values in space.items())
    combos = ({**(fixed or {}), **dict(pairs)} for pairs in itertools.product(*choices))
    return _validated(strategy_type, combos)


def random_candidates(
    strategy_type: str,
    space: Mapping[str, Sequence[Any]],
    count: int,
    *,
    seed: int = 0,
    fixed: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], list[InvalidCandidate]]:
    """``count`` distinct combinations drawn at random (seeded) from the grid of ``space``; all of it if smaller."""
    if count < 1:
        raise ValueError(f"Draw at least one candidate, got {count}.")
    total = 1
    for values in space.values():
        total *= len(values)
    rng = random.Random(seed)
    picks = rng.sample(range(total), min(count, total))
    combos = []
    for pick in picks:
        combo, rest = dict(fixed or {}), pick
        for name, values in space.items():
            rest, index = divmod(rest, len(values))
            combo[name] = values[index]
        combos.append(combo)
    return _validated(strategy_type, combos)


def rank(evaluations: Iterable[Evaluation], metric: str = "sharpe", *, maximize: bool = True) -> list[Evaluation]:
    """Best first by ``metric``; undefined figures last; ties keep their order."""
    if metric not in METRICS and metric != "final_equity":
        raise ValueError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)} or final_equity.")
    valued = [(evaluation.value(metric), evaluation) for evaluation in evaluations]
    defined = [(value, evaluation) for value, evaluation in valued if value is not None]
    defined.sort(key=lambda pair: -pair[0] if maximize else pair[0])  # a stable sort: ties keep their order
    return [evaluation for _, evaluation in defined] + [evaluation for value, evaluation in valued if value is None]


Evaluator = Callable[[str, Mapping[str, Any], Iterable[Bar], BacktestConfig | None], Evaluation]


def _window(bars: Any, start: int, stop: int) -> Any:
    """Bars ``[start, stop)`` of a sized source: ``FrameBars.window`` or a slice."""
    return bars.window(start, stop) if hasattr(bars, "window") else bars[start:stop]


def search(
    bars: Any,
    strategy_type: str,
    candidates: Sequence[Mapping[str, Any]],
    config: BacktestConfig | None = None,
    *,
    metric: str = "sharpe",
    maximize: bool = True,
    evaluator: Evaluator = evaluate,
) -> list[Evaluation]:
    """Every candidate over all of ``bars``, ranked (in-process; the Django layer fans the calls out)."""
    return rank((evaluator(strategy_type, c, bars, config) for c in candidates), metric, maximize=maximize)


@dataclass(frozen=True)
class Window:
    index: int
    train_start: int
    train_stop: int
    test_start: int
    test_stop: int

    @property
    def train(self) -> range:
        return range(self.train_start, self.train_stop)

    @property
    def test(self) -> range:
        return range(self.test_start, self.test_stop)


def walk_forward_windows(
    bars: int, *, train: int, test: int, step: int | None = None, anchored: bool = False
) -> list[Window]:
    """The walk-forward windows over ``bars`` bars (see the module docstring)."""
    step = test if step is None else step
    if min(train, test, step) < 1:
        raise ValueError("train, test and step must each be at least one bar.")
    windows = []
    for index in itertools.count():
        start = index * step
        test_start = start + train
        test_stop = test_start + test
        if test_stop > bars:
            break
        windows.append(Window(index, 0 if anchored else start, test_start, test_start, test_stop))
    return windows


@dataclass(frozen=True)
class WindowResult:
    window: Window
    best: Evaluation  # in sample
    out_of_sample: Evaluation
    candidates: int


@dataclass(frozen=True)
class WalkForwardResult:
    metric: str
    windows: list[WindowResult]
    invalid: list[InvalidCandidate]

    @property
    def out_of_sample_pnl(self) -> Decimal:
        return sum((Decimal(w.out_of_sample.metrics.get("total_pnl", "0")) for w in self.windows), Decimal(0))

    def efficiency(self) -> Decimal | None:
        """Mean out-of-sample metric over mean in-sample metric (walk-forward efficiency); None if undefined."""
        pairs = [(w.best.value(self.metric), w.out_of_sample.value(self.metric)) for w in self.windows]
        pairs = [(i, o) for i, o in pairs if i is not None and o is not None]
        if not pairs:
            return None
        inside = sum((i for i, _ in pairs), Decimal(0))
        outside = sum((o for _, o in pairs), Decimal(0))
        return None if inside == 0 else outside / inside

    def as_dict(self) -> dict[str, Any]:
        efficiency = self.efficiency()
        return {
            "metric": self.metric,
            "out_of_sample_pnl": str(self.out_of_sample_pnl),
            "efficiency": None if efficiency is None else str(efficiency),
            "windows": [
                {
                    "index": w.window.index,
                    "train": [w.window.train_start, w.window.train_stop],
                    "test": [w.window.test_start, w.window.test_stop],
                    "candidates": w.candidates,
                    "best": w.best.as_dict(),
                    "out_of_sample": w.out_of_sample.as_dict(),
                }
                for w in self.windows
            ],
            "invalid": [{"parameters": c.parameters, "errors": c.errors} for c in self.invalid],
        }


def _first_minute(bars: Any) -> datetime:
    return next(iter(bars)).minute  # type: ignore[no-any-return]


def walk_forward(
    bars: Any,
    strategy_type: str,
    candidates: Sequence[Mapping[str, Any]],
    windows: Sequence[Window],
    config: BacktestConfig | None = None,
    *,
    metric: str = "sharpe",
    maximize: bool = True,
    warmup: int | None = None,
    invalid: Sequence[InvalidCandidate] = (),
    evaluator: Evaluator = evaluate,
) -> WalkForwardResult:
    """Fit in sample, test out of sample, window by window (see the module docstring)."""
    config = config or BacktestConfig()
    results = []
    for window in windows:
        train = _window(bars, window.train_start, window.train_stop)
        ranked = search(train, strategy_type, candidates, config, metric=metric, maximize=maximize, evaluator=evaluator)
        best = ranked[0]
        lead = warmup
        if lead is None:
            lead = strategy_generator(strategy_type, best.parameters).warmup_bars
        lead = max(0, min(lead, window.test_start - window.train_start))
        test_bars = _window(bars, window.test_start - lead, window.test_stop)
        trade_from = _first_minute(_window(bars, window.test_start, window.test_start + 1))
        out = evaluator(strategy_type, best.parameters, test_bars, replace(config, trade_from=trade_from))
        results.append(WindowResult(window, best, out, len(candidates)))
    return WalkForwardResult(metric, results, list(invalid))


@dataclass(frozen=True)
class HeatMap:
    """A metric over two parameters: ``cells[j][i]`` is the value at ``ys[j]``, ``xs[i]``."""

    x: str
    y: str
    metric: str
    xs: list[Any]
    ys: list[Any]
    cells: list[list[Decimal | None]]

    def rows(self) -> list[list[str]]:
        """A printable table: a header row of x values, then one row per y value."""
        header = [f"{self.y} \\ {self.x}", *(str(x) for x in self.xs)]
        body = [
            [str(y), *("" if value is None else f"{value:.4f}" for value in row)]
            for y, row in zip(self.ys, self.cells, strict=True)
        ]
        return [header, *body]

    def as_dict(self) -> dict[str, Any]:
        return {
            "x": self.x,
            "y": self.y,
            "metric": self.metric,
            "xs": [str(x) for x in self.xs],
            "ys": [str(y) for y in self.ys],
            "cells": [[None if v is None else str(v) for v in row] for row in self.cells],
        }


def heatmap(
    evaluations: Iterable[Evaluation], x: str, y: str, metric: str = "sharpe", *, maximize: bool = True
) -> HeatMap:
    """The 2-parameter table of ``metric``; where other parameters vary, the best value of each cell."""
    best: dict[tuple[str, str], Decimal] = {}
    xs: dict[str, Any] = {}
    ys: dict[str, Any] = {}
    for evaluation in evaluations:
        xv, yv = evaluation.parameters[x], evaluation.parameters[y]
        xs.setdefault(str(xv), xv)
        ys.setdefault(str(yv), yv)
        value = evaluation.value(metric)
        key = (str(xv), str(yv))
        current = best.get(key)  # None until the cell has a defined value; ties keep the first
        if value is not None and (current is None or (value > current if maximize else value < current)):
            best[key] = value

    def order(values: dict[str, Any]) -> list[Any]:
        return sorted(values.values(), key=lambda v: Decimal(str(v)) if not isinstance(v, bool) else Decimal(int(v)))

    x_values, y_values = order(xs), order(ys)
    cells = [[best.get((str(xv), str(yv))) for xv in x_values] for yv in y_values]
    return HeatMap(x, y, metric, x_values, y_values, cells)
