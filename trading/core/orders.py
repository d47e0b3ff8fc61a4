"""Order state machine: the single authority on an order's status, quantities and fill price.

Modelled on nautilus_trader's ``model/orders/base.pyx``: every status change an
order can undergo is a row in ``TRANSITIONS``; anything else is an error, never
a silent write. ``transition(state, event)`` (or ``state.apply(event)``) takes
an immutable ``OrderState`` and one typed event and returns the whole next
state, as Nautilus's ``Order.apply`` does:

- A ``Filled`` event is one fill. The machine decides PARTIAL_FILL or FILL from
  the quantities (FILL exactly when the fill brings ``filled_quantity`` to
  ``quantity``) and refuses a fill past the quantity (``FillExceedsQuantity``).
- ``filled_notional`` is the exact sum of ``quantity * price`` over the fills
  (never rounded); ``average_fill_price`` is ``filled_notional / filled_quantity``
  rounded once, to 28 significant digits half-even, whatever the ambient
  decimal context. The order of the fills never changes it.
- A cancel or modify request moves a working order to PENDING_CANCEL or
  PENDING_MODIFY and remembers the status it left in ``previous_status``. The
  rows whose target is ``PREVIOUS`` (cancel rejected, modify accepted, modify
  rejected) return the order to that status. A partial fill while pending
  keeps the order pending and sets ``previous_status`` to PARTIALLY_FILLED, so a
  refused request never loses a fill.
- A modification's new quantity, price and stop price are requested with
  ``ModifyRequested`` and take effect on ``ModifyAccepted``. The new quantity
  must stay above the filled quantity (a change down to exactly what filled is
  a cancel); only a price or stop price the order has can change.
- A fill the venue reports after CANCELED or EXPIRED happened all the same and
  is booked: a partial one leaves the order canceled or expired, a complete one
  fills it. FILLED and REJECTED take nothing.

Everything is ``Decimal`` and nothing reads a clock: live trading and the
backtester call the same code.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import ClassVar, Final


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


class PreviousStatus(Enum):
    """A table target: back to the status the order left for its pending request (``previous_status``)."""

    PREVIOUS = "PREVIOUS"


PREVIOUS: Final = PreviousStatus.PREVIOUS

_S = OrderStatus
_T = OrderTrigger

# Read-only so no caller can widen the state machine at runtime.
TRANSITIONS: Mapping[tuple[OrderStatus, OrderTrigger], OrderStatus | PreviousStatus] = MappingProxyType(
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
        # A refused cancel leaves the order as it was, fills included (SUBMITTED stays unacknowledged).
        (_S.PENDING_CANCEL, _T.CANCEL_REJECT): PREVIOUS,
        (_S.PENDING_CANCEL, _T.EXPIRE): _S.EXPIRED,
        # Modified or not, the order goes on working as it was: ACCEPTED, or PARTIALLY_FILLED once anything filled.
        (_S.PENDING_MODIFY, _T.MODIFY_ACCEPT): PREVIOUS,
        (_S.PENDING_MODIFY, _T.MODIFY_REJECT): PREVIOUS,
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
# A cancel or change of ours in flight; previous_status holds the status to return to.
PENDING_STATUSES: frozenset[OrderStatus] = frozenset({_S.PENDING_CANCEL, _S.PENDING_MODIFY})


class OrderError(Exception):
    """An event the order cannot take: a machine code and a sentence for the person who asked."""

    code = "order_error"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class IllegalTransition(OrderError):
    """Raised when a trigger is not allowed from an order's current status."""

    code = "illegal_transition"

    def __init__(self, status: OrderStatus, trigger: OrderTrigger) -> None:
        self.status = status
        self.trigger = trigger
        super().__init__(f"An order in state {status} cannot take {trigger}.")


class FillExceedsQuantity(OrderError):
    """Raised when a fill would take the filled quantity past the order's quantity."""

    code = "fill_exceeds_quantity"

    def __init__(self, quantity: Decimal, filled_quantity: Decimal, fill_quantity: Decimal) -> None:
        self.quantity = quantity
        self.filled_quantity = filled_quantity
        self.fill_quantity = fill_quantity
        super().__init__(
            f"A fill of {fill_quantity} on an order for {quantity} with {filled_quantity} filled would overfill it."
        )


