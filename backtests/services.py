"""Writes of the backtester: datasets uploaded, backtests and optimizations asked for, run, canceled.

A run is a Celery task (``backtests.tasks``) that calls ``backtest_run``: it loads the bars, builds the
generator (or the recorded signals) and the config, then hands everything to the pure engine
(``strategies.core.backtest``), which loops over the bars with no Django in it. The only calls back
out of the loop are the progress and cancel callbacks, every ``progress_every`` bars (about 2 % of
the run): they write the progress, push it to the owner's browsers and read the cancel flag.

On the embedded default (``BACKTESTS_IN_THREAD``) the task runs in a thread of the web process, so a
request returns at once and the page sees the progress live, as it does from a worker on the real stack.
"""

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pandas as pd
from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from backtests import sources
from backtests.conventions import config_build
from backtests.models import FINISHED, Backtest, Candidate, Dataset, Optimization, Source, Status
from backtests.push import BACKTEST_PROGRESS, OPTIMIZATION_PROGRESS, progress_push
from backtests.selectors import stored_bars_exist
from strategies import selectors as strategy_selectors
from strategies.core.backtest import ExternalSignal, external_signals, strategy_generator
from strategies.core.backtest import run_backtest as core_run
from strategies.core.backtest.compare import compare_fills
from strategies.core.backtest.data import DataProblem, InvalidOhlcvData, OhlcvReport
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
from strategies.core.metrics import TradeFill
from strategies.core.params import params_dump, params_validate
from strategies.models import Strategy
from trading.core.orders import Side
from trading.events import EventType, event_record
from trading.marketdata.history import bar_rows
from trading.selectors import strategy_fills

logger = logging.getLogger(__name__)

BACKTEST_RUN_TASK = "backtests.tasks.backtest_run_task"
OPTIMIZATION_START_TASK = "backtests.tasks.optimization_start_task"
EXTERNAL_AI = "EXTERNAL_AI"
MAX_CANDIDATES = 400
MAX_VALUES_PER_PARAMETER = 50


class InvalidBacktest(ValueError):
    """Input the backtester refuses: ``errors`` maps each field to its sentences (a 400 ``invalid``)."""

    def __init__(self, errors: dict[str, Any]) -> None:
        self.errors = errors
        super().__init__(f"Invalid backtest: {errors}")


# ---- running a task: on a worker, or in a thread of the web process on the embedded default ----------------------


def _in_thread(task: Any, args: tuple) -> None:
    try:
        task.apply(args=args)
    except Exception:
        logger.exception("backtest task %s%r failed", task.name, args)
    finally:
        connections.close_all()


def _dispatch(task_name: str, *args: Any) -> None:
    task = current_app.tasks[task_name]
    if settings.BACKTESTS_IN_THREAD:
        threading.Thread(target=_in_thread, args=(task, args), name=f"backtest-{args[0]}", daemon=True).start()
    else:
        task.delay(*args)


# ---- data ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSpec:
    source: str
    symbol: str
    sample: str = ""
    dataset: Dataset | None = None
    start: datetime | None = None
    end: datetime | None = None


def data_spec_check(*, owner: Any, data: Mapping[str, Any]) -> DataSpec:
    """Where the bars come from, checked: the sample exists, the dataset is the owner's, stored bars exist."""
    errors: dict[str, list[str]] = {}
    source = data["source"]
    start, end = data.get("start"), data.get("end")
    if start is not None and end is not None and start >= end:
        errors["end"] = ["Give an end later than the start."]
    symbol = data.get("symbol") or ""
    sample, dataset = "", None
    if source == Source.SAMPLE:
        sample = data.get("sample") or "GOOG"
        if sample not in sources.SAMPLE_NAMES:
            errors["sample"] = [f"Choose one of {', '.join(sources.SAMPLE_NAMES)}."]
        symbol = symbol or sample
    elif source == Source.DATASET:
        dataset_id = data.get("dataset_id")
        dataset = Dataset.objects.filter(pk=dataset_id, owner=owner).first() if dataset_id else None
        if dataset is None:
            errors["dataset_id"] = ["Give the id of one of your datasets." if dataset_id else "This field is required."]
        else:
            symbol = symbol or dataset.symbol
    elif source == Source.BARS:
        if not symbol:
            errors["symbol"] = ["Name the symbol whose stored 1-minute bars to replay."]
        elif not errors and not stored_bars_exist(symbol=symbol, start=start, end=end):
            errors["symbol"] = [f"No stored bars of {symbol} in that period."]
    if errors:
        raise InvalidBacktest(errors)
    return DataSpec(source=source, symbol=symbol, sample=sample, dataset=dataset, start=start, end=end)


