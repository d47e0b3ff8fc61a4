"""The optimizer's rules, one at a time, mostly on a recording evaluator (no backtest): what each window
trains and tests on, which config and metric reach the evaluator, the warm-up's bounds, ranking, the heat
map's cells and order, efficiency, and the JSON forms."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from strategies.core.backtest.engine import BacktestConfig, run_backtest
from strategies.core.backtest.optimize import (
    METRICS,
    Evaluation,
    HeatMap,
    InvalidCandidate,
    WalkForwardResult,
    Window,
    WindowResult,
    evaluate,
    heatmap,
    random_candidates,
    rank,
    search,
    walk_forward,
    walk_forward_windows,
)
from strategies.core.backtest.signals import strategy_generator
from strategies.core.params import params_dump
from trading.core.bars import Bar

D = Decimal
START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
SMA = "SMA_CROSSOVER"


def bars(count: int) -> list[Bar]:
    return [Bar("Z", START + timedelta(minutes=i), D(100), D(101), D(99), D(100), D(1)) for i in range(count)]


def ev(parameters: dict, final_equity: str = "0", **metrics: Any) -> Evaluation:
    return Evaluation(
        parameters, {k: None if v is None else str(v) for k, v in metrics.items()}, 0, D(final_equity), 0, 0
    )


class Recorder:
    """An evaluator that records its calls; a candidate's figures are its parameters ``sharpe`` and ``ret``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, list[Bar], BacktestConfig | None]] = []

    def __call__(self, strategy_type, parameters, window, config) -> Evaluation:
        self.calls.append((strategy_type, dict(parameters), list(window), config))
        return ev(dict(parameters), sharpe=parameters.get("sharpe"), total_return=parameters.get("ret"))


class Windowed:
    """A sized source that can only be cut through ``window`` (as ``FrameBars``), not sliced."""

    def __init__(self, items: list[Bar]) -> None:
        self.items = items

    def window(self, start: int, stop: int) -> list[Bar]:
        return self.items[start:stop]


# Evaluation and evaluate.


def test_evaluate_is_the_engine_run_in_plain_data() -> None:
    config = BacktestConfig(initial_cash=D(5000), not_shortable=frozenset({"Z"}))
    series = [Bar("Z", START + timedelta(days=i), p, p + 1, p - 1, p, D(1)) for i, p in enumerate(ZIGZAG)]
    parameters = {"fast_period": 2, "slow_period": 3, "allow_short": True}
    result = run_backtest(series, strategy_generator(SMA, parameters), config)
    evaluation = evaluate(SMA, parameters, series, config)
    assert result.run_log_total > 0  # the refused shorts
    assert evaluation == Evaluation(
        params_dump(strategy_generator(SMA, parameters).params),
        result.metrics.as_dict(),
        len(result.trades),
        result.final_equity,
        len(series),
        result.run_log_total,
    )


ZIGZAG = [D(p) for p in (100, 101, 102, 101, 100, 99, 100, 101, 102, 103, 102, 101, 100, 99, 98, 99, 100, 101)]


def test_evaluate_over_no_bar_has_no_metrics_and_keeps_the_cash() -> None:
    evaluation = evaluate(SMA, {"fast_period": 2, "slow_period": 3}, [], BacktestConfig(initial_cash=D(5000)))
    assert (evaluation.metrics, evaluation.final_equity, evaluation.bars, evaluation.trades) == ({}, D(5000), 0, 0)
    assert evaluation.value("sharpe") is None


def test_evaluation_json_form() -> None:
    evaluation = Evaluation({"fast_period": 2}, {"sharpe": "1.5"}, 3, D("10250.50"), 40, 2)
    assert evaluation.as_dict() == {
        "parameters": {"fast_period": 2},
        "metrics": {"sharpe": "1.5"},
        "trades": 3,
        "final_equity": "10250.50",
        "bars": 40,
        "refused": 2,
    }


# Candidates.


def test_random_candidates_default_to_seed_zero_and_draw_from_one() -> None:
    space = {"fast_period": list(range(2, 12)), "slow_period": list(range(12, 32))}
    assert random_candidates(SMA, space, 5) == random_candidates(SMA, space, 5, seed=0)
    assert random_candidates(SMA, space, 5) != random_candidates(SMA, space, 5, seed=1)
    one, _ = random_candidates(SMA, space, 1)
    assert len(one) == 1
    with pytest.raises(ValueError, match=re.escape("Draw at least one candidate, got 0.")):
        random_candidates(SMA, space, 0)


def test_random_candidates_cover_every_axis_of_the_grid() -> None:
    space = {"fast_period": [2, 3], "slow_period": [10, 20, 30]}
    everything, invalid = random_candidates(SMA, space, 6, fixed={"allow_short": True})
    assert invalid == []
    assert sorted((c["fast_period"], c["slow_period"], c["allow_short"]) for c in everything) == [
        (f, s, True) for f in (2, 3) for s in (10, 20, 30)
    ]


# Ranking.


