"""Circuit breaker for a broker connection: pure state transitions with the time passed in.

CLOSED counts consecutive failures; at the threshold it OPENs and refuses calls.
After `reset_after` an OPEN circuit lets one probe through (HALF_OPEN): success
closes it, failure opens it again for another `reset_after`.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True)
class CircuitPolicy:
    failure_threshold: int = 5
    reset_after: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class Circuit:
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    opened_at: datetime | None = None


def circuit_allow(circuit: Circuit, policy: CircuitPolicy, now: datetime) -> tuple[bool, Circuit]:
    """Whether a call may go out now, and the circuit after asking (an expired OPEN turns HALF_OPEN)."""
    if circuit.state is CircuitState.CLOSED:
        return True, circuit
    if circuit.state is CircuitState.OPEN:
        if circuit.opened_at is not None and now - circuit.opened_at >= policy.reset_after:
            return True, replace(circuit, state=CircuitState.HALF_OPEN)
        return False, circuit
    return False, circuit  # HALF_OPEN: the one probe is already out


def circuit_success(circuit: Circuit) -> Circuit:
    return Circuit()


def circuit_failure(circuit: Circuit, policy: CircuitPolicy, now: datetime) -> Circuit:
    if circuit.state is CircuitState.HALF_OPEN:
        return Circuit(CircuitState.OPEN, circuit.failures + 1, now)
    failures = circuit.failures + 1
    if circuit.state is CircuitState.CLOSED and failures >= policy.failure_threshold:
        return Circuit(CircuitState.OPEN, failures, now)
    return replace(circuit, failures=failures)
