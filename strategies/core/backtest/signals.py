"""What drives a backtest: a built-in generator, or recorded EXTERNAL_AI signals replayed.

``strategy_generator(strategy_type, parameters)`` builds the live generator through
``generator_build`` (parameters validated by ``strategies.core.params``); for
``SMA_CROSSOVER`` it hands back ``FastSmaCrossover`` (``fast.py``), the same
generator with an exact, cheaper decision, unless ``fast=False``.

``ExternalSignal`` is one recorded producer signal (the body of ``POST signals/`` plus
the time it arrived); ``external_signals(dicts)`` reads a list of dicts with keys
``time`` (aware; ``at`` or ``created_at`` accepted), ``symbol``, ``signal_type``
(BUY/SELL/HOLD), ``position_size``, and optionally ``id``, ``stop_loss``,
``take_profit``, ``target_price``, ``confidence`` (or ``confidence_score``),
``expires_at`` and ``metadata`` (``metadata.model`` names the producer's model).
The replay acts on them as the live intake does (``strategies.services._signal_to_orders``):
``signal_type`` is the side, ``position_size`` the fraction of capital, a
``target_price`` makes a limit order, ``stop_loss`` a protective stop and
``stop_loss`` with ``take_profit`` a bracket.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from strategies.core.backtest.fast import FastSmaCrossover
from strategies.core.generators import DEFAULT_SIGNAL_TTL, SignalGenerator, SmaCrossover, generator_build
from strategies.core.params import StrategyParams

SIGNAL_TYPES = ("BUY", "SELL", "HOLD")


def strategy_generator(
    strategy_type: str,
    parameters: Mapping[str, Any] | StrategyParams | None = None,
    *,
    strategy_key: str = "backtest",
    signal_ttl: timedelta = DEFAULT_SIGNAL_TTL,
    fast: bool = True,
) -> SignalGenerator[Any]:
    """The live generator for a strategy type (``generator_build``), on its exact fast path when it has one.

    Raises ``InvalidStrategyParameters`` for bad parameters, ``ValueError`` for an unknown type.
    """
    generator = generator_build(strategy_type, parameters, strategy_key=strategy_key, signal_ttl=signal_ttl)
    if fast and type(generator) is SmaCrossover:
        return FastSmaCrossover(generator.params, strategy_key=strategy_key, signal_ttl=signal_ttl)
    return generator


@dataclass(frozen=True)
class ExternalSignal:
    at: datetime
    symbol: str
    signal_type: str
    position_size: Decimal
    id: str = ""
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    target_price: Decimal | None = None
    confidence: Decimal | None = None
    expires_at: datetime | None = None
    model: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def _decimal(raw: Any, name: str, index: int, *, required: bool = False) -> Decimal | None:
    if raw is None or raw == "":
        if required:
            raise ValueError(f"Signal {index}: {name} is missing.")
        return None
    try:
        # str() of a float is its shortest repr (99.1, not 99.0999...), and of a numpy scalar its bare value.
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise ValueError(f"Signal {index}: {name} {raw!r} is not a number.") from None
    if not value.is_finite():
        raise ValueError(f"Signal {index}: {name} {raw!r} is not a finite number.")
    return value


def _time(raw: Any, name: str, index: int) -> datetime:
    value = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    if not isinstance(value, datetime):
        raise ValueError(f"Signal {index}: {name} {raw!r} is not a time.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"Signal {index}: {name} {raw!r} must carry a time zone.")
    return value


def external_signals(records: Iterable[Mapping[str, Any]]) -> list[ExternalSignal]:
    """Recorded producer signals, checked, in time order (stable for equal times)."""
    out = []
    for index, record in enumerate(records):
        raw_time = record.get("time", record.get("at", record.get("created_at")))
        if raw_time is None:
            raise ValueError(f"Signal {index}: time is missing.")
        signal_type = str(record.get("signal_type")).upper()
        if signal_type not in SIGNAL_TYPES:
            raise ValueError(
                f"Signal {index}: signal_type must be BUY, SELL or HOLD, got {record.get('signal_type')!r}."
            )
        symbol = str(record.get("symbol") or "")
        if not symbol:
            raise ValueError(f"Signal {index}: symbol is missing.")
        size = _decimal(record.get("position_size"), "position_size", index, required=signal_type != "HOLD")
        if size is not None and not 0 < size <= 1:
            raise ValueError(f"Signal {index}: position_size must lie in (0, 1], got {size}.")
        metadata = dict(record.get("metadata") or {})
        expires = record.get("expires_at")
        out.append(
            ExternalSignal(
                at=_time(raw_time, "time", index),
                symbol=symbol,
                signal_type=signal_type,
                position_size=size if size is not None else Decimal(0),
                id=str(record.get("id", f"replay-{index}")),
                stop_loss=_decimal(record.get("stop_loss"), "stop_loss", index),
                take_profit=_decimal(record.get("take_profit"), "take_profit", index),
                target_price=_decimal(record.get("target_price"), "target_price", index),
                confidence=_decimal(record.get("confidence", record.get("confidence_score")), "confidence", index),
                expires_at=None if expires is None else _time(expires, "expires_at", index),
                model=None if metadata.get("model") is None else str(metadata["model"]),
                metadata=metadata,
            )
        )
    out.sort(key=lambda s: s.at)
    return out
