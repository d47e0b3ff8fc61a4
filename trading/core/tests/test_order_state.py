"""OrderState.apply / transition: examples for every row of the table, the fills and the modifications."""

import itertools
import re
from dataclasses import FrozenInstanceError, replace
from decimal import Decimal as D
from decimal import localcontext

import pytest

from trading.core.orders import (
    PREVIOUS,
    TRANSITIONS,
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
    Transition,
    transition,
)

S = OrderStatus
T = OrderTrigger

NEW = OrderState(quantity=D(100), price=D("10.00"), stop_price=D("9.00"))


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def run(*events: OrderEvent, state: OrderState = NEW) -> OrderState:
    for event in events:
        state = state.apply(event)
    return state


SUBMITTED = run(Submitted())
ACCEPTED = run(Accepted(), state=SUBMITTED)
PARTIALLY_FILLED = run(Filled(D(40), D("10.00")), state=ACCEPTED)

# One order in each status, reached through the machine from NEW.
REACHED = {
    S.NEW: NEW,
    S.SUBMITTED: SUBMITTED,
    S.ACCEPTED: ACCEPTED,
    S.PARTIALLY_FILLED: PARTIALLY_FILLED,
    S.FILLED: run(Filled(D(100), D("10.00")), state=ACCEPTED),
    S.PENDING_CANCEL: run(CancelRequested(), state=PARTIALLY_FILLED),
    S.CANCELED: run(Canceled(), state=PARTIALLY_FILLED),
    S.PENDING_MODIFY: run(ModifyRequested(quantity=D(80)), state=PARTIALLY_FILLED),
    S.REJECTED: run(Rejected("no_margin", "Not enough margin."), state=SUBMITTED),
    S.EXPIRED: run(Expired("session closed"), state=PARTIALLY_FILLED),
}


def event_firing(trigger: OrderTrigger, state: OrderState) -> OrderEvent:
    """An event that fires ``trigger`` on ``state``."""
    if trigger is T.FILL:
        return Filled(state.remaining_quantity or D(1), D("11.00"))
    return {
        T.SUBMIT: Submitted(),
        T.ACCEPT: Accepted(),
        T.REJECT: Rejected("venue_reject", "Refused."),
        T.PARTIAL_FILL: Filled(D(10), D("11.00")),
        T.CANCEL_REQUEST: CancelRequested(),
        T.CANCEL: Canceled("asked"),
        T.CANCEL_REJECT: CancelRejected("too late"),
        T.MODIFY_REQUEST: ModifyRequested(quantity=D(90)),
        T.MODIFY_ACCEPT: ModifyAccepted(),
        T.MODIFY_REJECT: ModifyRejected("refused"),
        T.EXPIRE: Expired("session closed"),
    }[trigger]


def test_each_status_is_reached() -> None:
    assert {status: state.status for status, state in REACHED.items()} == {s: s for s in S}


@pytest.mark.parametrize(("status", "trigger"), list(TRANSITIONS))
def test_every_row_moves_the_order_as_the_table_says(status: OrderStatus, trigger: OrderTrigger) -> None:
    before = REACHED[status]
    event = event_firing(trigger, before)
    moved = transition(before, event)
    target = TRANSITIONS[(status, trigger)]
    assert moved.trigger is trigger
    assert moved.before is before
    assert moved.event is event
    assert moved.state.status is (before.previous_status if target is PREVIOUS else target)
    assert before.apply(event) == moved.state


# (FILLED, PARTIAL_FILL) cannot be fired: any fill on a filled order completes it, so it is a FILL.
UNFIRABLE = {(S.FILLED, T.PARTIAL_FILL)}
ILLEGAL = [pair for pair in itertools.product(S, T) if pair not in TRANSITIONS and pair not in UNFIRABLE]


