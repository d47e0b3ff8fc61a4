"""Properties of the order state machine over random event sequences from NEW, valid and invalid alike.

Each step draws an event that fits the order as it stands (fills of exactly what remains, one unit
more, or anything; modifications down to the filled quantity, one unit above, or anything) and
checks the outcome against a model kept here: the fills booked, and the order as it was before
its pending request.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trading.core.orders import (
    PENDING_STATUSES,
    PREVIOUS,
    TERMINAL_STATUSES,
    TRANSITIONS,
    WORKING_STATUSES,
    Accepted,
    Canceled,
    CancelRejected,
    CancelRequested,
    Expired,
    Filled,
    FillExceedsQuantity,
    IllegalTransition,
    InvalidModification,
    ModifyAccepted,
    ModifyRejected,
    ModifyRequested,
    OrderError,
    OrderEvent,
    OrderState,
    OrderStatus,
    OrderTrigger,
    Rejected,
    Submitted,
    transition,
)

S = OrderStatus
T = OrderTrigger
D = Decimal
UNIT = D("0.01")
WIDE = Context(prec=200)
MEAN = Context(prec=28, rounding=ROUND_HALF_EVEN)

amounts = st.integers(min_value=1, max_value=20_000).map(lambda n: D(n) * UNIT)
prices = st.integers(min_value=1, max_value=10**9).map(lambda n: D(n) / 10**6)
maybe_prices = st.one_of(st.none(), prices)
reasons = st.text(max_size=5)


Recipe = Callable[[OrderState], OrderEvent]


def _fill(mode: str, amount: Decimal, price: Decimal) -> Recipe:
    def make(state: OrderState) -> OrderEvent:
        remaining = state.remaining_quantity
        quantity = {
            "rest": remaining,
            "half": (remaining / 2).quantize(UNIT, rounding=ROUND_DOWN),
            "over": remaining + UNIT,  # one unit too many
        }.get(mode, amount)
        return Filled(quantity if quantity > 0 else amount, price)

    return make


def _modify(mode: str, amount: Decimal, price: Decimal | None, stop_price: Decimal | None) -> Recipe:
    def make(state: OrderState) -> OrderEvent:
        filled = state.filled_quantity
        quantity = {"none": None, "filled": filled or amount, "above": filled + UNIT}.get(mode, amount)
        if quantity is None and price is None and stop_price is None:
            quantity = amount
        return ModifyRequested(quantity, price, stop_price)

    return make


def _always(event_strategy: st.SearchStrategy[OrderEvent]) -> st.SearchStrategy[Recipe]:
    return event_strategy.map(lambda event: lambda _state: event)


# Built once: each step draws a recipe and makes the event from the order as it stands.
any_event: st.SearchStrategy[Recipe] = st.one_of(
    _always(st.just(Submitted())),
    _always(st.just(Accepted())),
    _always(st.builds(Rejected, code=st.sampled_from(["", "venue_reject"]), reason=reasons)),
    st.builds(_fill, st.sampled_from(["rest", "half", "over", "any"]), amounts, prices),
    _always(st.just(CancelRequested())),
    _always(st.builds(Canceled, reason=reasons)),
    _always(st.builds(CancelRejected, reason=reasons)),
    st.builds(_modify, st.sampled_from(["none", "filled", "above", "any"]), amounts, maybe_prices, maybe_prices),
    _always(st.just(ModifyAccepted())),
    _always(st.builds(ModifyRejected, reason=reasons)),
    _always(st.builds(Expired, reason=reasons)),
)

SIMPLE = {
    T.SUBMIT: Submitted(),
    T.ACCEPT: Accepted(),
    T.REJECT: Rejected("venue_reject", "Refused."),
    T.CANCEL_REQUEST: CancelRequested(),
    T.CANCEL: Canceled(),
    T.CANCEL_REJECT: CancelRejected(),
    T.MODIFY_ACCEPT: ModifyAccepted(),
    T.MODIFY_REJECT: ModifyRejected(),
    T.EXPIRE: Expired(),
}


def _legal(choice: int, closing: bool, modify: Recipe, price: Decimal) -> Recipe:
    """A trigger the order's status takes (the table's rows for it), so that orders get somewhere.

    Triggers that close the order are picked only when ``closing``, so that orders live long enough.
    """

    def make(state: OrderState) -> OrderEvent:
        rows = {trigger: target for (status, trigger), target in TRANSITIONS.items() if status is state.status}
        if not rows:
            return Submitted()  # FILLED and REJECTED take nothing
        staying = [trigger for trigger, target in rows.items() if target not in TERMINAL_STATUSES]
        triggers = list(rows) if closing or not staying else staying
        trigger = triggers[choice % len(triggers)]
        if trigger is T.MODIFY_REQUEST:
            request = modify(state)
            assert isinstance(request, ModifyRequested)
            if choice % 2:
                return request  # as drawn: down to the fills, or a price the order lacks
            # One that fits: above the fills, prices the order has.
            return ModifyRequested(
                quantity=max(request.quantity or state.quantity, state.filled_quantity + UNIT),
                price=request.price if state.price else None,
                stop_price=request.stop_price if state.stop_price else None,
            )
        if trigger is T.PARTIAL_FILL:
            return _fill("half" if state.remaining_quantity > UNIT else "rest", UNIT, price)(state)
        if trigger is T.FILL:
            return _fill("rest", UNIT, price)(state)
        return SIMPLE[trigger]

    return make


legal_event: st.SearchStrategy[Recipe] = st.builds(
    _legal,
    st.integers(min_value=0, max_value=11),
    st.integers(min_value=0, max_value=4).map(lambda n: n == 0),
    st.builds(_modify, st.sampled_from(["none", "filled", "above", "any"]), amounts, maybe_prices, maybe_prices),
    prices,
)
# Three legal events to one of anything: random sequences reach every row, and still try every wrong move.
legal_or_any = st.integers(min_value=0, max_value=3).map(lambda n: legal_event if n < 3 else any_event)


orders = st.builds(OrderState, quantity=amounts, price=maybe_prices, stop_price=maybe_prices)


@dataclass
class Model:
    """What the test itself knows of the order, independently of OrderState's own bookkeeping."""

    fills: list[tuple[Decimal, Decimal]] = field(default_factory=list)
    # The order as it was when the first of its pending requests was made (None when nothing is pending),
    # and the modification asked for, if the request in flight is one.
    before_request: OrderState | None = None
    request: ModifyRequested | None = None
    filled_while_pending: bool = False

    @property
    def filled(self) -> Decimal:
        return WIDE.add(D(0), sum((quantity for quantity, _ in self.fills), D(0)))

    @property
    def average(self) -> Decimal | None:
        if not self.fills:
            return None
        notional = D(0)
        for quantity, price in self.fills:
            notional = WIDE.add(notional, WIDE.multiply(quantity, price))
        return MEAN.divide(notional, self.filled)