def test_rank_by_final_equity_and_the_unknown_metric_message() -> None:
    a, b = ev({"n": 1}, final_equity="900"), ev({"n": 2}, final_equity="1100")
    assert rank([a, b], "final_equity") == [b, a]
    message = f"Unknown metric 'luck'; choose one of {', '.join(METRICS)} or final_equity."
    with pytest.raises(ValueError, match=re.escape(message)):
        rank([a], "luck")


def test_rank_keeps_the_order_of_undefined_figures() -> None:
    a, b, c = ev({"n": 1}, sharpe=None), ev({"n": 2}, sharpe="1"), ev({"n": 3}, sharpe=None)
    assert rank([a, b, c]) == [b, a, c]
    assert rank([c, b, a], maximize=False) == [b, c, a]


def test_search_ranks_by_sharpe_unless_told_and_passes_the_config_on() -> None:
    config = BacktestConfig(initial_cash=D(777))
    candidates = [{"sharpe": "1", "ret": "3"}, {"sharpe": "2", "ret": "1"}, {"sharpe": "3", "ret": "2"}]
    recorder = Recorder()
    ranked = search(bars(3), SMA, candidates, config, evaluator=recorder)
    assert [e.parameters["sharpe"] for e in ranked] == ["3", "2", "1"]
    assert [(call[0], call[2], call[3]) for call in recorder.calls] == [(SMA, bars(3), config)] * 3
    lowest_return = search(bars(3), SMA, candidates, config, metric="total_return", maximize=False, evaluator=recorder)
    assert [e.parameters["ret"] for e in lowest_return] == ["1", "2", "3"]


# Walk-forward windows.


def test_windows_of_one_bar_are_allowed_and_zero_is_refused() -> None:
    assert walk_forward_windows(3, train=1, test=1, step=1) == [Window(0, 0, 1, 1, 2), Window(1, 1, 2, 2, 3)]
    message = re.escape("train, test and step must each be at least one bar.")
    for sizes in (
        {"train": 0, "test": 1},
        {"train": 1, "test": 0},
        {"train": 1, "test": 1, "step": 0},
        {"train": 1, "test": 0, "step": 1},
    ):
        with pytest.raises(ValueError, match=f"^{message}$"):
            walk_forward_windows(10, **sizes)


def test_window_ranges() -> None:
    window = Window(0, 1, 3, 3, 5)
    assert (list(window.train), list(window.test)) == ([1, 2], [3, 4])


# Walk-forward.


def test_walk_forward_trains_and_tests_each_window_as_told() -> None:
    series = bars(10)
    config = BacktestConfig(initial_cash=D(777))
    windows = walk_forward_windows(10, train=4, test=2, step=3)  # trains on [0, 4) and [3, 7)
    candidates = [{"sharpe": "1", "ret": "3"}, {"sharpe": "2", "ret": "1"}]
    recorder = Recorder()
    result = walk_forward(
        series, SMA, candidates, windows, config, metric="total_return", maximize=False, warmup=2, evaluator=recorder
    )
    assert [w.best.parameters for w in result.windows] == [candidates[1]] * 2  # the lowest return
    assert [w.candidates for w in result.windows] == [2, 2]
    assert [(call[1], call[2], call[3]) for call in recorder.calls] == [
        (candidates[0], series[0:4], config),
        (candidates[1], series[0:4], config),
        (candidates[1], series[2:6], replace(config, trade_from=series[4].minute)),
        (candidates[0], series[3:7], config),
        (candidates[1], series[3:7], config),
        (candidates[1], series[5:9], replace(config, trade_from=series[7].minute)),
    ]


def test_walk_forward_defaults_to_sharpe_and_the_default_config() -> None:
    candidates = [{"sharpe": "1", "ret": "3"}, {"sharpe": "2", "ret": "1"}]
    recorder = Recorder()
    result = walk_forward(bars(6), SMA, candidates, [Window(0, 0, 4, 4, 6)], warmup=0, evaluator=recorder)
    assert result.metric == "sharpe" and result.windows[0].best.parameters == candidates[1]
    assert [call[3] for call in recorder.calls] == [BacktestConfig()] * 2 + [
        BacktestConfig(trade_from=bars(6)[4].minute)
    ]


def test_the_warmup_is_cut_to_the_training_window_and_never_negative() -> None:
    series = bars(12)
    window = Window(0, 3, 6, 6, 8)

    def tested(warmup: int | None, candidate: dict) -> list[Bar]:
        recorder = Recorder()
        walk_forward(series, SMA, [candidate], [window], warmup=warmup, evaluator=recorder)
        return recorder.calls[-1][2]

    assert tested(0, {}) == series[6:8]
    assert tested(-5, {}) == series[6:8]
    assert tested(2, {}) == series[4:8]
    assert tested(10, {}) == series[3:8]  # at most the 3 training bars
    # Without a warmup, the generator's own: a crossover of 2 and 3 needs 4 bars, cut to 3.
    assert strategy_generator(SMA, {"fast_period": 2, "slow_period": 3}).warmup_bars > 3
    assert tested(None, {"fast_period": 2, "slow_period": 3}) == series[3:8]