@pytest.mark.parametrize(("status", "trigger"), ILLEGAL)
def test_every_other_event_is_refused(status: OrderStatus, trigger: OrderTrigger) -> None:
    before = REACHED[status]
    with pytest.raises(
        IllegalTransition, match=exactly(f"An order in state {status} cannot take {trigger}.")
    ) as caught:
        transition(before, event_firing(trigger, before))
    assert (caught.value.status, caught.value.trigger) == (status, trigger)
    assert caught.value.code == "illegal_transition"


# The two bugs of issue 12: the old table sent both refusals to ACCEPTED and dropped the partial fill.


def test_a_refused_modify_leaves_a_partly_filled_order_partly_filled() -> None:
    refused = run(ModifyRequested(quantity=D(80)), ModifyRejected("venue says no"), state=PARTIALLY_FILLED)
    assert refused == PARTIALLY_FILLED
    assert refused.status is S.PARTIALLY_FILLED
    assert refused.filled_quantity == D(40)


def test_a_refused_cancel_leaves_a_partly_filled_order_partly_filled() -> None:
    refused = run(CancelRequested(), CancelRejected("too late"), state=PARTIALLY_FILLED)
    assert refused == PARTIALLY_FILLED
    assert refused.status is S.PARTIALLY_FILLED


def test_a_refused_cancel_leaves_an_unacknowledged_order_submitted() -> None:
    assert run(CancelRequested(), CancelRejected(), state=SUBMITTED) == SUBMITTED


def test_a_refused_cancel_leaves_an_accepted_order_accepted() -> None:
    assert run(CancelRequested(), CancelRejected(), state=ACCEPTED) == ACCEPTED


@pytest.mark.parametrize(
    ("request_", "status", "answer"),
    [
        (CancelRequested(), S.PENDING_CANCEL, CancelRejected()),
        (ModifyRequested(price=D("9.50")), S.PENDING_MODIFY, ModifyRejected()),
    ],
)
def test_a_fill_while_pending_is_kept_when_the_request_is_refused(
    request_: OrderEvent, status: OrderStatus, answer: OrderEvent
) -> None:
    pending = run(request_, Filled(D(25), D("10.00")), state=ACCEPTED)
    assert pending.status is status
    assert pending.previous_status is S.PARTIALLY_FILLED
    refused = pending.apply(answer)
    assert refused.status is S.PARTIALLY_FILLED
    assert refused.filled_quantity == D(25)
    assert refused.average_fill_price == D("10.00")
    assert refused.previous_status is None
    assert refused.price == D("10.00")


def test_an_accepted_modify_applies_the_change_and_keeps_the_fills() -> None:
    modified = run(
        ModifyRequested(quantity=D(80), price=D("9.50"), stop_price=D("8.50")), ModifyAccepted(), state=PARTIALLY_FILLED
    )
    assert modified == replace(PARTIALLY_FILLED, quantity=D(80), price=D("9.50"), stop_price=D("8.50"))
    assert modified.status is S.PARTIALLY_FILLED


def test_an_accepted_modify_of_an_unfilled_order_leaves_it_accepted() -> None:
    modified = run(ModifyRequested(quantity=D(60)), ModifyAccepted(), state=ACCEPTED)
    assert modified == replace(ACCEPTED, quantity=D(60))


@pytest.mark.parametrize(
    ("request_", "changed"),
    [
        (ModifyRequested(quantity=D(70)), {"quantity": D(70)}),
        (ModifyRequested(price=D("9.75")), {"price": D("9.75")}),
        (ModifyRequested(stop_price=D("8.75")), {"stop_price": D("8.75")}),
    ],
)
def test_a_modification_changes_only_what_it_names(request_: ModifyRequested, changed: dict[str, D]) -> None:
    assert run(request_, ModifyAccepted(), state=PARTIALLY_FILLED) == replace(PARTIALLY_FILLED, **changed)


def test_a_modification_waits_for_the_venue() -> None:
    request_ = ModifyRequested(quantity=D(70), price=D("9.75"))
    pending = PARTIALLY_FILLED.apply(request_)
    assert pending == replace(
        PARTIALLY_FILLED, status=S.PENDING_MODIFY, previous_status=S.PARTIALLY_FILLED, modification=request_
    )