def trigger_of(state: OrderState, event: OrderEvent) -> OrderTrigger:
    if isinstance(event, Filled):
        return T.FILL if state.filled_quantity + event.quantity >= state.quantity else T.PARTIAL_FILL
    return event.trigger


def expected_refusal(state: OrderState, event: OrderEvent, model: Model) -> type[OrderError] | None:
    """Which error the event must raise, worked out from the table and the model, or None."""
    if (state.status, trigger_of(state, event)) not in TRANSITIONS:
        return IllegalTransition
    if isinstance(event, Filled) and model.filled + event.quantity > state.quantity:
        return FillExceedsQuantity
    request = model.request if isinstance(event, ModifyAccepted) else event
    if isinstance(request, ModifyRequested) and (
        (request.quantity is not None and request.quantity <= model.filled)
        or (request.price is not None and state.price is None)
        or (request.stop_price is not None and state.stop_price is None)
    ):
        return InvalidModification
    return None


def check_refusal(state: OrderState, event: OrderEvent, error: OrderError) -> None:
    if isinstance(error, IllegalTransition):
        assert (error.status, error.trigger) == (state.status, trigger_of(state, event))
    if isinstance(error, FillExceedsQuantity):
        assert (error.quantity, error.filled_quantity) == (state.quantity, state.filled_quantity)