class InvalidModification(OrderError):
    """Raised when a requested (or accepted) modification does not fit the order."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def _target(status: OrderStatus, trigger: OrderTrigger) -> OrderStatus | PreviousStatus:
    try:
        return TRANSITIONS[(status, trigger)]
    except KeyError:
        raise IllegalTransition(status, trigger) from None


def next_status(status: OrderStatus, trigger: OrderTrigger, previous: OrderStatus = _S.ACCEPTED) -> OrderStatus:
    """Return the status reached from ``status`` on ``trigger``; raise if illegal.

    ``previous`` answers the rows whose target is PREVIOUS. Its default, ACCEPTED, is right
    only for an order that has filled nothing; ``transition`` always knows the real one.
    """
    target = _target(status, trigger)
    return previous if target is PREVIOUS else target


def is_open(status: OrderStatus) -> bool:
    """True while the order can still fill or change (not terminal)."""
    return status in OPEN_STATUSES


# Sums and products of finite decimals never round at the largest precision: the books stay exact.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
# The one rounding, of the average fill price; fixed here so the caller's decimal context never changes it.
_AVERAGE = Context(prec=28, rounding=ROUND_HALF_EVEN)
_ZERO = Decimal(0)


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"The {name} must be a Decimal, got {type(value).__name__}.")
    if not value.is_finite():
        raise ValueError(f"The {name} must be a finite number, got {value}.")


def _require_positive(name: str, value: Decimal) -> None:
    _require_decimal(name, value)
    if value <= 0:
        raise ValueError(f"The {name} must be a positive number, got {value}.")


# Events: one each for what the engine or the venue says happened. All but Filled name their trigger.


@dataclass(frozen=True)
class Submitted:
    """The order was sent to the venue."""

    trigger: ClassVar[OrderTrigger] = _T.SUBMIT


@dataclass(frozen=True)
class Accepted:
    """The venue acknowledged the order."""

    trigger: ClassVar[OrderTrigger] = _T.ACCEPT


@dataclass(frozen=True)
class Rejected:
    """The order was refused, locally before it was sent or by the venue."""

    code: str = ""
    reason: str = ""
    trigger: ClassVar[OrderTrigger] = _T.REJECT


@dataclass(frozen=True)
class Filled:
    """One fill; the machine decides whether it is partial (PARTIAL_FILL) or completes the order (FILL)."""

    quantity: Decimal
    price: Decimal

    def __post_init__(self) -> None:
        _require_positive("fill quantity", self.quantity)
        _require_positive("fill price", self.price)


@dataclass(frozen=True)
class CancelRequested:
    """We asked the venue to cancel the order."""

    trigger: ClassVar[OrderTrigger] = _T.CANCEL_REQUEST


@dataclass(frozen=True)
class Canceled:
    """The order was canceled, locally before it was sent or by the venue."""

    reason: str = ""
    trigger: ClassVar[OrderTrigger] = _T.CANCEL


@dataclass(frozen=True)
class CancelRejected:
    """The venue refused our cancel request: the order works on as before."""

    reason: str = ""
    trigger: ClassVar[OrderTrigger] = _T.CANCEL_REJECT


@dataclass(frozen=True)
class ModifyRequested:
    """We asked the venue to change the order; a field left None stays as it is."""

    quantity: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trigger: ClassVar[OrderTrigger] = _T.MODIFY_REQUEST

    def __post_init__(self) -> None:
        if self.quantity is None and self.price is None and self.stop_price is None:
            raise ValueError("A modification must change the quantity, the price or the stop price.")
        for name in ("quantity", "price", "stop_price"):
            value = getattr(self, name)
            if value is not None:
                _require_positive(f"new {name.replace('_', ' ')}", value)


@dataclass(frozen=True)
class ModifyAccepted:
    """The venue accepted the requested modification: it takes effect now."""

    trigger: ClassVar[OrderTrigger] = _T.MODIFY_ACCEPT


@dataclass(frozen=True)
class ModifyRejected:
    """The venue refused the requested modification: the order works on as before."""

    reason: str = ""
    trigger: ClassVar[OrderTrigger] = _T.MODIFY_REJECT


@dataclass(frozen=True)
class Expired:
    """The order's time in force ran out."""

    reason: str = ""
    trigger: ClassVar[OrderTrigger] = _T.EXPIRE