def test_a_modification_may_raise_the_quantity() -> None:
    # Whether a larger order is allowed is the risk checks' question, not the state machine's.
    assert run(ModifyRequested(quantity=D(150)), ModifyAccepted(), state=ACCEPTED).quantity == D(150)


def test_a_modification_must_leave_more_than_the_filled_quantity() -> None:
    with pytest.raises(InvalidModification, match=exactly("40 are filled already; ask for more than that.")) as caught:
        PARTIALLY_FILLED.apply(ModifyRequested(quantity=D(40)))
    assert caught.value.code == "quantity_below_filled"
    assert isinstance(caught.value, OrderError)
    with pytest.raises(InvalidModification, match="40 are filled already"):
        PARTIALLY_FILLED.apply(ModifyRequested(quantity=D("39.999999")))
    pending = PARTIALLY_FILLED.apply(ModifyRequested(quantity=D("40.000001")))
    assert pending.apply(ModifyAccepted()).quantity == D("40.000001")


def test_a_modification_overtaken_by_fills_is_refused_on_acceptance() -> None:
    pending = run(ModifyRequested(quantity=D(50)), Filled(D(10), D("10.00")), state=PARTIALLY_FILLED)
    assert pending.filled_quantity == D(50)
    with pytest.raises(InvalidModification, match=exactly("50 are filled already; ask for more than that.")) as caught:
        pending.apply(ModifyAccepted())
    assert caught.value.code == "quantity_below_filled"
    # Nothing changed: the venue's refusal is still welcome.
    assert pending.apply(ModifyRejected()) == replace(PARTIALLY_FILLED, filled_quantity=D(50), filled_notional=D(500))


def test_a_modification_just_above_the_fills_survives_them() -> None:
    pending = run(ModifyRequested(quantity=D(51)), Filled(D(10), D("10.00")), state=PARTIALLY_FILLED)
    assert pending.apply(ModifyAccepted()).quantity == D(51)


def test_only_a_price_the_order_has_can_change() -> None:
    market = run(Submitted(), Accepted(), state=OrderState(quantity=D(10)))
    with pytest.raises(InvalidModification, match=exactly("The order has no limit price to change.")) as caught:
        market.apply(ModifyRequested(price=D(5)))
    assert caught.value.code == "not_a_limit_order"
    with pytest.raises(InvalidModification, match=exactly("The order has no stop price to change.")) as caught:
        market.apply(ModifyRequested(stop_price=D(5)))
    assert caught.value.code == "not_a_stop_order"
    assert market.apply(ModifyRequested(quantity=D(5))).status is S.PENDING_MODIFY


def test_an_illegal_modification_is_refused_as_illegal_before_its_values_are_checked() -> None:
    with pytest.raises(IllegalTransition):
        REACHED[S.FILLED].apply(ModifyRequested(quantity=D(1)))


def test_a_cancel_asked_during_a_modification_returns_to_the_working_status() -> None:
    pending = run(ModifyRequested(price=D("9.50")), CancelRequested(), state=PARTIALLY_FILLED)
    assert pending == replace(PARTIALLY_FILLED, status=S.PENDING_CANCEL, previous_status=S.PARTIALLY_FILLED)
    assert pending.modification is None
    assert pending.apply(CancelRejected()) == PARTIALLY_FILLED
    unfilled = run(ModifyRequested(price=D("9.50")), CancelRequested(), CancelRejected(), state=ACCEPTED)
    assert unfilled == ACCEPTED


# Fills.


def test_a_fill_of_exactly_the_quantity_fills_the_order() -> None:
    moved = transition(ACCEPTED, Filled(D(100), D("10.00")))
    assert moved.trigger is T.FILL
    assert moved.state.status is S.FILLED
    assert moved.state.filled_quantity == D(100)
    assert moved.state.remaining_quantity == 0


def test_a_fill_just_short_of_the_quantity_is_partial() -> None:
    moved = transition(ACCEPTED, Filled(D("99.999999"), D("10.00")))
    assert moved.trigger is T.PARTIAL_FILL
    assert moved.state.status is S.PARTIALLY_FILLED
    assert moved.state.remaining_quantity == D("0.000001")