def check_move(state: OrderState, event: OrderEvent, after: OrderState, trigger: OrderTrigger, model: Model) -> None:
    target = TRANSITIONS[(state.status, trigger)]
    assert trigger is trigger_of(state, event)
    # Terminal states absorb: FILLED and REJECTED take nothing; CANCELED and EXPIRED only a late fill.
    assert state.status not in (S.FILLED, S.REJECTED)
    if state.status in (S.CANCELED, S.EXPIRED):
        assert isinstance(event, Filled)
        assert after.status in (state.status, S.FILLED)
    # The books: every fill counted once, never past the quantity, at the exact fill-weighted mean.
    assert after.filled_quantity == model.filled <= after.quantity
    assert after.average_fill_price == model.average
    assert (after.status is S.FILLED) is (after.filled_quantity == after.quantity)
    if target is PREVIOUS:
        # A refused request changes nothing but the fills that came meanwhile; an accepted one its values.
        assert model.before_request is not None
        restored = replace(
            model.before_request,
            filled_quantity=after.filled_quantity,
            filled_notional=after.filled_notional,
            status=S.PARTIALLY_FILLED if model.filled_while_pending else model.before_request.status,
        )
        if isinstance(event, ModifyAccepted):
            assert model.request is not None
            restored = replace(
                restored,
                quantity=model.request.quantity or restored.quantity,
                price=model.request.price or restored.price,
                stop_price=model.request.stop_price or restored.stop_price,
            )
        assert after == restored
        assert after.status in WORKING_STATUSES
    else:
        assert after.status is target
        assert (after.quantity, after.price, after.stop_price) == (state.quantity, state.price, state.stop_price)


def model_move(state: OrderState, event: OrderEvent, after: OrderState, model: Model) -> None:
    if after.status in PENDING_STATUSES:
        if model.before_request is None:
            model.before_request = state
        model.filled_while_pending |= isinstance(event, Filled)
        if isinstance(event, ModifyRequested):
            model.request = event
        elif after.status is S.PENDING_CANCEL:
            model.request = None
    else:
        model.before_request, model.request, model.filled_while_pending = None, None, False


@settings(max_examples=400, deadline=None)
@given(data=st.data(), start=orders, steps=st.integers(min_value=1, max_value=40))
def test_random_event_sequences_keep_the_order_consistent(data: st.DataObject, start: OrderState, steps: int) -> None:
    state, model = start, Model()
    refused_after_the_end = 0
    for _ in range(steps):
        event = data.draw(data.draw(legal_or_any))(state)
        expected = expected_refusal(state, event, model)
        snapshot = replace(state)
        if state.status in TERMINAL_STATUSES and refused_after_the_end >= 3:
            break  # closed orders absorb (but for late fills): enough tries
        try:
            moved = transition(state, event)
        except OrderError as error:
            assert type(error) is expected, f"{event} on {state} raised {error!r}, expected {expected}"
            check_refusal(state, event, error)
            assert state == snapshot  # a refused event changes nothing
            refused_after_the_end += state.status in TERMINAL_STATUSES
            continue
        assert expected is None, f"{event} on {state} moved, expected {expected}"
        assert moved.before is state
        assert moved.event is event
        if isinstance(event, Filled):
            model.fills.append((event.quantity, event.price))
        check_move(state, event, moved.state, moved.trigger, model)
        model_move(state, event, moved.state, model)
        assert moved.state.filled_quantity >= state.filled_quantity  # no move ever loses a fill
        state = moved.state


@given(start=orders, fills=st.lists(st.tuples(amounts, prices), min_size=1, max_size=8), data=st.data())
def test_the_average_does_not_depend_on_the_order_of_the_fills(
    start: OrderState, fills: list[tuple[Decimal, Decimal]], data: st.DataObject
) -> None:
    quantity = sum((q for q, _ in fills), D(0))
    accepted = replace(start, quantity=quantity).apply(Submitted()).apply(Accepted())
    shuffled = data.draw(st.permutations(fills))
    states = []
    for sequence in (fills, shuffled):
        state = accepted
        for q, p in sequence:
            state = state.apply(Filled(q, p))
        states.append(state)
    assert states[0].status is states[1].status is S.FILLED
    assert states[0].filled_notional == states[1].filled_notional
    assert states[0].average_fill_price == states[1].average_fill_price
