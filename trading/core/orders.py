"""Order state machine: a transition table ``{(status, trigger): next_status}``.

Modelled on nautilus_trader's ``model/orders/base.pyx``: every status change an
order can undergo is a row in ``TRANSITIONS``; anything else is an error, never
a silent write.
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class OrderStatus(StrEnum):
    NEW = "NEW"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_MODIFY = "PENDING_MODIFY"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class OrderTrigger(StrEnum):
    SUBMIT = "SUBMIT"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    PARTIAL_FILL = "PARTIAL_FILL"
    FILL = "FILL"
    CANCEL_REQUEST = "CANCEL_REQUEST"
    CANCEL = "CANCEL"
    CANCEL_REJECT = "CANCEL_REJECT"
    MODIFY_REQUEST = "MODIFY_REQUEST"
    MODIFY_ACCEPT = "MODIFY_ACCEPT"
    MODIFY_REJECT = "MODIFY_REJECT"
    EXPIRE = "EXPIRE"


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"
    TRAILING_STOP = "TRAILING_STOP"


_S = OrderStatus
_T = OrderTrigger

# Read-only so no caller can widen the state machine at runtime.
TRANSITIONS: Mapping[tuple[OrderStatus, OrderTrigger], OrderStatus] = MappingProxyType(
    {
        # An order rejected or canceled locally was never sent to the venue.
        (_S.NEW, _T.SUBMIT): _S.SUBMITTED,
        (_S.NEW, _T.REJECT): _S.REJECTED,
        (_S.NEW, _T.CANCEL): _S.CANCELED,
        (_S.SUBMITTED, _T.ACCEPT): _S.ACCEPTED,
        (_S.SUBMITTED, _T.REJECT): _S.REJECTED,
        # Fast venues report fills before the acknowledgement.
        (_S.SUBMITTED, _T.PARTIAL_FILL): _S.PARTIALLY_FILLED,
        (_S.SUBMITTED, _T.FILL): _S.FILLED,
        (_S.SUBMITTED, _T.CANCEL_REQUEST): _S.PENDING_CANCEL,
        (_S.SUBMITTED, _T.CANCEL): _S.CANCELED,
        (_S.SUBMITTED, _T.EXPIRE): _S.EXPIRED,
        (_S.ACCEPTED, _T.PARTIAL_FILL): _S.PARTIALLY_FILLED,
        (_S.ACCEPTED, _T.FILL): _S.FILLED,
        (_S.ACCEPTED, _T.CANCEL_REQUEST): _S.PENDING_CANCEL,
        (_S.ACCEPTED, _T.CANCEL): _S.CANCELED,
        (_S.ACCEPTED, _T.MODIFY_REQUEST): _S.PENDING_MODIFY,
        (_S.ACCEPTED, _T.EXPIRE): _S.EXPIRED,
        (_S.ACCEPTED, _T.REJECT): _S.REJECTED,
        (_S.PARTIALLY_FILLED, _T.PARTIAL_FILL): _S.PARTIALLY_FILLED,
        (_S.PARTIALLY_FILLED, _T.FILL): _S.FILLED,
        (_S.PARTIALLY_FILLED, _T.CANCEL_REQUEST): _S.PENDING_CANCEL,
        (_S.PARTIALLY_FILLED, _T.CANCEL): _S.CANCELED,
        (_S.PARTIALLY_FILLED, _T.MODIFY_REQUEST): _S.PENDING_MODIFY,
        (_S.PARTIALLY_FILLED, _T.EXPIRE): _S.EXPIRED,
        (_S.PENDING_CANCEL, _T.CANCEL): _S.CANCELED,
        (_S.PENDING_CANCEL, _T.PARTIAL_FILL): _S.PENDING_CANCEL,
        # A fill can race the cancel request and win.
        (_S.PENDING_CANCEL, _T.FILL): _S.FILLED,
        (_S.PENDING_CANCEL, _T.CANCEL_REJECT): _S.ACCEPTED,
        (_S.PENDING_CANCEL, _T.EXPIRE): _S.EXPIRED,
        # A refused modification leaves the original order working.
        (_S.PENDING_MODIFY, _T.MODIFY_ACCEPT): _S.ACCEPTED,
        (_S.PENDING_MODIFY, _T.MODIFY_REJECT): _S.ACCEPTED,
        (_S.PENDING_MODIFY, _T.PARTIAL_FILL): _S.PENDING_MODIFY,
        (_S.PENDING_MODIFY, _T.FILL): _S.FILLED,
        (_S.PENDING_MODIFY, _T.CANCEL): _S.CANCELED,
        (_S.PENDING_MODIFY, _T.CANCEL_REQUEST): _S.PENDING_CANCEL,
        # A fill the venue reports after our cancel or expiry happened all the same: book it
        # (a partial one leaves the order canceled or expired, a complete one fills it).
        (_S.CANCELED, _T.PARTIAL_FILL): _S.CANCELED,
        (_S.CANCELED, _T.FILL): _S.FILLED,
        (_S.EXPIRED, _T.PARTIAL_FILL): _S.EXPIRED,
        (_S.EXPIRED, _T.FILL): _S.FILLED,
    }
)

TERMINAL_STATUSES: frozenset[OrderStatus] = frozenset({_S.FILLED, _S.CANCELED, _S.REJECTED, _S.EXPIRED})
OPEN_STATUSES: frozenset[OrderStatus] = frozenset(OrderStatus) - TERMINAL_STATUSES
# Sent and working at the venue, with no cancel or change of ours in flight.
WORKING_STATUSES: frozenset[OrderStatus] = frozenset({_S.SUBMITTED, _S.ACCEPTED, _S.PARTIALLY_FILLED})


class IllegalTransition(Exception):
    """Raised when a trigger is not allowed from an order's current status."""

    code = "illegal_transition"

    def __init__(self, status: OrderStatus, trigger: OrderTrigger) -> None:
        self.status = status
        self.trigger = trigger
        self.message = f"An order in state {status} cannot take {trigger}."
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def next_status(status: OrderStatus, trigger: OrderTrigger) -> OrderStatus:
    """Return the status reached from ``status`` on ``trigger``; raise if illegal."""
    try:
        return TRANSITIONS[(status, trigger)]
    except KeyError:
        raise IllegalTransition(status, trigger) from None


def is_open(status: OrderStatus) -> bool:
    """True while the order can still fill or change (not terminal)."""
    return status in OPEN_STATUSES
