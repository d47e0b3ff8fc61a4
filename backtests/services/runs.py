"""Backtests asked for, run (the task's use case), canceled, failed."""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from backtests.conventions import config_build
from backtests.events import backtest_finished_event, backtest_requested_event
from backtests.models import FINISHED, Backtest, Status
from backtests.push import BACKTEST_PROGRESS, progress_push
from backtests.services.common import (
    EXTERNAL_AI,
    InvalidBacktest,
    bars_load,
    data_spec_check,
    settings_check,
    task_dispatch,
)
from strategies import selectors as strategy_selectors
from strategies.core.backtest import ExternalSignal, external_signals, strategy_generator
from strategies.core.backtest import run_backtest as core_run
from strategies.core.backtest.compare import compare_fills
from strategies.core.backtest.data import InvalidOhlcvData
from strategies.core.generators import STRATEGY_TYPES
from strategies.core.metrics import TradeFill
from strategies.core.params import params_dump, params_validate
from strategies.models import Strategy
from trading.core.orders import Side
from trading.selectors import strategy_fills

logger = logging.getLogger(__name__)

BACKTEST_RUN_TASK = "backtests.tasks.backtest_run_task"


# ---- backtests -----------------------------------------------------------------------------------------------------


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
    settings_check(settings_data)
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
        backtest_requested_event(backtest=backtest)
        if dispatch:
            transaction.on_commit(lambda: task_dispatch(BACKTEST_RUN_TASK, backtest.pk))
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
    backtest_finished_event(backtest=backtest)
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
        bars, interval, total = bars_load(
            source=backtest.source,
            sample=backtest.sample,
            symbol=backtest.symbol,
            dataset_id=backtest.dataset_id,
            start=backtest.start,
            end=backtest.end,
        )
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
