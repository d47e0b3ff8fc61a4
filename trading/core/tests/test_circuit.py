from datetime import UTC, datetime, timedelta

import pytest

from trading.core.circuit import (
    Circuit,
    CircuitPolicy,
    CircuitState,
    circuit_allow,
    circuit_failure,
    circuit_success,
)

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
POLICY = CircuitPolicy(failure_threshold=3, reset_after=timedelta(seconds=30))


def failures(n: int, circuit: Circuit | None = None) -> Circuit:
    circuit = circuit or Circuit()
    for _ in range(n):
        circuit = circuit_failure(circuit, POLICY, T0)
    return circuit


@pytest.mark.parametrize(("n", "state"), [(2, CircuitState.CLOSED), (3, CircuitState.OPEN), (4, CircuitState.OPEN)])
def test_opens_at_the_failure_threshold(n, state):
    assert failures(n).state is state


def test_success_resets_the_count():
    circuit = circuit_success(failures(2))
    assert failures(2, circuit).state is CircuitState.CLOSED


def test_open_refuses_until_reset_then_lets_one_probe():
    opened = failures(3)
    assert circuit_allow(opened, POLICY, T0 + timedelta(seconds=29))[0] is False
    allowed, probing = circuit_allow(opened, POLICY, T0 + timedelta(seconds=30))
    assert allowed and probing.state is CircuitState.HALF_OPEN
    assert circuit_allow(probing, POLICY, T0 + timedelta(seconds=31))[0] is False


def test_probe_success_closes_and_probe_failure_reopens_for_another_period():
    _, probing = circuit_allow(failures(3), POLICY, T0 + timedelta(seconds=30))
    assert circuit_success(probing).state is CircuitState.CLOSED
    reopened = circuit_failure(probing, POLICY, T0 + timedelta(seconds=31))
    assert reopened.state is CircuitState.OPEN
    assert circuit_allow(reopened, POLICY, T0 + timedelta(seconds=60))[0] is False
    assert circuit_allow(reopened, POLICY, T0 + timedelta(seconds=61))[0] is True
