"""Strategy lifecycle: a transition table ``{(status, action): next_status}``.

Modelled on ``trading/core/orders.py``: every status change a strategy can
undergo is a row in ``TRANSITIONS``; anything else raises
``IllegalStrategyTransition`` (code ``illegal_strategy_transition``), never a
silent write.

Statuses
    DRAFT        created, never deployed; editable and deletable.
    RUNNING      takes new entries (the only status that does).
    PAUSED       paused by a person: no new entries; open positions stay protected.
    AUTO_PAUSED  paused by an auto-pause rule (``strategies.core.autopause``): no new
                 entries; resuming needs a person's re-approval with a one-time password.
    STOPPED      no new entries; may be redeployed (a new run) or deleted.

Actions
    deploy       DRAFT -> RUNNING; STOPPED -> RUNNING (a stopped strategy may be
                 redeployed: the service starts a new run, its history is kept).
    pause        RUNNING -> PAUSED.
    auto_pause   RUNNING -> AUTO_PAUSED; PAUSED -> AUTO_PAUSED (a rule breached while a
                 person had paused it still demands re-approval before it trades again).
    resume       PAUSED -> RUNNING; AUTO_PAUSED -> RUNNING (with a one-time password).
    stop         RUNNING / PAUSED / AUTO_PAUSED -> STOPPED.

Pausing stops entries, never protection (DESIGN.md): PAUSED, AUTO_PAUSED and
STOPPED strategies keep their stop-loss / take-profit / trailing orders and
still take signals that only reduce a position (``takes_reducing``).
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class StrategyStatus(StrEnum):
    DRAFT = "DRAFT"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    AUTO_PAUSED = "AUTO_PAUSED"
    STOPPED = "STOPPED"


class StrategyAction(StrEnum):
    DEPLOY = "deploy"
    PAUSE = "pause"
    AUTO_PAUSE = "auto_pause"
    RESUME = "resume"
    STOP = "stop"


_S = StrategyStatus
_A = StrategyAction

# Read-only so no caller can widen the state machine at runtime.
TRANSITIONS: Mapping[tuple[StrategyStatus, StrategyAction], StrategyStatus] = MappingProxyType(
    {
        (_S.DRAFT, _A.DEPLOY): _S.RUNNING,
        # Redeploying a stopped strategy starts a new run with the same configuration and history.
        (_S.STOPPED, _A.DEPLOY): _S.RUNNING,
        (_S.RUNNING, _A.PAUSE): _S.PAUSED,
        (_S.RUNNING, _A.AUTO_PAUSE): _S.AUTO_PAUSED,
        # A breach while a person has it paused must not be forgotten by a plain resume.
        (_S.PAUSED, _A.AUTO_PAUSE): _S.AUTO_PAUSED,
        (_S.PAUSED, _A.RESUME): _S.RUNNING,
        (_S.AUTO_PAUSED, _A.RESUME): _S.RUNNING,
        (_S.RUNNING, _A.STOP): _S.STOPPED,
        (_S.PAUSED, _A.STOP): _S.STOPPED,
        (_S.AUTO_PAUSED, _A.STOP): _S.STOPPED,
    }
)

# (status, action) pairs a person must confirm with a verified one-time password.
OTP_REQUIRED: frozenset[tuple[StrategyStatus, StrategyAction]] = frozenset(
    {
        (_S.DRAFT, _A.DEPLOY),
        (_S.STOPPED, _A.DEPLOY),
        (_S.AUTO_PAUSED, _A.RESUME),
    }
)
# Actions only the system takes (the auto-pause monitor); people pause with PAUSE.
SYSTEM_ACTIONS: frozenset[StrategyAction] = frozenset({_A.AUTO_PAUSE})

ENTRY_STATUSES: frozenset[StrategyStatus] = frozenset({_S.RUNNING})
# Signals that only reduce a position, and protective orders, are taken in these.
REDUCING_STATUSES: frozenset[StrategyStatus] = frozenset({_S.RUNNING, _S.PAUSED, _S.AUTO_PAUSED, _S.STOPPED})
DELETABLE_STATUSES: frozenset[StrategyStatus] = frozenset({_S.DRAFT, _S.STOPPED})
# Parameters change only while the strategy takes no entries; a running one is paused first.
EDITABLE_STATUSES: frozenset[StrategyStatus] = frozenset({_S.DRAFT, _S.PAUSED, _S.AUTO_PAUSED, _S.STOPPED})


class StrategyLifecycleError(Exception):
    """A lifecycle refusal with a machine-readable ``code`` and a human ``message``."""

    code = "strategy_lifecycle_error"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class IllegalStrategyTransition(StrategyLifecycleError):
    """Raised when an action is not allowed from a strategy's current status."""

    code = "illegal_strategy_transition"

    def __init__(self, status: StrategyStatus, action: StrategyAction) -> None:
        self.status = status
        self.action = action
        super().__init__(f"A strategy in state {status} cannot take the action {action}.")


class StrategyNotDeletable(StrategyLifecycleError):
    code = "strategy_not_deletable"

    def __init__(self, status: StrategyStatus) -> None:
        self.status = status
        super().__init__(f"A strategy in state {status} cannot be deleted; stop it first.")


class StrategyNotEditable(StrategyLifecycleError):
    code = "strategy_not_editable"

    def __init__(self, status: StrategyStatus) -> None:
        self.status = status
        super().__init__(f"A strategy in state {status} cannot be edited; pause or stop it first.")


def next_status(status: StrategyStatus | str, action: StrategyAction | str) -> StrategyStatus:
    """Return the status reached from ``status`` on ``action``; raise ``IllegalStrategyTransition`` if illegal.

    Unknown status or action strings raise ``ValueError`` (bad input, not an illegal move).
    """
    status, action = StrategyStatus(status), StrategyAction(action)
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalStrategyTransition(status, action) from None


def allowed_actions(status: StrategyStatus | str) -> tuple[StrategyAction, ...]:
    """Actions legal from ``status``, in ``StrategyAction`` order (the dashboard's buttons)."""
    status = StrategyStatus(status)
    return tuple(action for action in StrategyAction if (status, action) in TRANSITIONS)


def needs_otp(status: StrategyStatus | str, action: StrategyAction | str) -> bool:
    """True when a person must confirm ``action`` from ``status`` with a verified one-time password."""
    return (StrategyStatus(status), StrategyAction(action)) in OTP_REQUIRED


def takes_entries(status: StrategyStatus | str) -> bool:
    """Only a RUNNING strategy opens or grows positions."""
    return StrategyStatus(status) in ENTRY_STATUSES


def takes_reducing(status: StrategyStatus | str) -> bool:
    """Signals that only reduce a position are taken in every status but DRAFT (protection never pauses)."""
    return StrategyStatus(status) in REDUCING_STATUSES


def is_deletable(status: StrategyStatus | str) -> bool:
    return StrategyStatus(status) in DELETABLE_STATUSES


def is_editable(status: StrategyStatus | str) -> bool:
    return StrategyStatus(status) in EDITABLE_STATUSES


def ensure_deletable(status: StrategyStatus | str) -> None:
    """Raise ``StrategyNotDeletable`` unless the strategy is DRAFT or STOPPED."""
    if not is_deletable(status):
        raise StrategyNotDeletable(StrategyStatus(status))


def ensure_editable(status: StrategyStatus | str) -> None:
    """Raise ``StrategyNotEditable`` while the strategy is RUNNING."""
    if not is_editable(status):
        raise StrategyNotEditable(StrategyStatus(status))