OrderEvent = (
    Submitted
    | Accepted
    | Rejected
    | Filled
    | CancelRequested
    | Canceled
    | CancelRejected
    | ModifyRequested
    | ModifyAccepted
    | ModifyRejected
    | Expired
)


def _fills_fit(status: OrderStatus, filled_quantity: Decimal, quantity: Decimal) -> bool:
    """Whether an order in ``status`` can have ``filled_quantity`` of ``quantity`` filled."""
    if status is _S.FILLED:
        return filled_quantity == quantity
    if status is _S.PARTIALLY_FILLED:
        return 0 < filled_quantity < quantity
    if status in (_S.NEW, _S.SUBMITTED, _S.ACCEPTED, _S.REJECTED):
        return filled_quantity == 0
    return filled_quantity < quantity  # pending, or canceled or expired after some fills


@dataclass(frozen=True, kw_only=True)
class OrderState:
    """Everything the state machine knows of one order. Build one for a new order or from a stored
    one, then move it only with ``apply`` / ``transition``.

    Invariants (checked on construction): ``0 <= filled_quantity <= quantity``; ``filled_notional``
    is zero exactly when nothing filled; the status fits the fills (FILLED: all of it,
    PARTIALLY_FILLED: some, NEW/SUBMITTED/ACCEPTED/REJECTED: none, others: not all);
    ``previous_status`` is set exactly in the pending statuses, to a working status that fits
    the fills; ``modification`` is set exactly in PENDING_MODIFY.
    """

    quantity: Decimal
    status: OrderStatus = _S.NEW
    filled_quantity: Decimal = _ZERO
    # Sum of quantity * price over the fills, exact: the average fill price is derived from it.
    filled_notional: Decimal = _ZERO
    price: Decimal | None = None
    stop_price: Decimal | None = None
    previous_status: OrderStatus | None = None
    modification: ModifyRequested | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", OrderStatus(self.status))
        if self.previous_status is not None:
            object.__setattr__(self, "previous_status", OrderStatus(self.previous_status))
        _require_positive("order quantity", self.quantity)
        for name in ("price", "stop_price"):
            value = getattr(self, name)
            if value is not None:
                _require_positive(name.replace("_", " "), value)
        _require_decimal("filled quantity", self.filled_quantity)
        _require_decimal("filled notional", self.filled_notional)
        if not 0 <= self.filled_quantity <= self.quantity:
            raise ValueError(f"The filled quantity {self.filled_quantity} must lie in [0, {self.quantity}].")
        if self.filled_notional < 0 or (self.filled_notional == 0) != (self.filled_quantity == 0):
            raise ValueError(
                f"The filled notional {self.filled_notional} does not fit the filled quantity {self.filled_quantity}."
            )
        if not _fills_fit(self.status, self.filled_quantity, self.quantity):
            raise ValueError(f"An order in state {self.status} cannot have {self.filled_quantity} filled.")
        pending = self.status in PENDING_STATUSES
        if pending != (self.previous_status is not None):
            raise ValueError(f"An order in state {self.status} cannot have the previous status {self.previous_status}.")
        if self.previous_status is not None and (
            self.previous_status not in WORKING_STATUSES
            or not _fills_fit(self.previous_status, self.filled_quantity, self.quantity)
        ):
            raise ValueError(f"An order with {self.filled_quantity} filled cannot return to {self.previous_status}.")
        if (self.status is _S.PENDING_MODIFY) != (self.modification is not None):
            raise ValueError(f"An order in state {self.status} cannot hold the modification {self.modification}.")

    @property
    def average_fill_price(self) -> Decimal | None:
        """The fill-weighted mean price, rounded once to 28 significant digits; None before the first fill."""
        if self.filled_quantity == 0:
            return None
        return _AVERAGE.divide(self.filled_notional, self.filled_quantity)

    @property
    def remaining_quantity(self) -> Decimal:
        return _EXACT.subtract(self.quantity, self.filled_quantity)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def apply(self, event: OrderEvent) -> "OrderState":
        """The state after ``event``; raises an OrderError (and changes nothing) if the order cannot take it."""
        return transition(self, event).state