def test_walk_forward_cuts_a_sized_source_through_its_window_method() -> None:
    series = bars(8)
    recorder = Recorder()
    walk_forward(Windowed(series), SMA, [{}], [Window(0, 1, 4, 4, 6)], warmup=1, evaluator=recorder)
    assert [call[2] for call in recorder.calls] == [series[1:4], series[3:6]]
    assert recorder.calls[-1][3].trade_from == series[4].minute


# Efficiency and the JSON form.


def result_of(*pairs: tuple[str | None, str | None], metric: str = "sharpe") -> WalkForwardResult:
    windows = [
        WindowResult(Window(i, 0, 1, 1, 2), ev({}, sharpe=inside), ev({}, sharpe=outside), 1)
        for i, (inside, outside) in enumerate(pairs)
    ]
    return WalkForwardResult(metric, windows, [])


def test_efficiency_is_mean_out_over_mean_in_over_the_windows_where_both_are_defined() -> None:
    assert result_of(("2", "1"), (None, "5"), ("3", None), ("2", "2")).efficiency() == D("0.75")
    assert result_of(("1", "3")).efficiency() == D(3)
    assert result_of(("0.5", "2")).efficiency() == D(4)
    assert result_of(("1", "2"), ("-1", "5")).efficiency() is None  # no in-sample figure to divide by
    assert result_of((None, "1")).efficiency() is None
    assert result_of().efficiency() is None


def test_walk_forward_json_form() -> None:
    window = Window(0, 2, 6, 6, 8)
    best = Evaluation({"fast_period": 2}, {"sharpe": "2", "total_pnl": "5.5"}, 1, D(10005), 4, 0)
    out = Evaluation({"fast_period": 2}, {"sharpe": "1", "total_pnl": "-1.25"}, 1, D(9999), 3, 1)
    invalid = InvalidCandidate({"fast_period": 9}, {"fast_period": ["too slow"]})
    result = WalkForwardResult("sharpe", [WindowResult(window, best, out, 3)], [invalid])
    assert result.as_dict() == {
        "metric": "sharpe",
        "out_of_sample_pnl": "-1.25",
        "efficiency": "0.5",
        "windows": [
            {
                "index": 0,
                "train": [2, 6],
                "test": [6, 8],
                "candidates": 3,
                "best": best.as_dict(),
                "out_of_sample": out.as_dict(),
            }
        ],
        "invalid": [{"parameters": {"fast_period": 9}, "errors": {"fast_period": ["too slow"]}}],
    }
    assert result_of((None, None)).as_dict()["efficiency"] is None
    assert result_of((None, None)).as_dict()["out_of_sample_pnl"] == "0"
    assert type(WalkForwardResult("sharpe", [], []).out_of_sample_pnl) is Decimal


# Heat map.


def test_a_cell_keeps_its_best_value_and_the_first_of_equal_ones() -> None:
    def cell(values: list[str | None], maximize: bool = True) -> Decimal | None:
        evaluations = [ev({"a": 1, "b": 1, "other": i}, sharpe=v) for i, v in enumerate(values)]
        return heatmap(evaluations, "a", "b", maximize=maximize).cells[0][0]

    assert cell(["0.9", "0.5"]) == D("0.9")
    assert cell(["0.5", "0.9"]) == D("0.9")
    assert cell(["0.5", "0.9"], maximize=False) == D("0.5")
    assert cell(["0.9", "0.5"], maximize=False) == D("0.5")
    assert cell([None, "0.5", None]) == D("0.5")
    assert cell([None, None]) is None
    assert str(cell(["0.5", "0.50"])) == "0.5"
    assert str(cell(["0.5", "0.50"], maximize=False)) == "0.5"


def test_heat_map_axes_sort_by_value_with_decimal_strings_and_booleans() -> None:
    evaluations = [
        ev({"stop": "10.5", "allow_short": True}, total_return="1"),
        ev({"stop": "9.5", "allow_short": False}, total_return="2"),
        ev({"stop": "10.5", "allow_short": False}, total_return="3"),
    ]
    table = heatmap(evaluations, "stop", "allow_short", "total_return")
    assert (table.x, table.y, table.metric) == ("stop", "allow_short", "total_return")
    assert (table.xs, table.ys) == (["9.5", "10.5"], [False, True])
    assert table.cells == [[D(2), D(3)], [None, D(1)]]
    assert table.as_dict() == {
        "x": "stop",
        "y": "allow_short",
        "metric": "total_return",
        "xs": ["9.5", "10.5"],
        "ys": ["False", "True"],
        "cells": [["2", "3"], [None, "1"]],
    }


def test_a_heat_map_with_a_row_per_y_value_missing_cannot_be_printed() -> None:
    with pytest.raises(ValueError):
        HeatMap("a", "b", "sharpe", [1], [1, 2], [[D(1)]]).rows()
