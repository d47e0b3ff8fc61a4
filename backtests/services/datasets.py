"""Uploads: OHLCV data validated by the core before anything is kept."""

from typing import Any

from django.db import transaction

from backtests import sources
from backtests.events import backtest_dataset_uploaded_event
from backtests.models import Dataset
from strategies.core.backtest.data import DataProblem, InvalidOhlcvData, OhlcvReport

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
        backtest_dataset_uploaded_event(dataset=dataset)
    return dataset