@dataclass(frozen=True)
class Transition:
    """One move of the machine: what the services write (``state``) and record (``trigger``, ``event``)."""

    before: OrderState
    event: OrderEvent
    trigger: OrderTrigger
    state: OrderState

    @property
    def late_fill(self) -> bool:
        """A fill booked on an order already canceled or expired (only fills leave those statuses)."""
        return self.before.status in (_S.CANCELED, _S.EXPIRED)


def _check_modification(state: OrderState, request: ModifyRequested) -> None:
    if request.quantity is not None and request.quantity <= state.filled_quantity:
        raise InvalidModification(
            "quantity_below_filled", f"{state.filled_quantity} are filled already; ask for more than that."
        )
    if request.price is not None and state.price is None:
        raise InvalidModification("not_a_limit_order", "The order has no limit price to change.")
    if request.stop_price is not None and state.stop_price is None:
        raise InvalidModification("not_a_stop_order", "The order has no stop price to change.")


def _fill(state: OrderState, fill: Filled) -> Transition:
    filled_quantity = _EXACT.add(state.filled_quantity, fill.quantity)
    trigger = _T.FILL if filled_quantity >= state.quantity else _T.PARTIAL_FILL
    target = _target(state.status, trigger)
    if filled_quantity > state.quantity:
        raise FillExceedsQuantity(state.quantity, state.filled_quantity, fill.quantity)
    assert isinstance(target, OrderStatus)  # no fill row returns to a previous status
    pending = target in PENDING_STATUSES
    after = replace(
        state,
        status=target,
        filled_quantity=filled_quantity,
        filled_notional=_EXACT.add(state.filled_notional, _EXACT.multiply(fill.quantity, fill.price)),
        # A refused request now returns the order to PARTIALLY_FILLED, whatever it was before.
        previous_status=_S.PARTIALLY_FILLED if pending else None,
        modification=state.modification if pending else None,
    )
    return Transition(state, fill, trigger, after)


def transition(state: OrderState, event: OrderEvent) -> Transition:
    """The move ``event`` makes from ``state``: the next state and the trigger it fired.

    Raises IllegalTransition when the table has no row for it, FillExceedsQuantity for an
    overfill and InvalidModification for a modification that does not fit; ``state`` itself
    never changes (it is immutable).
    """
    if isinstance(event, Filled):
        return _fill(state, event)
    trigger = event.trigger
    target = _target(state.status, trigger)
    if target is PREVIOUS:
        assert state.previous_status is not None  # an OrderState invariant in the pending statuses
        after = replace(state, status=state.previous_status, previous_status=None, modification=None)
        if isinstance(event, ModifyAccepted):
            request = state.modification
            assert request is not None  # an OrderState invariant in PENDING_MODIFY
            # Fills may have arrived since the request: check it again against them.
            _check_modification(after, request)
            after = replace(
                after,
                quantity=state.quantity if request.quantity is None else request.quantity,
                price=state.price if request.price is None else request.price,
                stop_price=state.stop_price if request.stop_price is None else request.stop_price,
            )
    elif target in PENDING_STATUSES:
        if isinstance(event, ModifyRequested):
            _check_modification(state, event)
        after = replace(
            state,
            status=target,
            # Pending on pending (a cancel asked while a change is in flight) keeps the working status.
            previous_status=state.previous_status or state.status,
            modification=event if isinstance(event, ModifyRequested) else None,
        )
    else:
        after = replace(state, status=target, previous_status=None, modification=None)
    return Transition(state, event, trigger, after)
