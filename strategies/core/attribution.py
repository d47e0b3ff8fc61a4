"""Attribution of closed trades to the models that produced their signals, and confidence calibration.

Each ``ClosedTrade`` carries the producer ``model`` and the ``confidence`` of the
signal that opened it (``metrics.closed_trades`` takes them from the opening fill).

Per model
    ``trades``; ``wins`` (net P&L > 0) and ``losses`` (< 0); ``pnl`` = sum of net P&L;
    ``hit_rate = wins / trades``; ``average_return`` = mean of each trade's
    ``pnl / (quantity * entry_price)``; ``signals`` = the number of signals the model
    sent (given by the caller, who counts them, trades or not; None when not given).
    Trades without a model count under ``UNATTRIBUTED``.

Calibration
    Trades with a confidence fall into six buckets: [0, 0.5), [0.5, 0.6), [0.6, 0.7),
    [0.7, 0.8), [0.8, 0.9), [0.9, 1.0]: each lower edge belongs to its bucket, each
    upper edge to the next one, and 1.0 to the last. Per bucket: ``trades``, ``wins``,
    the realized ``win_rate = wins / trades`` and the ``mean_confidence`` to compare it
    with (None for an empty bucket). A well-calibrated model's win rate sits inside
    its bucket.
"""

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from strategies.core.indicators import CONTEXT
from strategies.core.metrics import ClosedTrade

UNATTRIBUTED = "(unattributed)"
BUCKET_EDGES: tuple[Decimal, ...] = tuple(Decimal(edge) for edge in ("0", "0.5", "0.6", "0.7", "0.8", "0.9", "1"))
_ZERO = Decimal(0)
_C = CONTEXT


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True)
class CalibrationBucket:
    lower: Decimal
    upper: Decimal
    trades: int
    wins: int
    win_rate: Decimal | None
    mean_confidence: Decimal | None

    @property
    def label(self) -> str:
        closing = "]" if self.upper == BUCKET_EDGES[-1] else ")"
        return f"[{self.lower}, {self.upper}{closing}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.label,
            "lower": str(self.lower),
            "upper": str(self.upper),
            "trades": self.trades,
            "wins": self.wins,
            "win_rate": _text(self.win_rate),
            "mean_confidence": _text(self.mean_confidence),
        }


@dataclass(frozen=True)
class ModelAttribution:
    model: str
    signals: int | None
    trades: int
    wins: int
    losses: int
    pnl: Decimal
    hit_rate: Decimal | None
    average_return: Decimal | None
    calibration: tuple[CalibrationBucket, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "signals": self.signals,
            "trades": self.trades,
            "wins": self.wins,
            "losses": self.losses,
            "pnl": str(self.pnl),
            "hit_rate": _text(self.hit_rate),
            "average_return": _text(self.average_return),
            "calibration": [bucket.as_dict() for bucket in self.calibration],
        }


@dataclass(frozen=True)
class Attribution:
    models: tuple[ModelAttribution, ...]
    calibration: tuple[CalibrationBucket, ...]
    unscored_trades: int  # trades without a confidence, outside the calibration

    def as_dict(self) -> dict[str, Any]:
        return {
            "models": [model.as_dict() for model in self.models],
            "calibration": [bucket.as_dict() for bucket in self.calibration],
            "unscored_trades": self.unscored_trades,
        }


def bucket_index(confidence: Decimal) -> int:
    """The calibration bucket of ``confidence`` (0..5); lower edges inclusive, 1.0 in the last."""
    if not confidence.is_finite() or not BUCKET_EDGES[0] <= confidence <= BUCKET_EDGES[-1]:
        raise ValueError(f"A confidence must lie in [0, 1], got {confidence}.")
    # The last edge closes the last bucket instead of opening a seventh.
    return min(bisect_right(BUCKET_EDGES, confidence) - 1, len(BUCKET_EDGES) - 2)


def calibration(trades: Iterable[ClosedTrade]) -> tuple[CalibrationBucket, ...]:
    """Realized win rate per confidence bucket over the trades that carry a confidence."""
    counts = [[0, 0, _ZERO] for _ in range(len(BUCKET_EDGES) - 1)]
    for trade in trades:
        if trade.confidence is None:
            continue
        entry = counts[bucket_index(trade.confidence)]
        entry[0] += 1
        entry[1] += trade.is_win
        entry[2] += trade.confidence
    return tuple(
        CalibrationBucket(
            lower=BUCKET_EDGES[i],
            upper=BUCKET_EDGES[i + 1],
            trades=n,
            wins=wins,
            win_rate=_C.divide(wins, n) if n else None,
            mean_confidence=_C.divide(total, n) if n else None,
        )
        for i, (n, wins, total) in enumerate(counts)
    )


def attribution(trades: Iterable[ClosedTrade], *, signal_counts: Mapping[str, int] | None = None) -> Attribution:
    """Per-model figures (ordered by model name) and the overall calibration, as the module docstring defines."""
    trades = list(trades)
    by_model: dict[str, list[ClosedTrade]] = {}
    for trade in trades:
        by_model.setdefault(trade.model or UNATTRIBUTED, []).append(trade)
    for model in signal_counts or {}:
        by_model.setdefault(model, [])
    models = []
    for model in sorted(by_model):
        own = by_model[model]
        count = len(own)
        wins = sum(1 for t in own if t.is_win)
        models.append(
            ModelAttribution(
                model=model,
                signals=None if signal_counts is None else signal_counts.get(model, 0),
                trades=count,
                wins=wins,
                losses=sum(1 for t in own if t.is_loss),
                pnl=sum((t.pnl for t in own), _ZERO),
                hit_rate=_C.divide(wins, count) if count else None,
                average_return=_C.divide(sum(t.return_fraction for t in own), count) if count else None,
                calibration=calibration(own),
            )
        )
    return Attribution(
        models=tuple(models),
        calibration=calibration(trades),
        unscored_trades=sum(1 for t in trades if t.confidence is None),
    )