def frame_load(
    *, source: str, sample: str, symbol: str, dataset_id: int | None, start: datetime | None, end: datetime | None
) -> pd.DataFrame:
    """The bars of a run as a frame, cut to [start, end)."""
    if source == Source.SAMPLE:
        return sources.frame_period(sources.sample_load(sample), start, end)
    if source == Source.DATASET:
        dataset = Dataset.objects.filter(pk=dataset_id).first()
        if dataset is None:
            raise ValueError("The dataset was deleted.")
        frame = sources.dataset_frame(bytes(dataset.content), dataset.file_format)
        return sources.frame_period(frame, start, end)
    return sources.rows_frame(bar_rows(symbol=symbol, since=start, until=end))


def _no_bars() -> InvalidOhlcvData:
    return InvalidOhlcvData(OhlcvReport(rows=0, problems=(DataProblem("empty", "No bars in the period."),)))


# ---- datasets ------------------------------------------------------------------------------------------------------


def _format_of(filename: str, content: bytes) -> str:
    if filename.lower().endswith((".parquet", ".pq")) or content[:4] == sources.PARQUET_MAGIC:
        return Dataset.Format.PARQUET
    return Dataset.Format.CSV


def dataset_upload(*, owner: Any, name: str, symbol: str, filename: str, content: bytes) -> Dataset:
    """Validate an upload with the core's rules and keep it; raises InvalidOhlcvData (nothing stored) otherwise."""
    file_format = _format_of(filename, content)
    try:
        report = sources.dataset_validate(content, file_format)
    except Exception as error:  # an unreadable file of any kind is bad input, not a server error
        what = "Parquet" if file_format == Dataset.Format.PARQUET else "CSV"
        problem = DataProblem("unreadable", f"The file is not a readable {what} file: {str(error)[:200]}")
        raise InvalidOhlcvData(OhlcvReport(rows=0, problems=(problem,))) from error
    if not report.ok:
        raise InvalidOhlcvData(report)
    if report.rows == 0 or report.start is None or report.end is None:
        raise InvalidOhlcvData(OhlcvReport(rows=0, problems=(DataProblem("empty", "The file holds no rows."),)))
    with transaction.atomic():
        dataset = Dataset.objects.create(
            owner=owner,
            name=name or filename or symbol,
            symbol=symbol,
            file_format=file_format,
            content=content,
            rows=report.rows,
            start=report.start,
            end=report.end,
            report={k: v for k, v in report.as_dict().items() if k != "problems"},
        )
        event_record(
            type=EventType.BACKTEST_DATASET_UPLOADED,
            actor=owner.get_username(),
            payload={"dataset_id": dataset.pk, "symbol": symbol, "rows": report.rows, "user_id": owner.pk},
        )
    return dataset


# ---- backtests -----------------------------------------------------------------------------------------------------


def _settings_check(settings_data: Mapping[str, Any]) -> None:
    try:
        config_build(settings_data, bar_interval=sources.MINUTE)
    except ValueError as error:
        raise InvalidBacktest({"non_field_errors": [str(error)]}) from error


def _strategy_check(*, owner: Any, strategy_id: int | None, strategy_type: str) -> Strategy | None:
    if strategy_id is None:
        if strategy_type == EXTERNAL_AI:
            raise InvalidBacktest({"strategy_id": ["Name the EXTERNAL_AI strategy whose recorded signals to replay."]})
        return None
    strategy = strategy_selectors.strategy_for_user(user=owner, strategy_id=strategy_id)
    if strategy is None:
        raise InvalidBacktest({"strategy_id": [f"You have no strategy {strategy_id}."]})
    return strategy


