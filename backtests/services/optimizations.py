"""Optimizations: candidates fanned out as tasks, each evaluated alone, the last one ranking them all.

A cancel ends a queued or running optimization at once: candidates not yet started are skipped by their
tasks, one being evaluated stops before its next walk-forward window, and nothing is ranked.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backtests import sources
from backtests.conventions import config_build
from backtests.events import backtest_optimization_finished_event, backtest_optimization_requested_event
from backtests.models import Candidate, Optimization, Status
from backtests.push import OPTIMIZATION_PROGRESS, progress_push
from backtests.services.common import (
    InvalidBacktest,
    data_spec_check,
    frame_load,
    no_bars_error,
    settings_check,
    task_dispatch,
)
from strategies.core.backtest import strategy_generator
from strategies.core.backtest.data import InvalidOhlcvData
from strategies.core.backtest.optimize import (
    METRICS,
    Evaluation,
    WalkForwardResult,
    Window,
    WindowResult,
    evaluate,
    grid,
    heatmap,
    random_candidates,
    rank,
    walk_forward_windows,
)
from strategies.core.generators import STRATEGY_TYPES

OPTIMIZATION_START_TASK = "backtests.tasks.optimization_start_task"
MAX_CANDIDATES = 400
MAX_VALUES_PER_PARAMETER = 50


# ---- optimizations -------------------------------------------------------------------------------------------------


def optimization_create(*, owner: Any, data: Mapping[str, Any]) -> Optimization:
    """Check the search, store it with its candidates (QUEUED) and fan the runs out once committed."""
    strategy_type = data["strategy_type"]
    info = STRATEGY_TYPES.get(strategy_type)
    if info is None or info.generator is None:
        raise InvalidBacktest({"strategy_type": ["Choose a type with a built-in generator."]})
    space: dict[str, list[Any]] = dict(data["space"])
    fixed = dict(data.get("fixed") or {})
    errors: dict[str, Any] = {}
    for name, values in space.items():
        if not isinstance(values, list) or not values or len(values) > MAX_VALUES_PER_PARAMETER:
            errors.setdefault("space", {})[name] = [f"Give a list of 1 to {MAX_VALUES_PER_PARAMETER} values."]
    if errors:
        raise InvalidBacktest(errors)
    metric = data.get("metric") or "sharpe"
    if metric not in (*METRICS, "final_equity"):
        raise InvalidBacktest({"metric": [f"Choose one of {', '.join((*METRICS, 'final_equity'))}."]})
    method = data.get("method") or Optimization.Method.GRID
    combinations = 1
    for values in space.values():
        combinations *= len(values)
    if method == Optimization.Method.GRID and combinations > MAX_CANDIDATES:
        raise InvalidBacktest({"space": [f"{combinations} combinations; a grid may hold {MAX_CANDIDATES}."]})
    samples = data.get("samples")
    if method == Optimization.Method.RANDOM:
        samples = min(samples or 20, MAX_CANDIDATES)
        valid, invalid = random_candidates(strategy_type, space, samples, seed=data.get("seed") or 0, fixed=fixed)
    else:
        valid, invalid = grid(strategy_type, space, fixed=fixed)
    if not valid:
        listed = [f"{c.parameters}: {c.errors}" for c in invalid[:5]]
        raise InvalidBacktest({"space": ["No combination is valid for this strategy type.", *listed]})
    names = list(space)
    heat_x = data.get("heatmap_x") or (names[0] if names else "")
    heat_y = data.get("heatmap_y") or (names[1] if len(names) > 1 else "")
    for field, name in (("heatmap_x", heat_x), ("heatmap_y", heat_y)):
        if name and name not in space:
            errors[field] = ["Name a parameter of the search space."]
    walk = dict(data.get("walk_forward") or {})
    if walk and walk.get("train") is None:
        errors["walk_forward"] = {"train": ["This field is required."]}
    if walk and walk.get("test") is None:
        errors.setdefault("walk_forward", {})["test"] = ["This field is required."]
    if errors:
        raise InvalidBacktest(errors)
    spec = data_spec_check(owner=owner, data=data)
    settings_data = dict(data.get("settings") or {})
    settings_check(settings_data)
    with transaction.atomic():
        optimization = Optimization.objects.create(
            owner=owner,
            name=data.get("name") or "",
            strategy_type=strategy_type,
            method=method,
            space=space,
            fixed=fixed,
            samples=samples if method == Optimization.Method.RANDOM else None,
            seed=data.get("seed") or 0,
            metric=metric,
            maximize=data.get("maximize", metric not in ("max_drawdown", "volatility", "max_drawdown_duration_days")),
            walk_forward=walk,
            heatmap_x=heat_x,
            heatmap_y=heat_y,
            source=spec.source,
            sample=spec.sample,
            symbol=spec.symbol,
            dataset=spec.dataset,
            start=spec.start,
            end=spec.end,
            settings=settings_data,
            candidates_total=len(valid),
            invalid=[{"parameters": c.parameters, "errors": c.errors} for c in invalid],
        )
        Candidate.objects.bulk_create(
            Candidate(optimization=optimization, index=index, parameters=parameters)
            for index, parameters in enumerate(valid)
        )
        backtest_optimization_requested_event(optimization=optimization)
        transaction.on_commit(lambda: task_dispatch(OPTIMIZATION_START_TASK, optimization.pk))
    return optimization


def optimization_start(*, optimization_id: int) -> list[int]:
    """QUEUED -> RUNNING; the candidates' indices to evaluate (empty when it already started)."""
    with transaction.atomic():
        optimization = Optimization.objects.select_for_update().get(pk=optimization_id)
        if optimization.status != Status.QUEUED:
            return []
        optimization.status = Status.RUNNING
        optimization.save(update_fields=["status"])
    return list(optimization.candidates.order_by("index").values_list("index", flat=True))


