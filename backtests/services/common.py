"""What every use case of the backtester shares: refusals, running a task, where the bars come from."""

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from celery import current_app
from django.conf import settings
from django.db import connections

from backtests import sources
from backtests.conventions import config_build
from backtests.models import Dataset, Source
from backtests.selectors import stored_bars_exist
from strategies.core.backtest.data import DataProblem, InvalidOhlcvData, OhlcvReport, frames_bars
from trading.core.bars import Bar
from trading.marketdata.history import bar_pages, bar_rows, bars_count

logger = logging.getLogger(__name__)

EXTERNAL_AI = "EXTERNAL_AI"
PAGE_ROWS = 65_536  # stored bars read per query


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


def task_dispatch(task_name: str, *args: Any) -> None:
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


def bars_load(
    *, source: str, sample: str, symbol: str, dataset_id: int | None, start: datetime | None, end: datetime | None
) -> tuple[Iterable[Bar], timedelta, int]:
    """A run's bars, their interval and how many: stored bars streamed a page at a time (validated page by
    page, memory flat in their number); a sample or an upload as a sized frame."""
    if source == Source.BARS:
        total = bars_count(symbol=symbol, since=start, until=end)
        if not total:
            raise no_bars_error()
        pages = bar_pages(symbol=symbol, since=start, until=end, size=PAGE_ROWS)
        return frames_bars((sources.rows_frame(page) for page in pages), symbol), sources.MINUTE, total
    frame = frame_load(source=source, sample=sample, symbol=symbol, dataset_id=dataset_id, start=start, end=end)
    if frame.empty:
        raise no_bars_error()
    bars = sources.frame_bars(frame, symbol)
    return bars, sources.bar_interval(frame), len(bars)


def no_bars_error() -> InvalidOhlcvData:
    return InvalidOhlcvData(OhlcvReport(rows=0, problems=(DataProblem("empty", "No bars in the period."),)))


def settings_check(settings_data: Mapping[str, Any]) -> None:
    try:
        config_build(settings_data, bar_interval=sources.MINUTE)
    except ValueError as error:
        raise InvalidBacktest({"non_field_errors": [str(error)]}) from error
