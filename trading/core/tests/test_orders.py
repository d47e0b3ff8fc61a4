import itertools

import pytest

from trading.core.orders import (
    OPEN_STATUSES,
    PENDING_STATUSES,
    PREVIOUS,
    TERMINAL_STATUSES,
    TRANSITIONS,
    WORKING_STATUSES,
    IllegalTransition,
    OrderError,
    OrderStatus,
    OrderTrigger,
    OrderType,
    Side,
    is_open,
    next_status,
)

S = OrderStatus
T = OrderTrigger

# Written out independently of TRANSITIONS so a typo in the table is caught.
EXPECTED = {
    (S.NEW, T.SUBMIT): S.SUBMITTED,
    (S.NEW, T.REJECT): S.REJECTED,
    (S.NEW, T.CANCEL): S.CANCELED,
    (S.SUBMITTED, T.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, T.REJECT): S.REJECTED,
    (S.SUBMITTED, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.SUBMITTED, T.FILL): S.FILLED,
    (S.SUBMITTED, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.SUBMITTED, T.CANCEL): S.CANCELED,
    (S.SUBMITTED, T.EXPIRE): S.EXPIRED,
    (S.ACCEPTED, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.ACCEPTED, T.FILL): S.FILLED,
    (S.ACCEPTED, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.ACCEPTED, T.CANCEL): S.CANCELED,
    (S.ACCEPTED, T.MODIFY_REQUEST): S.PENDING_MODIFY,
    (S.ACCEPTED, T.EXPIRE): S.EXPIRED,
    (S.ACCEPTED, T.REJECT): S.REJECTED,
    (S.PARTIALLY_FILLED, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, T.FILL): S.FILLED,
    (S.PARTIALLY_FILLED, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, T.CANCEL): S.CANCELED,
    (S.PARTIALLY_FILLED, T.MODIFY_REQUEST): S.PENDING_MODIFY,
    (S.PARTIALLY_FILLED, T.EXPIRE): S.EXPIRED,
    (S.PENDING_CANCEL, T.CANCEL): S.CANCELED,
    (S.PENDING_CANCEL, T.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.FILL): S.FILLED,
    (S.PENDING_CANCEL, T.CANCEL_REJECT): PREVIOUS,
    (S.PENDING_CANCEL, T.EXPIRE): S.EXPIRED,
    (S.PENDING_MODIFY, T.MODIFY_ACCEPT): PREVIOUS,
    (S.PENDING_MODIFY, T.MODIFY_REJECT): PREVIOUS,
    (S.PENDING_MODIFY, T.PARTIAL_FILL): S.PENDING_MODIFY,
    (S.PENDING_MODIFY, T.FILL): S.FILLED,
    (S.PENDING_MODIFY, T.CANCEL): S.CANCELED,
    (S.PENDING_MODIFY, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.CANCELED, T.PARTIAL_FILL): S.CANCELED,
    (S.CANCELED, T.FILL): S.FILLED,
    (S.EXPIRED, T.PARTIAL_FILL): S.EXPIRED,
    (S.EXPIRED, T.FILL): S.FILLED,
}

ILLEGAL = [pair for pair in itertools.product(S, T) if pair not in EXPECTED]


def test_table_is_exactly_the_expected_moves() -> None:
    assert dict(TRANSITIONS) == EXPECTED


FIXED = [pair for pair, target in EXPECTED.items() if target is not PREVIOUS]
RESTORING = [pair for pair, target in EXPECTED.items() if target is PREVIOUS]


def test_only_a_refused_cancel_and_an_answered_modify_return_to_the_previous_status() -> None:
    assert set(RESTORING) == {
        (S.PENDING_CANCEL, T.CANCEL_REJECT),
        (S.PENDING_MODIFY, T.MODIFY_ACCEPT),
        (S.PENDING_MODIFY, T.MODIFY_REJECT),
    }


@pytest.mark.parametrize(("status", "trigger"), FIXED)
def test_legal_transition_yields_target(status: OrderStatus, trigger: OrderTrigger) -> None:
    assert next_status(status, trigger) is EXPECTED[(status, trigger)]
    # The previous status only answers the rows that return to it.
    assert next_status(status, trigger, previous=S.SUBMITTED) is EXPECTED[(status, trigger)]


@pytest.mark.parametrize(("status", "trigger"), RESTORING)
@pytest.mark.parametrize("previous", sorted(WORKING_STATUSES))
def test_restoring_rows_answer_the_previous_status(
    status: OrderStatus, trigger: OrderTrigger, previous: OrderStatus
) -> None:
    assert next_status(status, trigger, previous=previous) is previous


@pytest.mark.parametrize(("status", "trigger"), RESTORING)
def test_restoring_rows_answer_accepted_when_the_caller_knows_no_previous_status(
    status: OrderStatus, trigger: OrderTrigger
) -> None:
    assert next_status(status, trigger) is S.ACCEPTED


@pytest.mark.parametrize(("status", "trigger"), ILLEGAL)
def test_every_other_pair_is_illegal(status: OrderStatus, trigger: OrderTrigger) -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_status(status, trigger)
    error = caught.value
    assert isinstance(error, OrderError)
    assert error.code == "illegal_transition"
    assert error.status is status
    assert error.trigger is trigger
    assert str(error) == error.message == f"An order in state {status} cannot take {trigger}."


LATE_FILLS = {T.PARTIAL_FILL, T.FILL}


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
@pytest.mark.parametrize("trigger", [t for t in T if t not in LATE_FILLS])
def test_terminal_statuses_take_nothing_but_a_late_fill(status: OrderStatus, trigger: OrderTrigger) -> None:
    with pytest.raises(IllegalTransition):
        next_status(status, trigger)


@pytest.mark.parametrize("status", [S.FILLED, S.REJECTED])
@pytest.mark.parametrize("trigger", sorted(LATE_FILLS))
def test_filled_and_rejected_orders_take_no_fill(status: OrderStatus, trigger: OrderTrigger) -> None:
    with pytest.raises(IllegalTransition):
        next_status(status, trigger)


def test_terminal_and_open_partition_the_statuses() -> None:
    assert {S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED} == TERMINAL_STATUSES
    assert set(S) == OPEN_STATUSES | TERMINAL_STATUSES
    assert not OPEN_STATUSES & TERMINAL_STATUSES


def test_working_and_pending_statuses() -> None:
    assert {S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED} == WORKING_STATUSES
    assert {S.PENDING_CANCEL, S.PENDING_MODIFY} == PENDING_STATUSES


@pytest.mark.parametrize("status", list(S))
def test_a_status_takes_both_fill_triggers_or_neither(status: OrderStatus) -> None:
    # The machine picks PARTIAL_FILL or FILL from the quantities: legality must not depend on which.
    assert ((status, T.PARTIAL_FILL) in TRANSITIONS) is ((status, T.FILL) in TRANSITIONS)


@pytest.mark.parametrize("status", list(S))
def test_is_open(status: OrderStatus) -> None:
    assert is_open(status) is (status not in {S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED})


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[(S.FILLED, T.CANCEL)] = S.CANCELED  # type: ignore[index]


@pytest.mark.parametrize("enum", [S, T, Side, OrderType])
def test_enum_values_equal_names(enum: type) -> None:
    assert all(member.value == member.name for member in enum)


@pytest.mark.parametrize(("side", "sign", "opposite"), [(Side.BUY, 1, Side.SELL), (Side.SELL, -1, Side.BUY)])
def test_side_sign_and_opposite(side: Side, sign: int, opposite: Side) -> None:
    assert side.sign == sign
    assert side.opposite is opposite