@lru_cache(maxsize=4)
def _optimization_data(optimization_id: int) -> tuple[Any, timedelta]:
    """The bars of an optimization, loaded once per process (every candidate reads the same ones)."""
    o = Optimization.objects.get(pk=optimization_id)
    frame = frame_load(
        source=o.source, sample=o.sample, symbol=o.symbol, dataset_id=o.dataset_id, start=o.start, end=o.end
    )
    if frame.empty:
        raise no_bars_error()
    return sources.frame_bars(frame, o.symbol), sources.bar_interval(frame)


def _windows(optimization: Optimization, bars: int) -> list[Window]:
    walk = optimization.walk_forward
    if not walk:
        return []
    return walk_forward_windows(
        bars, train=walk["train"], test=walk["test"], step=walk.get("step"), anchored=bool(walk.get("anchored"))
    )


def _first_minute(bars: Any, index: int) -> datetime:
    return next(iter(bars.window(index, index + 1))).minute  # type: ignore[no-any-return]


def candidate_evaluate(*, optimization_id: int, index: int) -> None:
    """One candidate over the whole period and over each walk-forward window (in sample, then out of sample)."""
    optimization = Optimization.objects.get(pk=optimization_id)
    candidate = Candidate.objects.get(optimization_id=optimization_id, index=index)
    if candidate.done or optimization.status != Status.RUNNING:
        return
    running = Optimization.objects.filter(pk=optimization_id, status=Status.RUNNING)
    try:
        bars, interval = _optimization_data(optimization_id)
        config = config_build(optimization.settings, bar_interval=interval, total_bars=len(bars))
        kind = optimization.strategy_type
        whole = evaluate(kind, candidate.parameters, bars, config)
        windows = []
        warmup = strategy_generator(kind, candidate.parameters).warmup_bars
        for window in _windows(optimization, len(bars)):
            if not running.exists():
                return  # canceled meanwhile: what this candidate found is dropped
            train = evaluate(kind, candidate.parameters, bars.window(window.train_start, window.train_stop), config)
            lead = max(0, min(warmup, window.test_start - window.train_start))
            test_config = config_build(
                optimization.settings,
                bar_interval=interval,
                total_bars=window.test_stop - window.test_start + lead,
                trade_from=_first_minute(bars, window.test_start),
            )
            test = evaluate(
                kind, candidate.parameters, bars.window(window.test_start - lead, window.test_stop), test_config
            )
            windows.append({"index": window.index, "in_sample": train.as_dict(), "out_of_sample": test.as_dict()})
        evaluation, error = whole.as_dict(), ""
    except (InvalidOhlcvData, ValueError) as failure:
        evaluation, windows, error = None, [], str(failure)[:1000]
    Candidate.objects.filter(pk=candidate.pk, done=False).update(
        evaluation=evaluation, windows=windows, error=error, done=True
    )
    _candidate_done(optimization_id)


def _candidate_done(optimization_id: int) -> None:
    with transaction.atomic():
        Optimization.objects.filter(pk=optimization_id).update(candidates_done=F("candidates_done") + 1)
        optimization = Optimization.objects.select_for_update().select_related("owner").get(pk=optimization_id)
        if optimization.candidates_done >= optimization.candidates_total and optimization.status == Status.RUNNING:
            _optimization_finish(optimization)
        _progress_push_on_commit(optimization)