def _parameters_check(strategy_type: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    if strategy_type == EXTERNAL_AI:
        if parameters:
            raise InvalidBacktest({"parameters": {"non_field_errors": ["EXTERNAL_AI takes no parameters."]}})
        return {}
    params, errors = params_validate(strategy_type, dict(parameters))
    if errors:
        raise InvalidBacktest({"parameters": errors})
    assert params is not None
    return params_dump(params)


def backtest_create(*, owner: Any, data: Mapping[str, Any], dispatch: bool = True) -> Backtest:
    """Check the request, store the backtest (QUEUED) and send it to a worker once committed.

    ``dispatch=False`` leaves it QUEUED for the caller to run (``manage.py backtest`` runs it in its own process).
    """
    strategy_type = data["strategy_type"]
    if strategy_type not in STRATEGY_TYPES:
        raise InvalidBacktest({"strategy_type": [f"Choose one of {', '.join(STRATEGY_TYPES)}."]})
    parameters = _parameters_check(strategy_type, data.get("parameters") or {})
    strategy = _strategy_check(owner=owner, strategy_id=data.get("strategy_id"), strategy_type=strategy_type)
    spec = data_spec_check(owner=owner, data=data)
    settings_data = dict(data.get("settings") or {})
    _settings_check(settings_data)
    with transaction.atomic():
        backtest = Backtest.objects.create(
            owner=owner,
            name=data.get("name") or "",
            strategy_type=strategy_type,
            parameters=parameters,
            strategy=strategy,
            source=spec.source,
            sample=spec.sample,
            symbol=spec.symbol,
            dataset=spec.dataset,
            start=spec.start,
            end=spec.end,
            settings=settings_data,
        )
        event_record(
            type=EventType.BACKTEST_REQUESTED,
            actor=owner.get_username(),
            payload={"backtest_id": backtest.pk, "strategy_type": strategy_type, "user_id": owner.pk},
        )
        if dispatch:
            transaction.on_commit(lambda: _dispatch(BACKTEST_RUN_TASK, backtest.pk))
    return backtest


def backtest_cancel(*, backtest: Backtest) -> Backtest:
    """A queued run ends at once; a running one stops at its next check (within about 2 % of its bars).

    Canceling a running run a second time ends it at once: its process may be gone (a web process
    restarted on the embedded default), and whatever it would still write is then dropped. Canceling
    a finished run changes nothing (and says so by its status).
    """
    with transaction.atomic():
        locked = Backtest.objects.select_for_update().select_related("owner").get(pk=backtest.pk)
        if locked.status == Status.QUEUED or (locked.status == Status.RUNNING and locked.cancel_requested):
            locked.cancel_requested = True
            _finish(locked, Status.CANCELED)
        elif locked.status == Status.RUNNING:
            locked.cancel_requested = True
            locked.save(update_fields=["cancel_requested"])
    return locked


def _finish(backtest: Backtest, status: str, error: str = "") -> None:
    backtest.status = status
    backtest.error = error[:1000]
    backtest.finished_at = timezone.now()
    backtest.save()
    event_record(
        type=EventType.BACKTEST_FINISHED,
        severity="WARNING" if status == Status.FAILED else "INFO",
        actor=backtest.owner.get_username(),
        payload={
            "backtest_id": backtest.pk,
            "status": status,
            "final_equity": backtest.summary.get("final_equity"),
            "error": backtest.error,
            "user_id": backtest.owner_id,
        },
    )
    owner_id, payload = backtest.owner_id, _progress_payload(backtest)
    transaction.on_commit(lambda: progress_push(owner_id=owner_id, kind=BACKTEST_PROGRESS, payload=payload))


def _progress_payload(backtest: Backtest) -> dict[str, Any]:
    return {
        "backtest_id": backtest.pk,
        "status": backtest.status,
        "bars_done": backtest.bars_done,
        "bars_total": backtest.bars_total,
        "progress": round(backtest.progress, 4),
    }


def _signals(backtest: Backtest, start: datetime | None, end: datetime | None) -> list[ExternalSignal]:
    assert backtest.strategy_id is not None
    records = strategy_selectors.signal_records(strategy_id=backtest.strategy_id, since=start, until=end)
    return external_signals(r for r in records if r["symbol"] == backtest.symbol)


def _live_fills(strategy_id: int, start: datetime, end: datetime) -> list[TradeFill]:
    return [
        TradeFill(
            symbol=row["symbol"],
            at=row["at"],
            side=Side(row["side"]),
            quantity=row["quantity"],
            price=row["price"],
            commission=row["commission"],
        )
        for row in strategy_fills(strategy_id=strategy_id, since=start, until=end)
    ]


def _start(backtest_id: int) -> Backtest | None:
    """QUEUED -> RUNNING; None when there is nothing to run (it finished, or was canceled).

    A RUNNING run is run again from its start: the task is delivered again only when the worker
    running it died (tasks are acknowledged late), and a run always gives the same result.
    """
    with transaction.atomic():
        backtest = Backtest.objects.select_for_update().select_related("owner").get(pk=backtest_id)
        if backtest.status in FINISHED:
            return None
        if backtest.status == Status.RUNNING:
            logger.warning("backtest %s was running when its task came again: running it again", backtest_id)
        if backtest.cancel_requested:
            _finish(backtest, Status.CANCELED)
            return None
        backtest.status = Status.RUNNING
        backtest.started_at = timezone.now()
        backtest.save(update_fields=["status", "started_at"])
    return backtest


ProgressObserver = Callable[[int, int | None], None]


def backtest_run(*, backtest_id: int, observer: ProgressObserver | None = None) -> Backtest | None:
    """Run a QUEUED backtest to its end (what the task calls); ``observer(done, total)`` sees the progress too."""
    backtest = _start(backtest_id)
    if backtest is None:
        return None
    owner_id = backtest.owner_id
    rows = Backtest.objects.filter(pk=backtest_id)

    def progress(done: int, total: int | None) -> None:
        rows.update(bars_done=done, bars_total=total)
        backtest.bars_done, backtest.bars_total = done, total
        progress_push(owner_id=owner_id, kind=BACKTEST_PROGRESS, payload=_progress_payload(backtest))
        if observer is not None:
            observer(done, total)

    def should_cancel() -> bool:
        return bool(rows.values_list("cancel_requested", flat=True).first())

    try:
        frame = frame_load(
            source=backtest.source,
            sample=backtest.sample,
            symbol=backtest.symbol,
            dataset_id=backtest.dataset_id,
            start=backtest.start,
            end=backtest.end,
        )
        if frame.empty:
            raise _no_bars()
        bars = sources.frame_bars(frame, backtest.symbol)
        interval = sources.bar_interval(frame)
        total = len(bars)
        rows.update(bars_total=total)
        capital = None
        if backtest.strategy_type == EXTERNAL_AI:
            strategy: Any = _signals(backtest, backtest.start, backtest.end)
            capital = backtest.strategy.capital if backtest.strategy is not None else None
        else:
            strategy = strategy_generator(backtest.strategy_type, backtest.parameters)
        config = config_build(backtest.settings, bar_interval=interval, total_bars=total, strategy_capital=capital)
        # The engine's loop: pure Python over the bars; Django only in the two callbacks above.
        result = core_run(bars, strategy, config, progress=progress, should_cancel=should_cancel, total_bars=total)
    except (InvalidOhlcvData, ValueError) as error:
        backtest_fail(backtest_id=backtest_id, message=str(error))
        return Backtest.objects.get(pk=backtest_id)
    comparison = None
    if backtest.strategy_id is not None and result.start is not None and result.end is not None:
        live = _live_fills(backtest.strategy_id, result.start, result.end + interval)
        comparison = compare_fills(live, result.fills, backtest_log=result.run_log).as_dict()
    document = result.as_dict()
    equity = {
        "curve": document.pop("equity_curve"),
        "daily": document.pop("equity_daily"),
        "drawdown_daily": document.pop("drawdown_daily"),
    }
    trades = document.pop("trades")
    with transaction.atomic():
        locked = Backtest.objects.select_for_update().select_related("owner").get(pk=backtest_id)
        if locked.status in FINISHED:
            return locked  # ended meanwhile (canceled twice): what this run found is dropped
        locked.summary = {**document, "interval_seconds": interval.total_seconds()}
        locked.trades = trades
        locked.equity = equity
        locked.comparison = comparison
        locked.bars_done = result.bars
        locked.bars_total = total
        _finish(locked, Status.CANCELED if result.status == "canceled" else Status.COMPLETED)
    return locked


def backtest_fail(*, backtest_id: int, message: str) -> None:
    """A run that crashed (the task's last word): FAILED with a sentence, unless it already ended."""
    with transaction.atomic():
        backtest = Backtest.objects.select_for_update().select_related("owner").get(pk=backtest_id)
        if backtest.status not in FINISHED:
            _finish(backtest, Status.FAILED, message)


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
    _settings_check(settings_data)
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
        event_record(
            type=EventType.BACKTEST_OPTIMIZATION_REQUESTED,
            actor=owner.get_username(),
            payload={"optimization_id": optimization.pk, "candidates": len(valid), "user_id": owner.pk},
        )
        transaction.on_commit(lambda: _dispatch(OPTIMIZATION_START_TASK, optimization.pk))
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
        raise _no_bars()
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
    try:
        bars, interval = _optimization_data(optimization_id)
        config = config_build(optimization.settings, bar_interval=interval, total_bars=len(bars))
        kind = optimization.strategy_type
        whole = evaluate(kind, candidate.parameters, bars, config)
        windows = []
        warmup = strategy_generator(kind, candidate.parameters).warmup_bars
        for window in _windows(optimization, len(bars)):
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
        payload = {
            "optimization_id": optimization_id,
            "status": optimization.status,
            "candidates_done": optimization.candidates_done,
            "candidates_total": optimization.candidates_total,
            "progress": round(optimization.progress, 4),
        }
        owner_id = optimization.owner_id
        if optimization.candidates_done >= optimization.candidates_total and optimization.status == Status.RUNNING:
            _optimization_finish(optimization)
            payload.update(status=optimization.status, progress=1.0)
        transaction.on_commit(lambda: progress_push(owner_id=owner_id, kind=OPTIMIZATION_PROGRESS, payload=payload))


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
    event_record(
        type=EventType.BACKTEST_OPTIMIZATION_FINISHED,
        actor=optimization.owner.get_username(),
        payload={"optimization_id": optimization.pk, "status": optimization.status, "user_id": optimization.owner_id},
    )


def candidate_fail(*, optimization_id: int, index: int, message: str) -> None:
    """A candidate whose task crashed counts as done with its error, so the optimization still finishes."""
    updated = Candidate.objects.filter(optimization_id=optimization_id, index=index, done=False).update(
        error=message[:1000], done=True
    )
    if updated:
        _candidate_done(optimization_id)
