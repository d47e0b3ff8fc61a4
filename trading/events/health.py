"""Alerts about the engine's own health: a market data feed gone quiet and back, a background loop failing and
recovered. One constructor each."""

from collections.abc import Iterable, Mapping
from typing import Any

from trading.core.feedhealth import Transition
from trading.events import EventType, Severity, event_record
from trading.models import Event

MARKET_DATA = "market-data"
ENGINE = "engine"


def _feed_payload(change: Transition, stale_after_seconds: float) -> dict[str, Any]:
    return {
        "symbol": change.symbol,
        "last_update": change.last_seen.isoformat() if change.last_seen else None,
        "detected_at": change.at.isoformat(),
        "stale_after_seconds": stale_after_seconds,
    }


def market_stale_event(*, change: Transition, stale_after_seconds: float) -> Event:
    """A symbol's prices stopped: new orders on it are refused until it ticks again."""
    return event_record(
        type=EventType.MARKET_STALE,
        severity=Severity.WARNING,
        actor=MARKET_DATA,
        payload=_feed_payload(change, stale_after_seconds),
    )


def market_recovered_event(*, change: Transition, stale_after_seconds: float) -> Event:
    return event_record(
        type=EventType.MARKET_RECOVERED,
        severity=Severity.INFO,
        actor=MARKET_DATA,
        payload=_feed_payload(change, stale_after_seconds),
    )


def loop_failed_event(
    *, loop: str, kind: str, error: BaseException, scope: str = "", context: Mapping[str, Any] | None = None
) -> Event:
    """An iteration of a background loop failed (kind: the exception's class; context: what it was working on)."""
    payload = {"loop": loop, "kind": kind, "error": str(error)[:500], **(context or {})}
    if scope:
        payload["scope"] = scope
    return event_record(type=EventType.LOOP_FAILED, severity=Severity.CRITICAL, actor=ENGINE, payload=payload)


def loop_recovered_event(*, loop: str, kinds: Iterable[str], scope: str = "") -> Event:
    """A failing loop went through again (kinds: the failures it recovered from)."""
    payload: dict[str, Any] = {"loop": loop, "kinds": sorted(kinds)}
    if scope:
        payload["scope"] = scope
    return event_record(type=EventType.LOOP_RECOVERED, severity=Severity.INFO, actor=ENGINE, payload=payload)