def test_the_fill_that_completes_a_partly_filled_order() -> None:
    moved = transition(PARTIALLY_FILLED, Filled(D(60), D("11.00")))
    assert moved.trigger is T.FILL
    assert moved.state == replace(
        PARTIALLY_FILLED, status=S.FILLED, filled_quantity=D(100), filled_notional=D("1060.0000")
    )


@pytest.mark.parametrize(
    ("state", "fill", "message"),
    [
        (ACCEPTED, D("100.000001"), "A fill of 100.000001 on an order for 100 with 0 filled would overfill it."),
        (PARTIALLY_FILLED, D(61), "A fill of 61 on an order for 100 with 40 filled would overfill it."),
        (REACHED[S.PENDING_CANCEL], D("60.5"), "A fill of 60.5 on an order for 100 with 40 filled would overfill it."),
    ],
)
def test_a_fill_past_the_quantity_is_refused(state: OrderState, fill: D, message: str) -> None:
    with pytest.raises(FillExceedsQuantity, match=exactly(message)) as caught:
        state.apply(Filled(fill, D("10.00")))
    error = caught.value
    assert error.code == "fill_exceeds_quantity"
    assert isinstance(error, OrderError)
    assert (error.quantity, error.filled_quantity, error.fill_quantity) == (state.quantity, state.filled_quantity, fill)
    assert str(error) == error.message == message


def test_a_filled_order_refuses_a_fill_as_illegal_not_as_an_overfill() -> None:
    with pytest.raises(IllegalTransition, match="FILLED cannot take FILL"):
        REACHED[S.FILLED].apply(Filled(D(1), D("10.00")))


def test_an_unsent_order_refuses_even_an_overfill_as_illegal() -> None:
    with pytest.raises(IllegalTransition, match="NEW cannot take FILL"):
        NEW.apply(Filled(D(1000), D("10.00")))


@pytest.mark.parametrize("status", [S.PENDING_CANCEL, S.PENDING_MODIFY])
def test_a_partial_fill_while_pending_keeps_the_request(status: OrderStatus) -> None:
    pending = REACHED[status]
    moved = pending.apply(Filled(D(10), D("12.00")))
    assert moved == replace(pending, filled_quantity=D(50), filled_notional=D("520.0000"))


@pytest.mark.parametrize("status", [S.PENDING_CANCEL, S.PENDING_MODIFY])
def test_a_fill_that_wins_the_race_with_a_request_fills_the_order(status: OrderStatus) -> None:
    moved = REACHED[status].apply(Filled(D(60), D("10.00")))
    assert moved == replace(PARTIALLY_FILLED, status=S.FILLED, filled_quantity=D(100), filled_notional=D("1000.0000"))
    assert moved.previous_status is None
    assert moved.modification is None


@pytest.mark.parametrize("status", [S.CANCELED, S.EXPIRED])
def test_a_late_partial_fill_is_booked_and_the_order_stays_closed(status: OrderStatus) -> None:
    moved = transition(REACHED[status], Filled(D(10), D("10.00")))
    assert moved.late_fill
    assert moved.trigger is T.PARTIAL_FILL
    assert moved.state == replace(REACHED[status], filled_quantity=D(50), filled_notional=D("500.0000"))


@pytest.mark.parametrize("status", [S.CANCELED, S.EXPIRED])
def test_a_late_fill_of_the_rest_fills_the_order(status: OrderStatus) -> None:
    moved = transition(REACHED[status], Filled(D(60), D("10.00")))
    assert moved.late_fill
    assert moved.state.status is S.FILLED


@pytest.mark.parametrize("status", [S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL, S.PENDING_MODIFY])
def test_a_fill_on_an_open_order_is_not_late(status: OrderStatus) -> None:
    assert not transition(REACHED[status], Filled(D(1), D("10.00"))).late_fill


# The average fill price.


