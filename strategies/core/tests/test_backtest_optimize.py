"""Optimization: candidates validated by params, window arithmetic, ranking, heat map, walk-forward."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from strategies.core.backtest.engine import BacktestConfig
from strategies.core.backtest.optimize import (
    Evaluation,
    Window,
    evaluate,
    grid,
    heatmap,
    random_candidates,
    rank,
    search,
    walk_forward,
    walk_forward_windows,
)
from strategies.core.params import InvalidStrategyParameters
from trading.core.bars import Bar

D = Decimal
START = datetime(2026, 3, 2, tzinfo=UTC)


def zigzag(count: int) -> list[Bar]:
    """Daily bars whose close swings up and down in waves of varying length (many crosses)."""
    bars, price = [], D(100)
    for i in range(count):
        price += D(1) if (i // (5 + i % 3)) % 2 == 0 else D(-1)
        bars.append(Bar("Z", START + timedelta(days=i), price, price + 1, price - 1, price, D(1)))
    return bars


def ev(parameters: dict, **metrics) -> Evaluation:
    return Evaluation(parameters, {k: None if v is None else str(v) for k, v in metrics.items()}, 0, D(0), 0, 0)


def test_walk_forward_window_arithmetic() -> None:
    assert walk_forward_windows(100, train=40, test=20) == [
        Window(0, 0, 40, 40, 60),
        Window(1, 20, 60, 60, 80),
        Window(2, 40, 80, 80, 100),
    ]
    # A step shorter than the test overlaps the tests; the last window must fit entirely.
    assert [
        (w.train_start, w.test_start, w.test_stop) for w in walk_forward_windows(95, train=40, test=20, step=10)
    ] == [
        (0, 40, 60),
        (10, 50, 70),
        (20, 60, 80),
        (30, 70, 90),
    ]
    anchored = walk_forward_windows(100, train=40, test=20, anchored=True)
    assert [(w.train_start, w.train_stop, w.test_stop) for w in anchored] == [(0, 40, 60), (0, 60, 80), (0, 80, 100)]
    assert walk_forward_windows(59, train=40, test=20) == []
    assert list(Window(0, 0, 2, 2, 3).test) == [2]
    with pytest.raises(ValueError, match="at least one bar"):
        walk_forward_windows(100, train=0, test=10)


def test_grid_leaves_out_what_params_refuse() -> None:
    valid, invalid = grid(
        "SMA_CROSSOVER", {"fast_period": [5, 10, 20], "slow_period": [10, 20]}, fixed={"allow_short": True}
    )
    assert valid == [
        {"allow_short": True, "fast_period": 5, "slow_period": 10},
        {"allow_short": True, "fast_period": 5, "slow_period": 20},
        {"allow_short": True, "fast_period": 10, "slow_period": 20},
    ]
    assert [c.parameters["fast_period"] for c in invalid] == [10, 20, 20]
    assert invalid[0].errors == {"fast_period": ["The fast period (10) must be shorter than the slow period (10)."]}
    _, unknown = grid("SMA_CROSSOVER", {"fast": [1]})
    assert unknown[0].errors["fast"] == ["Unknown parameter for SMA_CROSSOVER."]


def test_random_candidates_are_distinct_seeded_and_bounded() -> None:
    space = {"fast_period": list(range(2, 12)), "slow_period": list(range(12, 32))}
    first, _ = random_candidates("SMA_CROSSOVER", space, 15, seed=3)
    again, _ = random_candidates("SMA_CROSSOVER", space, 15, seed=3)
    assert first == again and len(first) == 15
    assert len({(c["fast_period"], c["slow_period"]) for c in first}) == 15
    everything, _ = random_candidates("SMA_CROSSOVER", space, 10_000)
    assert len(everything) == 200


def test_rank_puts_undefined_last_and_keeps_ties() -> None:
    a, b, c, d = (
        ev({"n": 1}, sharpe="1.5"),
        ev({"n": 2}, sharpe=None),
        ev({"n": 3}, sharpe="2"),
        ev({"n": 4}, sharpe="1.5"),
    )
    assert rank([a, b, c, d]) == [c, a, d, b]
    assert rank([a, b, c, d], maximize=False) == [a, d, c, b]
    with pytest.raises(ValueError, match="Unknown metric"):
        rank([a], "luck")


def test_heatmap_table() -> None:
    evaluations = [
        ev({"fast_period": 5, "slow_period": 20, "allow_short": False}, sharpe="0.5"),
        ev({"fast_period": 5, "slow_period": 20, "allow_short": True}, sharpe="0.9"),  # same cell: the best
        ev({"fast_period": 10, "slow_period": 20, "allow_short": False}, sharpe="-0.2"),
        ev({"fast_period": 5, "slow_period": 30, "allow_short": False}, sharpe=None),
    ]
    table = heatmap(evaluations, "fast_period", "slow_period")
    assert (table.xs, table.ys) == ([5, 10], [20, 30])
    assert table.cells == [[D("0.9"), D("-0.2")], [None, None]]
    assert table.rows() == [["slow_period \\ fast_period", "5", "10"], ["20", "0.9000", "-0.2000"], ["30", "", ""]]


def test_evaluate_is_a_pure_call_on_a_window() -> None:
    bars = zigzag(120)
    one = evaluate("SMA_CROSSOVER", {"fast_period": 3, "slow_period": 8}, bars)
    assert one == evaluate("SMA_CROSSOVER", {"fast_period": "3", "slow_period": "8"}, bars)
    assert one.parameters["fast_period"] == 3 and one.bars == 120 and one.trades > 0
    assert one.value("sharpe") is not None and one.value("final_equity") == one.final_equity
    with pytest.raises(InvalidStrategyParameters):
        evaluate("SMA_CROSSOVER", {"fast_period": 9, "slow_period": 8}, bars)


def test_search_and_walk_forward() -> None:
    bars = zigzag(300)
    candidates, _ = grid("SMA_CROSSOVER", {"fast_period": [2, 3, 4], "slow_period": [6, 9]})
    ranked = search(bars, "SMA_CROSSOVER", candidates, metric="total_return")
    returns = [e.value("total_return") for e in ranked]
    assert returns == sorted(returns, reverse=True)

    windows = walk_forward_windows(len(bars), train=120, test=60)
    result = walk_forward(bars, "SMA_CROSSOVER", candidates, windows, BacktestConfig(), metric="total_return")
    assert [w.window.index for w in result.windows] == [0, 1, 2]
    for window_result in result.windows:
        window = window_result.window
        assert (
            window_result.best
            == search(bars[window.train_start : window.train_stop], "SMA_CROSSOVER", candidates, metric="total_return")[
                0
            ]
        )
        # The test run is warmed up on the bars before it but trades only inside it.
        warmup = max(window_result.best.parameters["slow_period"] + 1, 0)
        assert window_result.out_of_sample.bars == 60 + warmup
        assert window_result.candidates == 6
    assert result.as_dict()["windows"][0]["test"] == [120, 180]
    assert result.efficiency() is not None
