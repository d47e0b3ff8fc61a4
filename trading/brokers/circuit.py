"""One circuit breaker per broker, shared by every process through the cache (Redis on the real stack)."""

from dataclasses import asdict
from datetime import datetime

from django.conf import settings
from django.core.cache import cache

from trading.brokers.base import BrokerError, BrokerErrorCategory
from trading.core.circuit import (
    Circuit,
    CircuitPolicy,
    CircuitState,
    circuit_allow,
    circuit_failure,
    circuit_success,
)

KEY = "circuit:{}"


def circuit_policy() -> CircuitPolicy:
    return CircuitPolicy(failure_threshold=settings.BROKER_CIRCUIT_FAILURES, reset_after=settings.BROKER_CIRCUIT_RESET)


def circuit_get(broker_name: str) -> Circuit:
    stored = cache.get(KEY.format(broker_name))
    if not stored:
        return Circuit()
    return Circuit(CircuitState(stored["state"]), stored["failures"], stored["opened_at"])


def _save(broker_name: str, circuit: Circuit) -> None:
    cache.set(KEY.format(broker_name), asdict(circuit), timeout=None)


def circuit_check(broker_name: str, now: datetime) -> None:
    """Raise a retryable BrokerError while the broker's circuit is open."""
    circuit = circuit_get(broker_name)
    allowed, after = circuit_allow(circuit, circuit_policy(), now)
    if after != circuit:
        _save(broker_name, after)
    if not allowed:
        raise BrokerError(
            BrokerErrorCategory.CONNECTION,
            "circuit_open",
            f"Calls to broker {broker_name} are suspended after repeated failures; retrying later.",
        )


def circuit_record(broker_name: str, *, ok: bool, now: datetime) -> tuple[Circuit, Circuit]:
    """Record one call's outcome; returns (before, after) so callers can report a state change."""
    before = circuit_get(broker_name)
    after = circuit_success(before) if ok else circuit_failure(before, circuit_policy(), now)
    if after != before:
        _save(broker_name, after)
    return before, after