def test_no_average_before_the_first_fill() -> None:
    assert ACCEPTED.average_fill_price is None
    assert ACCEPTED.filled_notional == 0


def test_the_average_is_the_fill_weighted_mean() -> None:
    state = run(Filled(D(10), D("10.00")), Filled(D(30), D("12.00")), state=ACCEPTED)
    assert state.filled_notional == D("460.0000")
    assert state.average_fill_price == D("11.5")


def test_the_average_is_rounded_once_to_28_significant_digits() -> None:
    state = run(Filled(D(1), D(1)), Filled(D(2), D(2)), state=ACCEPTED)
    assert state.filled_notional == D(5)
    assert str(state.average_fill_price) == "1.666666666666666666666666667"
    # Adding a third fill starts again from the exact notional, not from the rounded average.
    state = state.apply(Filled(D(3), D(3)))
    assert str(state.average_fill_price) == "2.333333333333333333333333333"


def test_the_average_rounds_half_to_even() -> None:
    state = run(Filled(D(1), D(1)), Filled(D(1), D("1E-28")), state=ACCEPTED)
    assert str(state.average_fill_price) == "0.5000000000000000000000000000"
    state = run(Filled(D(1), D(1)), Filled(D(1), D("3E-28")), state=ACCEPTED)
    assert str(state.average_fill_price) == "0.5000000000000000000000000002"


def test_the_average_ignores_the_callers_decimal_context() -> None:
    state = run(Filled(D(1), D(1)), Filled(D(2), D(2)), state=ACCEPTED)
    with localcontext(prec=3):
        assert str(state.average_fill_price) == "1.666666666666666666666666667"


def test_the_order_of_the_fills_does_not_change_the_average() -> None:
    fills = [Filled(D(7), D("10.03")), Filled(D(11), D("9.97")), Filled(D(13), D("10.01"))]
    forward = run(*fills, state=ACCEPTED)
    backward = run(*reversed(fills), state=ACCEPTED)
    assert forward.average_fill_price == backward.average_fill_price == D("310.01") / D(31)


def test_the_notional_is_exact_beyond_the_decimal_context() -> None:
    big = OrderState(quantity=D("99999999999999.999999"))
    state = run(Submitted(), Filled(D("12345678901234.123456"), D("98765432109876.654321")), state=big)
    assert str(state.filled_notional) == "1219326311370175429262137875.264349853376"


# The value types.


def test_transition_result() -> None:
    event = Filled(D(10), D("10.00"))
    moved = transition(ACCEPTED, event)
    assert moved == Transition(before=ACCEPTED, event=event, trigger=T.PARTIAL_FILL, state=moved.state)


def test_a_new_order() -> None:
    assert NEW.status is S.NEW
    assert NEW.filled_quantity == 0
    assert NEW.previous_status is None
    assert NEW.modification is None
    assert NEW.remaining_quantity == D(100)
    assert NEW.is_open
    assert not REACHED[S.FILLED].is_open


def test_statuses_read_from_storage_become_enums() -> None:
    state = OrderState(quantity=D(10), status="PENDING_CANCEL", previous_status="ACCEPTED")  # type: ignore[arg-type]
    assert state.status is S.PENDING_CANCEL
    assert state.previous_status is S.ACCEPTED


def test_events_carry_their_reasons() -> None:
    assert Rejected("no_margin", "Not enough margin.") == Rejected(code="no_margin", reason="Not enough margin.")
    assert Rejected().code == Rejected().reason == ""
    for event_type in (Canceled, CancelRejected, ModifyRejected, Expired):
        assert event_type().reason == ""
        assert event_type("why").reason == "why"


@pytest.mark.parametrize(
    ("value", "kind"), [(D(0), "positive"), (D(-1), "positive"), (D("NaN"), "finite"), (D("-Infinity"), "finite")]
)
@pytest.mark.parametrize("field", ["quantity", "price"])
def test_a_fill_needs_a_positive_quantity_and_price(field: str, value: D, kind: str) -> None:
    values = {"quantity": D(1), "price": D(1), field: value}
    with pytest.raises(ValueError, match=exactly(f"The fill {field} must be a {kind} number, got {value}.")):
        Filled(**values)


