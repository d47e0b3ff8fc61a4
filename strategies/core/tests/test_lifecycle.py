import itertools

import pytest

from strategies.core.lifecycle import (
    TRANSITIONS,
    IllegalStrategyTransition,
    StrategyAction,
    StrategyNotDeletable,
    StrategyNotEditable,
    StrategyStatus,
    allowed_actions,
    ensure_deletable,
    ensure_editable,
    is_deletable,
    is_editable,
    needs_otp,
    next_status,
    takes_entries,
    takes_reducing,
)

S = StrategyStatus
A = StrategyAction

# Written out independently of TRANSITIONS so a typo in the table is caught.
EXPECTED = {
    (S.DRAFT, A.DEPLOY): S.RUNNING,
    (S.STOPPED, A.DEPLOY): S.RUNNING,
    (S.RUNNING, A.PAUSE): S.PAUSED,
    (S.RUNNING, A.AUTO_PAUSE): S.AUTO_PAUSED,
    (S.PAUSED, A.AUTO_PAUSE): S.AUTO_PAUSED,
    (S.PAUSED, A.RESUME): S.RUNNING,
    (S.AUTO_PAUSED, A.RESUME): S.RUNNING,
    (S.RUNNING, A.STOP): S.STOPPED,
    (S.PAUSED, A.STOP): S.STOPPED,
    (S.AUTO_PAUSED, A.STOP): S.STOPPED,
}
ALL_PAIRS = list(itertools.product(StrategyStatus, StrategyAction))


def test_table_is_exactly_the_expected_one() -> None:
    assert dict(TRANSITIONS) == EXPECTED


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[(S.DRAFT, A.STOP)] = S.STOPPED  # type: ignore[index]


@pytest.mark.parametrize(("status", "action"), list(EXPECTED))
def test_legal_transition(status: StrategyStatus, action: StrategyAction) -> None:
    assert next_status(status, action) is EXPECTED[(status, action)]
    # Plain strings (what a request or a database row holds) work the same.
    assert next_status(str(status), str(action)) is EXPECTED[(status, action)]


@pytest.mark.parametrize(("status", "action"), [pair for pair in ALL_PAIRS if pair not in EXPECTED])
def test_illegal_transition(status: StrategyStatus, action: StrategyAction) -> None:
    with pytest.raises(IllegalStrategyTransition) as raised:
        next_status(status, action)
    assert raised.value.code == "illegal_strategy_transition"
    assert raised.value.status is status and raised.value.action is action
    assert str(raised.value) == f"A strategy in state {status} cannot take the action {action}."
    assert raised.value.message == str(raised.value)


def test_illegal_transition_count() -> None:
    # 5 statuses x 5 actions = 25 pairs, 10 legal.
    assert len(ALL_PAIRS) - len(EXPECTED) == 15


def test_unknown_names_are_bad_input() -> None:
    with pytest.raises(ValueError):
        next_status("ARCHIVED", "deploy")
    with pytest.raises(ValueError):
        next_status("DRAFT", "launch")


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (S.DRAFT, (A.DEPLOY,)),
        (S.RUNNING, (A.PAUSE, A.AUTO_PAUSE, A.STOP)),
        (S.PAUSED, (A.AUTO_PAUSE, A.RESUME, A.STOP)),
        (S.AUTO_PAUSED, (A.RESUME, A.STOP)),
        (S.STOPPED, (A.DEPLOY,)),
    ],
)
def test_allowed_actions(status: StrategyStatus, actions: tuple[StrategyAction, ...]) -> None:
    assert allowed_actions(status) == actions


@pytest.mark.parametrize(("status", "action"), ALL_PAIRS)
def test_otp_only_for_deploy_and_resume_after_auto_pause(status: StrategyStatus, action: StrategyAction) -> None:
    expected = (status, action) in {(S.DRAFT, A.DEPLOY), (S.STOPPED, A.DEPLOY), (S.AUTO_PAUSED, A.RESUME)}
    assert needs_otp(status, action) is expected


@pytest.mark.parametrize(
    ("status", "entries", "reducing", "deletable", "editable"),
    [
        (S.DRAFT, False, False, True, True),
        (S.RUNNING, True, True, False, False),
        (S.PAUSED, False, True, False, True),
        (S.AUTO_PAUSED, False, True, False, True),
        (S.STOPPED, False, True, True, True),
    ],
)
def test_status_properties(
    status: StrategyStatus, entries: bool, reducing: bool, deletable: bool, editable: bool
) -> None:
    assert takes_entries(status) is entries
    assert takes_reducing(status) is reducing
    assert is_deletable(status) is deletable
    assert is_editable(status) is editable


@pytest.mark.parametrize("status", [S.RUNNING, S.PAUSED, S.AUTO_PAUSED])
def test_ensure_deletable_refuses(status: StrategyStatus) -> None:
    with pytest.raises(StrategyNotDeletable) as raised:
        ensure_deletable(status)
    assert raised.value.code == "strategy_not_deletable"
    assert str(status) in raised.value.message


@pytest.mark.parametrize("status", [S.DRAFT, S.STOPPED])
def test_ensure_deletable_passes(status: StrategyStatus) -> None:
    ensure_deletable(status)


def test_ensure_editable() -> None:
    with pytest.raises(StrategyNotEditable) as raised:
        ensure_editable(S.RUNNING)
    assert raised.value.code == "strategy_not_editable"
    assert "RUNNING" in raised.value.message
    for status in (S.DRAFT, S.PAUSED, S.AUTO_PAUSED, S.STOPPED):
        ensure_editable(status)


@pytest.mark.parametrize("status", [S.RUNNING, S.PAUSED, S.AUTO_PAUSED])
def test_not_deletable_carries_the_status_and_says_what_to_do(status: StrategyStatus) -> None:
    with pytest.raises(StrategyNotDeletable) as raised:
        ensure_deletable(str(status))
    assert raised.value.status is status
    expected = f"A strategy in state {status} cannot be deleted; stop it first."
    assert raised.value.message == expected and str(raised.value) == expected


def test_not_editable_carries_the_status_and_says_what_to_do() -> None:
    with pytest.raises(StrategyNotEditable) as raised:
        ensure_editable("RUNNING")
    assert raised.value.status is S.RUNNING
    expected = "A strategy in state RUNNING cannot be edited; pause or stop it first."
    assert raised.value.message == expected and str(raised.value) == expected
