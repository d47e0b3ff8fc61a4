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


def test_a_closed_circuit_lets_every_call_through_unchanged():
    for circuit in (Circuit(), failures(2)):
        assert circuit_allow(circuit, POLICY, T0) == (True, circuit)


def test_the_failure_count_goes_on_across_a_failed_probe():
    opened = failures(3)
    assert (opened.failures, opened.opened_at) == (3, T0)
    _, probing = circuit_allow(opened, POLICY, T0 + timedelta(seconds=30))
    assert probing == Circuit(CircuitState.HALF_OPEN, 3, T0)
    reopened_at = T0 + timedelta(seconds=31)
    assert circuit_failure(probing, POLICY, reopened_at) == Circuit(CircuitState.OPEN, 4, reopened_at)
    # An open circuit that is asked again before its time stays as it was.
    assert circuit_allow(opened, POLICY, T0) == (False, opened)
    assert circuit_allow(probing, POLICY, T0 + timedelta(seconds=90)) == (False, probing)
    # An open circuit with no opening time never lets a probe through.
    assert circuit_allow(Circuit(CircuitState.OPEN), POLICY, T0) == (False, Circuit(CircuitState.OPEN))


def test_an_open_circuit_counts_failures_but_keeps_its_opening_time():
    later = T0 + timedelta(seconds=5)
    assert circuit_failure(failures(3), POLICY, later) == Circuit(CircuitState.OPEN, 4, T0)
    assert circuit_success(failures(3)) == Circuit()