@pytest.mark.parametrize("field", ["quantity", "price"])
def test_a_fill_needs_decimals(field: str) -> None:
    values = {"quantity": D(1), "price": D(1), field: 1.5}
    with pytest.raises(TypeError, match=exactly(f"The fill {field} must be a Decimal, got float.")):
        Filled(**values)  # type: ignore[arg-type]


def test_a_modification_must_change_something() -> None:
    with pytest.raises(
        ValueError, match=exactly("A modification must change the quantity, the price or the stop price.")
    ):
        ModifyRequested()


@pytest.mark.parametrize(
    ("field", "words"), [("quantity", "quantity"), ("price", "price"), ("stop_price", "stop price")]
)
@pytest.mark.parametrize("value", [D(0), D("-0.01")])
def test_a_modification_needs_positive_values(field: str, words: str, value: D) -> None:
    with pytest.raises(ValueError, match=exactly(f"The new {words} must be a positive number, got {value}.")):
        ModifyRequested(**{field: value})


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"quantity": D(0)}, ValueError, "The order quantity must be a positive number, got 0."),
        ({"quantity": 10}, TypeError, "The order quantity must be a Decimal, got int."),
        ({"price": D(0)}, ValueError, "The price must be a positive number, got 0."),
        ({"stop_price": D(-1)}, ValueError, "The stop price must be a positive number, got -1."),
        ({"filled_quantity": 0}, TypeError, "The filled quantity must be a Decimal, got int."),
        ({"filled_notional": D("NaN")}, ValueError, "The filled notional must be a finite number, got NaN."),
        ({"filled_quantity": D(-1)}, ValueError, "The filled quantity -1 must lie in [0, 10]."),
        (
            {"status": S.FILLED, "filled_quantity": D(11), "filled_notional": D(1)},
            ValueError,
            "The filled quantity 11 must lie in [0, 10].",
        ),
        ({"filled_notional": D(1)}, ValueError, "The filled notional 1 does not fit the filled quantity 0."),
        (
            {"status": S.PARTIALLY_FILLED, "filled_quantity": D(1)},
            ValueError,
            "The filled notional 0 does not fit the filled quantity 1.",
        ),
        (
            {"status": S.PARTIALLY_FILLED, "filled_quantity": D(1), "filled_notional": D(-1)},
            ValueError,
            "The filled notional -1 does not fit the filled quantity 1.",
        ),
    ],
)
def test_an_order_state_refuses_impossible_values(fields: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=exactly(message)):
        OrderState(**{"quantity": D(10), **fields})  # type: ignore[arg-type]


FITS = {
    # status: the filled quantities (of 10) it may hold
    S.NEW: {D(0)},
    S.SUBMITTED: {D(0)},
    S.ACCEPTED: {D(0)},
    S.REJECTED: {D(0)},
    S.PARTIALLY_FILLED: {D("0.000001"), D(5), D("9.999999")},
    S.FILLED: {D(10)},
    S.PENDING_CANCEL: {D(0), D("0.000001"), D(5), D("9.999999")},
    S.PENDING_MODIFY: {D(0), D("0.000001"), D(5), D("9.999999")},
    S.CANCELED: {D(0), D("0.000001"), D(5), D("9.999999")},
    S.EXPIRED: {D(0), D("0.000001"), D(5), D("9.999999")},
}
SOME_FILLS = [D(0), D("0.000001"), D(5), D("9.999999"), D(10)]


def _state(status: OrderStatus, filled: D) -> OrderState:
    pending = status in (S.PENDING_CANCEL, S.PENDING_MODIFY)
    return OrderState(
        quantity=D(10),
        status=status,
        filled_quantity=filled,
        filled_notional=filled * 3,
        previous_status=(S.PARTIALLY_FILLED if filled else S.ACCEPTED) if pending else None,
        modification=ModifyRequested(price=D(1)) if status is S.PENDING_MODIFY else None,
    )