def _progress_push_on_commit(optimization: Optimization) -> None:
    owner_id = optimization.owner_id
    payload = {
        "optimization_id": optimization.pk,
        "status": optimization.status,
        "candidates_done": optimization.candidates_done,
        "candidates_total": optimization.candidates_total,
        "progress": round(optimization.progress, 4),
    }
    transaction.on_commit(lambda: progress_push(owner_id=owner_id, kind=OPTIMIZATION_PROGRESS, payload=payload))


def optimization_cancel(*, optimization: Optimization) -> Optimization:
    """A queued or running optimization ends at once, unranked; a finished one stays as it is (its status says so)."""
    with transaction.atomic():
        locked = Optimization.objects.select_for_update().select_related("owner").get(pk=optimization.pk)
        if locked.status in (Status.QUEUED, Status.RUNNING):
            locked.status = Status.CANCELED
            locked.finished_at = timezone.now()
            locked.save(update_fields=["status", "finished_at"])
            backtest_optimization_finished_event(optimization=locked)
            _progress_push_on_commit(locked)
    return locked


def _evaluation(document: Mapping[str, Any]) -> Evaluation:
    return Evaluation(
        parameters=document["parameters"],
        metrics=document["metrics"],
        trades=document["trades"],
        final_equity=Decimal(document["final_equity"]),
        bars=document["bars"],
        refused=document["refused"],
    )


def _mean(values: list[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) / len(known) if known else None


def _optimization_finish(optimization: Optimization) -> None:
    """Rank the candidates, pick each window's best in sample with its out-of-sample run, and the heat map."""
    metric, maximize = optimization.metric, optimization.maximize
    candidates = [c for c in optimization.candidates.order_by("index") if c.evaluation is not None]
    failed = [{"parameters": c.parameters, "error": c.error} for c in optimization.candidates.exclude(error="")]
    evaluations = [_evaluation(c.evaluation) for c in candidates]  # type: ignore[arg-type]
    ranked = rank(evaluations, metric, maximize=maximize)
    position = {id(e): i for i, e in enumerate(evaluations)}
    ranking = []
    for place, evaluation in enumerate(ranked, start=1):
        candidate = candidates[position[id(evaluation)]]
        outside = [_evaluation(w["out_of_sample"]) for w in candidate.windows]
        mean = _mean([e.value(metric) for e in outside])
        ranking.append(
            {
                "rank": place,
                "candidate": candidate.index,
                "parameters": evaluation.parameters,
                "value": None if evaluation.value(metric) is None else str(evaluation.value(metric)),
                "evaluation": evaluation.as_dict(),
                "out_of_sample": {
                    "windows": len(outside),
                    "mean": None if mean is None else str(mean),
                    "total_pnl": str(sum((Decimal(e.metrics.get("total_pnl") or 0) for e in outside), Decimal(0))),
                    "trades": sum(e.trades for e in outside),
                },
            }
        )
    walk = None
    windows_count = len(candidates[0].windows) if candidates else 0
    if windows_count:
        bars, _ = _optimization_data(optimization.pk)
        windows = _windows(optimization, len(bars))
        results = []
        for k, window in enumerate(windows[:windows_count]):
            inside = [_evaluation(c.windows[k]["in_sample"]) for c in candidates]
            best = rank(inside, metric, maximize=maximize)[0]
            chosen = candidates[inside.index(best)]
            results.append(WindowResult(window, best, _evaluation(chosen.windows[k]["out_of_sample"]), len(candidates)))
        walk = WalkForwardResult(metric, results, []).as_dict()
    heat = None
    if optimization.heatmap_x and optimization.heatmap_y and evaluations:
        heat = heatmap(evaluations, optimization.heatmap_x, optimization.heatmap_y, metric, maximize=maximize).as_dict()
    optimization.ranking = ranking
    optimization.walk_forward_result = walk
    optimization.heatmap = heat
    optimization.status = Status.COMPLETED if candidates else Status.FAILED
    optimization.error = "; ".join(f"{f['parameters']}: {f['error']}" for f in failed)[:1000]
    optimization.finished_at = timezone.now()
    optimization.save()
    backtest_optimization_finished_event(optimization=optimization)


def candidate_fail(*, optimization_id: int, index: int, message: str) -> None:
    """A candidate whose task crashed counts as done with its error, so the optimization still finishes."""
    updated = Candidate.objects.filter(optimization_id=optimization_id, index=index, done=False).update(
        error=message[:1000], done=True
    )
    if updated:
        _candidate_done(optimization_id)