@pytest.mark.parametrize(("status", "filled"), list(itertools.product(S, SOME_FILLS)))
def test_the_status_must_fit_the_fills(status: OrderStatus, filled: D) -> None:
    if filled in FITS[status]:
        assert _state(status, filled).filled_quantity == filled
    else:
        with pytest.raises(ValueError, match=exactly(f"An order in state {status} cannot have {filled} filled.")):
            _state(status, filled)


@pytest.mark.parametrize("status", [s for s in S if s not in (S.PENDING_CANCEL, S.PENDING_MODIFY)])
def test_only_a_pending_order_has_a_previous_status(status: OrderStatus) -> None:
    filled = min(FITS[status])
    state = _state(status, filled)
    with pytest.raises(
        ValueError, match=exactly(f"An order in state {status} cannot have the previous status ACCEPTED.")
    ):
        replace(state, previous_status=S.ACCEPTED)


@pytest.mark.parametrize("status", [S.PENDING_CANCEL, S.PENDING_MODIFY])
def test_a_pending_order_has_a_previous_status(status: OrderStatus) -> None:
    with pytest.raises(ValueError, match=exactly(f"An order in state {status} cannot have the previous status None.")):
        replace(_state(status, D(0)), previous_status=None)


@pytest.mark.parametrize(
    ("filled", "previous", "fits"),
    [
        (D(0), S.SUBMITTED, True),
        (D(0), S.ACCEPTED, True),
        (D(0), S.PARTIALLY_FILLED, False),
        (D(5), S.PARTIALLY_FILLED, True),
        (D(5), S.ACCEPTED, False),
        (D(5), S.SUBMITTED, False),
        (D(5), S.CANCELED, False),
        (D(0), S.NEW, False),
        (D(0), S.PENDING_MODIFY, False),
    ],
)
def test_the_previous_status_is_a_working_status_that_fits_the_fills(
    filled: D, previous: OrderStatus, fits: bool
) -> None:
    fields = {"quantity": D(10), "status": S.PENDING_CANCEL, "filled_quantity": filled, "filled_notional": filled * 3}
    if fits:
        assert OrderState(**fields, previous_status=previous).previous_status is previous  # type: ignore[arg-type]
    else:
        with pytest.raises(ValueError, match=exactly(f"An order with {filled} filled cannot return to {previous}.")):
            OrderState(**fields, previous_status=previous)  # type: ignore[arg-type]


def test_only_a_pending_modify_holds_a_modification() -> None:
    request_ = ModifyRequested(price=D(1))
    with pytest.raises(
        ValueError, match=exactly(f"An order in state ACCEPTED cannot hold the modification {request_}.")
    ):
        replace(ACCEPTED, modification=request_)
    with pytest.raises(
        ValueError, match=exactly("An order in state PENDING_MODIFY cannot hold the modification None.")
    ):
        replace(REACHED[S.PENDING_MODIFY], modification=None)


def test_every_refusal_is_an_order_error_with_a_code_and_a_sentence() -> None:
    error = OrderError("Something is off.")
    assert (error.code, error.message, str(error)) == ("order_error", "Something is off.", "Something is off.")
    assert error.args == ("Something is off.",)
    assert issubclass(IllegalTransition, OrderError)
    assert issubclass(FillExceedsQuantity, OrderError)
    assert issubclass(InvalidModification, OrderError)
    modification = InvalidModification("some_code", "Some sentence.")
    assert (modification.code, str(modification)) == ("some_code", "Some sentence.")


def test_states_events_and_moves_are_immutable() -> None:
    moved = transition(ACCEPTED, Filled(D(1), D(1)))
    for value, name in [(ACCEPTED, "status"), (moved.event, "quantity"), (moved, "state"), (Rejected(), "code")]:
        with pytest.raises(FrozenInstanceError):
            setattr(value, name, None)


def test_an_order_state_is_built_by_keyword() -> None:
    with pytest.raises(TypeError):
        OrderState(D(10))  # type: ignore[misc]
