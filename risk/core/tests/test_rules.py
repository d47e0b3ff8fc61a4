import re
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.core import rules
from risk.core.rules import (
    Holding,
    OrderIntent,
    PendingOrder,
    RiskLimits,
    RiskSnapshot,
    RiskValidation,
    Violation,
    validate_order,
)
from trading.core.orders import Side

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
NOW = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
PLENTY = D("1000000000")


def snapshot(
    *,
    cash: Decimal = PLENTY,
    equity: Decimal = PLENTY,
    capital: Decimal = PLENTY,
    strategy_holdings: tuple[Holding, ...] = (),
    strategy_orders: tuple[PendingOrder, ...] = (),
    account_holdings: tuple[Holding, ...] | None = None,
    account_orders: tuple[PendingOrder, ...] | None = None,
) -> RiskSnapshot:
    """A snapshot where only the limits a test sets can bind; the account mirrors the strategy by default."""
    return RiskSnapshot(
        cash=cash,
        equity=equity,
        strategy_capital=capital,
        strategy_holdings=strategy_holdings,
        strategy_orders=strategy_orders,
        account_holdings=strategy_holdings if account_holdings is None else account_holdings,
        account_orders=strategy_orders if account_orders is None else account_orders,
        limits=RiskLimits(max_position_fraction=D("0.10"), reserve_buffer=D("0.02")),
    )


def intent(quantity: str, side: Side = BUY, price: str = "100", lot: str = "1", symbol: str = "AAA") -> OrderIntent:
    return OrderIntent(symbol=symbol, side=side, quantity=D(quantity), reference_price=D(price), lot_size=D(lot))


def codes(result: RiskValidation) -> list[str]:
    return [violation.code for violation in result.violations]


# Reserved price per unit at 100 with a 2% buffer is 102.
@pytest.mark.parametrize(
    ("snap", "quantity", "expected"),
    [
        # a) strategy capital 10_200: 100 units reserve exactly 10_200.
        (snapshot(capital=D(10200)), "99", []),
        (snapshot(capital=D(10200)), "100", []),
        (snapshot(capital=D(10200)), "101", ["strategy_capital_exceeded"]),
        # a) cost basis of another holding counts: 5_100 used leaves room for 50.
        (snapshot(capital=D(10200), strategy_holdings=(Holding("BBB", D(51), D(100)),)), "50", []),
        (
            snapshot(capital=D(10200), strategy_holdings=(Holding("BBB", D(51), D(100)),)),
            "51",
            ["strategy_capital_exceeded"],
        ),
        # b) cash 10_200.
        (snapshot(cash=D(10200)), "99", []),
        (snapshot(cash=D(10200)), "100", []),
        (snapshot(cash=D(10200)), "101", ["insufficient_funds"]),
        # b) a short holding's proceeds are collateral: 5_100 held back.
        (snapshot(cash=D(10200), account_holdings=(Holding("BBB", D(-51), D(100)),)), "50", []),
        (snapshot(cash=D(10200), account_holdings=(Holding("BBB", D(-51), D(100)),)), "51", ["insufficient_funds"]),
        # c) equity 100_000 -> position limit 10_000 notional.
        (snapshot(equity=D(100000)), "99", []),
        (snapshot(equity=D(100000)), "100", []),
        (snapshot(equity=D(100000)), "101", ["max_position_size_exceeded"]),
        # c) an existing holding in the symbol counts.
        (snapshot(equity=D(100000), account_holdings=(Holding("AAA", D(40), D(90)),)), "60", []),
        (
            snapshot(equity=D(100000), account_holdings=(Holding("AAA", D(40), D(90)),)),
            "61",
            ["max_position_size_exceeded"],
        ),
    ],
)
def test_each_check_at_its_boundary(snap: RiskSnapshot, quantity: str, expected: list[str]) -> None:
    result = validate_order(snap, intent(quantity), now=NOW)
    assert codes(result) == expected
    assert result.is_valid is (not expected)


@pytest.mark.parametrize(
    ("snap", "quantity", "expected"),
    [
        # a) a pending strategy BUY of 30 reserves 3_060 of the 10_200.
        (snapshot(capital=D(10200), strategy_orders=(PendingOrder("BBB", BUY, D(30), D(100)),)), "70", []),
        (
            snapshot(capital=D(10200), strategy_orders=(PendingOrder("BBB", BUY, D(30), D(100)),)),
            "71",
            ["strategy_capital_exceeded"],
        ),
        # b) a pending account order of another strategy reserves buying power.
        (snapshot(cash=D(10200), account_orders=(PendingOrder("BBB", SELL, D(30), D(100)),)), "70", []),
        (
            snapshot(cash=D(10200), account_orders=(PendingOrder("BBB", SELL, D(30), D(100)),)),
            "71",
            ["insufficient_funds"],
        ),
        # c) a pending BUY in the symbol counts against the position limit.
        (snapshot(equity=D(100000), account_orders=(PendingOrder("AAA", BUY, D(30), D(100)),)), "70", []),
        (
            snapshot(equity=D(100000), account_orders=(PendingOrder("AAA", BUY, D(30), D(100)),)),
            "71",
            ["max_position_size_exceeded"],
        ),
        # c) a pending SELL is not credited: it may never fill.
        (
            snapshot(equity=D(100000), account_orders=(PendingOrder("AAA", SELL, D(30), D(100)),)),
            "101",
            ["max_position_size_exceeded"],
        ),
    ],
)
def test_pending_orders_count(snap: RiskSnapshot, quantity: str, expected: list[str]) -> None:
    assert codes(validate_order(snap, intent(quantity), now=NOW)) == expected


LONG_500 = (Holding("AAA", D(500), D(100)),)
BROKE = {"cash": D(0), "equity": D(1), "capital": D(0)}


@pytest.mark.parametrize(
    ("orders", "quantity", "valid"),
    [
        ((), "500", True),
        ((), "501", False),
        # A pending SELL of 200 already claims 200 of the 500 that can be reduced.
        ((PendingOrder("AAA", SELL, D(200), D(100)),), "300", True),
        ((PendingOrder("AAA", SELL, D(200), D(100)),), "301", False),
        # A pending BUY does not claim reducing capacity.
        ((PendingOrder("AAA", BUY, D(200), D(0.5)),), "500", True),
    ],
)
def test_reducing_orders_pass_even_over_limits(orders: tuple[PendingOrder, ...], quantity: str, valid: bool) -> None:
    snap = snapshot(strategy_holdings=LONG_500, strategy_orders=orders, **BROKE)
    result = validate_order(snap, intent(quantity, side=SELL), now=NOW)
    assert result.is_valid is valid
    if not valid:
        assert set(codes(result)) == {"strategy_capital_exceeded", "insufficient_funds", "max_position_size_exceeded"}


def test_short_cover_is_reducing() -> None:
    snap = snapshot(strategy_holdings=(Holding("AAA", D(-50), D(100)),), **BROKE)
    assert validate_order(snap, intent("50", side=BUY), now=NOW).is_valid
    assert not validate_order(snap, intent("51", side=BUY), now=NOW).is_valid


def test_flip_checks_only_the_opening_part() -> None:
    # Long 100, sell 150: 100 reduce and 50 open short, which needs 5_100 reserved.
    holdings = (Holding("AAA", D(100), D(100)),)
    assert validate_order(snapshot(cash=D(5100), strategy_holdings=holdings), intent("150", SELL), now=NOW).is_valid
    result = validate_order(snapshot(cash=D(5099), strategy_holdings=holdings), intent("150", SELL), now=NOW)
    assert codes(result) == ["insufficient_funds"]
    assert result.recommended_adjustments == {"max_quantity": "149"}


def test_violation_carries_limit_actual_and_sentence() -> None:
    result = validate_order(snapshot(cash=D(10200)), intent("101"), now=NOW)
    (violation,) = result.violations
    assert violation == Violation(
        code="insufficient_funds",
        message="The order needs 10302.00 of buying power but the account has 10200 available.",
        limit=D("10200"),
        actual=D("10302.00"),
    )
    assert violation.as_dict() == {
        "code": "insufficient_funds",
        "message": violation.message,
        "limit": "10200",
        "actual": "10302.00",
    }


def test_recommended_quantity_only_when_invalid() -> None:
    assert validate_order(snapshot(cash=D(10200)), intent("100"), now=NOW).recommended_adjustments == {}
    result = validate_order(snapshot(cash=D(10200)), intent("250", lot="10"), now=NOW)
    assert result.recommended_adjustments == {"max_quantity": "100"}


def test_recommended_quantity_takes_the_tightest_check() -> None:
    snap = snapshot(cash=D(10200), capital=D(5100), equity=D(80000))
    result = validate_order(snap, intent("1000"), now=NOW)
    assert codes(result) == ["strategy_capital_exceeded", "insufficient_funds", "max_position_size_exceeded"]
    assert result.recommended_adjustments == {"max_quantity": "50"}


@pytest.mark.parametrize(
    ("snap", "order", "maximum"),
    [
        # c) limit 10_000: holding 40 plus pending BUY 30 leave room for 30.
        (
            snapshot(
                equity=D(100000),
                account_holdings=(Holding("AAA", D(40), D(90)),),
                account_orders=(PendingOrder("AAA", BUY, D(30), D(100)),),
            ),
            intent("50"),
            "30",
        ),
        # c) short 40 with a pending SELL 30: a BUY may cover 40 and open 100 long.
        (
            snapshot(
                equity=D(100000),
                account_holdings=(Holding("AAA", D(-40), D(90)),),
                account_orders=(PendingOrder("AAA", SELL, D(30), D(100)),),
            ),
            intent("500"),
            "140",
        ),
        # a) and b) with a strategy holding to reduce first: 20 reduce + 50 open (cost basis 20 used).
        # Capital a hair under 100 units: 28-digit arithmetic rounds the headroom up to 100.
        (snapshot(capital=D("10199.999999999999999999999999999")), intent("101"), "99"),
        (
            snapshot(capital=D(5120), cash=D(5100), strategy_holdings=(Holding("AAA", D(20), D(1)),)),
            intent("90", SELL),
            "70",
        ),
    ],
)
def test_recommended_quantity_cases(snap: RiskSnapshot, order: OrderIntent, maximum: str) -> None:
    result = validate_order(snap, order, now=NOW)
    assert result.recommended_adjustments == {"max_quantity": maximum}


@pytest.mark.parametrize(
    ("snap", "quantity", "score"),
    [
        (snapshot(capital=D(20400)), "50", D("25.00")),
        (snapshot(cash=D(10200)), "50", D("50.00")),
        (snapshot(equity=D(100000)), "75", D("75.00")),
        (snapshot(equity=D(100000)), "300", D("100.00")),
        (snapshot(capital=D(30000)), "1", D("0.34")),
    ],
)
def test_risk_score_is_highest_utilization(snap: RiskSnapshot, quantity: str, score: Decimal) -> None:
    assert validate_order(snap, intent(quantity), now=NOW).risk_score == score


def test_result_records_the_given_time() -> None:
    result = validate_order(snapshot(), intent("1"), now=NOW)
    assert result.validation_timestamp == NOW
    assert result.as_dict()["validation_timestamp"] == "2024-03-01T14:30:00+00:00"


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"quantity": D(0)}, "quantity must be a positive number"),
        ({"quantity": D(-5)}, "quantity must be a positive number"),
        ({"reference_price": D(0)}, "reference price must be a positive number"),
        ({"reference_price": D(-1)}, "reference price must be a positive number"),
        ({"lot_size": D(0)}, "lot size must be a positive number"),
    ],
)
def test_bad_intent_raises(bad: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        validate_order(snapshot(), replace(intent("10"), **bad), now=NOW)


def test_naive_time_raises() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_order(snapshot(), intent("10"), now=datetime(2024, 3, 1))


# Often unlimited, so that each check in turn gets to be the only one that binds.
money = st.one_of(st.integers(min_value=-5_000, max_value=200_000).map(D), st.just(PLENTY))
prices = st.integers(min_value=1, max_value=50_000).map(lambda n: D(n) / 100)
quantities = st.integers(min_value=1, max_value=2_000).map(D)
symbols = st.sampled_from(["AAA", "BBB"])
holdings = st.lists(
    st.builds(Holding, symbols, st.integers(min_value=-1_000, max_value=1_000).map(D), prices), max_size=3
).map(tuple)
pending = st.lists(st.builds(PendingOrder, symbols, st.sampled_from(Side), quantities, prices), max_size=3).map(tuple)
limits = st.builds(
    RiskLimits,
    max_position_fraction=st.integers(min_value=1, max_value=100).map(lambda n: D(n) / 100),
    reserve_buffer=st.integers(min_value=0, max_value=10).map(lambda n: D(n) / 100),
)
snapshots = st.builds(
    RiskSnapshot,
    cash=money,
    equity=money,
    strategy_capital=money,
    strategy_holdings=holdings,
    strategy_orders=pending,
    account_holdings=holdings,
    account_orders=pending,
    limits=limits,
)
intents = st.builds(
    OrderIntent,
    symbol=symbols,
    side=st.sampled_from(Side),
    quantity=quantities,
    reference_price=prices,
    lot_size=st.sampled_from([D(1), D(10), D(100), D("0.5")]),
)


@settings(max_examples=500)
@given(snap=snapshots, order=intents)
def test_recommended_quantity_is_the_largest_that_passes(snap: RiskSnapshot, order: OrderIntent) -> None:
    result = validate_order(snap, order, now=NOW)
    assert D(0) <= result.risk_score <= D(100)
    if result.is_valid:
        assert result.recommended_adjustments == {}
        return
    maximum = D(result.recommended_adjustments["max_quantity"])
    assert maximum >= 0
    assert maximum % order.lot_size == 0
    assert maximum < order.quantity
    if maximum > 0:
        assert validate_order(snap, replace(order, quantity=maximum), now=NOW).is_valid
    assert not validate_order(snap, replace(order, quantity=maximum + order.lot_size), now=NOW).is_valid


@pytest.mark.parametrize(
    ("buffer", "quantity", "valid"), [(D(0), "100", True), (D(0), "101", False), (None, "99", False)]
)
def test_an_order_with_its_own_buffer_reserves_with_it(buffer: Decimal | None, quantity: str, valid: bool) -> None:
    # Capital 10,000 at price 100: a capped-price order fits 100 exactly; the default 2% buffer fits only 98.
    order = replace(intent(quantity), reserve_buffer=buffer)
    assert validate_order(snapshot(capital=D("10000")), order, now=NOW).is_valid is valid


def test_pending_orders_reserve_with_their_own_buffer() -> None:
    pending = (PendingOrder("BBB", BUY, D(50), D(100), reserve_buffer=D(0)),)
    # 5,000 held by the pending limit order leaves exactly 5,000: 49 units at the 102 reserve price.
    snap = snapshot(capital=D("10000"), strategy_orders=pending)
    assert validate_order(snap, intent("49"), now=NOW).is_valid
    assert not validate_order(snap, intent("50"), now=NOW).is_valid


# The recommendation is computed, never searched for --------------------------------------------
@pytest.mark.parametrize(
    ("snap", "quantity", "evaluations"),
    [
        (snapshot(cash=D(10200)), "100", 1),  # valid: evaluated once
        (snapshot(cash=D(10200)), "250", 1),  # refused: the recommendation needs no evaluation
        (replace(snapshot(cash=D(10200)), kill_switches=("global",)), "250", 1),
        (
            replace(
                snapshot(cash=D(10200)),
                limits=RiskLimits(max_position_fraction=D("0.10"), resize=frozenset({"insufficient_funds"})),
            ),
            "250",
            2,  # resized: evaluated again at the recommended quantity, for its risk score
        ),
    ],
)
def test_each_validation_evaluates_at_most_twice(monkeypatch, snap, quantity: str, evaluations: int) -> None:
    calls = []
    evaluate = rules._evaluate

    def counting(book, gates, quantity):
        calls.append(quantity)
        return evaluate(book, gates, quantity)

    monkeypatch.setattr(rules, "_evaluate", counting)
    validate_order(snap, intent(quantity), now=NOW)
    assert len(calls) == evaluations


optional_fractions = st.one_of(st.none(), st.integers(min_value=0, max_value=150).map(lambda n: D(n) / 100))
every_limit = st.builds(
    RiskLimits,
    max_position_fraction=st.integers(min_value=0, max_value=100).map(lambda n: D(n) / 100),
    reserve_buffer=st.sampled_from([D(0), D("0.02"), D("0.1")]),
    max_position_quantity=st.one_of(st.none(), st.integers(min_value=0, max_value=3000).map(D)),
    max_gross_exposure=optional_fractions,
    max_net_exposure=optional_fractions,
    max_sector_exposure=optional_fractions,
    max_order_notional=st.one_of(st.none(), st.integers(min_value=0, max_value=500_000).map(D)),
    daily_loss_limit=optional_fractions,
    max_drawdown=optional_fractions,
    restricted_symbols=st.sampled_from([frozenset(), frozenset({"AAA"})]),
)
states = st.sampled_from(["ACTIVE", "REDUCE_ONLY"])
rich_snapshots = st.builds(
    RiskSnapshot,
    cash=money,
    equity=money,
    strategy_capital=money,
    strategy_holdings=holdings,
    strategy_orders=pending,
    account_holdings=holdings,
    account_orders=pending,
    limits=every_limit,
    prices=st.dictionaries(symbols, prices, max_size=2),
    sectors=st.dictionaries(symbols, st.sampled_from(["Tech", "Energy"]), max_size=2),
    trading_state=states,
    strategy_trading_state=states,
    day_start_equity=st.one_of(st.none(), money),
    high_water_mark=st.one_of(st.none(), money),
    strategy_equity=st.one_of(st.none(), money),
    strategy_day_start_equity=st.one_of(st.none(), money),
    strategy_high_water_mark=st.one_of(st.none(), money),
)
rich_intents = st.builds(
    OrderIntent,
    symbol=symbols,
    side=st.sampled_from(Side),
    quantity=quantities,
    reference_price=prices,
    lot_size=st.sampled_from([D(1), D(10), D("0.5"), D("0.3")]),
    reserve_buffer=st.sampled_from([None, D(0)]),
    sector=st.sampled_from([None, "Tech"]),
    shortable=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(snap=rich_snapshots, order=rich_intents)
def test_every_check_bound_is_exact(snap: RiskSnapshot, order: OrderIntent) -> None:
    """A check's bound passes that check and one lot more does not: nothing needs correcting afterwards."""
    with localcontext() as context:
        context.prec = rules._EXACT_DIGITS
        book = rules._Book(snap, order, NOW)
        for check in rules.LIMIT_CHECKS:
            bound = check.bound(book)
            if bound is None:
                continue
            assert bound >= 0
            assert bound % order.lot_size == 0
            assert check.violation(book, bound) is None, check.code
            assert check.violation(book, bound + order.lot_size) is not None, check.code


def test_bounds_stay_exact_beyond_28_digits() -> None:
    # 32 significant digits: at the usual 28 the headroom rounds up to exactly 100 units.
    capital = D("10199.999999999999999999999999999")
    assert validate_order(snapshot(capital=capital), intent("99"), now=NOW).is_valid
    result = validate_order(snapshot(capital=capital), intent("100"), now=NOW)
    assert codes(result) == ["strategy_capital_exceeded"]
    assert result.recommended_adjustments == {"max_quantity": "99"}
    # 97 units at this price cost 10000.00000000000000000000000000069: over 10,000, though 28 digits round it to 10,000.
    price = D("103.09278350515463917525773195877")
    order = replace(intent("97", price="1"), reference_price=price, reserve_buffer=D(0))
    result = validate_order(snapshot(cash=D(10000)), order, now=NOW)
    assert codes(result) == ["insufficient_funds"]
    assert result.violations[0].actual == D("10000.00000000000000000000000000069")
    assert result.recommended_adjustments == {"max_quantity": "96"}


# The answer in full -----------------------------------------------------------------------------
def test_a_valid_answer_in_full() -> None:
    result = validate_order(snapshot(cash=D(10200)), intent("50"), now=NOW)
    assert result == RiskValidation(
        is_valid=True,
        risk_score=D("50.00"),
        violations=(),
        recommended_adjustments={},
        validation_timestamp=NOW,
        approved_quantity=D(50),
    )
    assert result.as_dict() == {
        "is_valid": True,
        "risk_score": "50.00",
        "violations": [],
        "recommended_adjustments": {},
        "validation_timestamp": "2024-03-01T14:30:00+00:00",
        "approved_quantity": "50",
        "resized_for": [],
    }


def test_a_refusal_in_full() -> None:
    result = validate_order(snapshot(cash=D(10200)), intent("101"), now=NOW)
    funds = Violation(
        "insufficient_funds",
        "The order needs 10302.00 of buying power but the account has 10200 available.",
        limit=D(10200),
        actual=D("10302.00"),
    )
    assert result == RiskValidation(
        is_valid=False,
        risk_score=D("100.00"),
        violations=(funds,),
        recommended_adjustments={"max_quantity": "100"},
        validation_timestamp=NOW,
    )
    assert result.as_dict() == {
        "is_valid": False,
        "risk_score": "100.00",
        "violations": [funds.as_dict()],
        "recommended_adjustments": {"max_quantity": "100"},
        "validation_timestamp": "2024-03-01T14:30:00+00:00",
        "approved_quantity": None,
        "resized_for": [],
    }
    assert Violation("reduce_only", "closing only").as_dict() == {
        "code": "reduce_only",
        "message": "closing only",
        "limit": None,
        "actual": None,
    }


def test_a_resized_answer_in_full() -> None:
    limits = RiskLimits(max_position_fraction=D("0.10"), resize=frozenset({"insufficient_funds"}))
    result = validate_order(replace(snapshot(cash=D(20400)), limits=limits), intent("250"), now=NOW)
    funds = Violation(
        "insufficient_funds",
        "The order needs 25500.00 of buying power but the account has 20400 available.",
        limit=D(20400),
        actual=D("25500.00"),
    )
    assert result == RiskValidation(
        is_valid=True,
        risk_score=D("100.00"),  # 200 units use all the cash
        violations=(),
        recommended_adjustments={"quantity": "200", "requested_quantity": "250"},
        validation_timestamp=NOW,
        approved_quantity=D(200),
        resized_for=(funds,),
    )
    assert result.as_dict()["approved_quantity"] == "200"
    assert result.as_dict()["resized_for"] == [funds.as_dict()]


@pytest.mark.parametrize(
    ("cash", "lot", "valid", "approved"),
    [
        ("102", "1", True, "1"),  # exactly one unit fits: resized to 1
        ("101", "1", False, None),  # nothing fits: refused, never resized to 0
        ("51", "0.5", True, "0.5"),
    ],
)
def test_resize_needs_a_quantity_above_zero(cash: str, lot: str, valid: bool, approved: str | None) -> None:
    limits = RiskLimits(max_position_fraction=D("0.10"), resize=frozenset({"insufficient_funds"}))
    result = validate_order(replace(snapshot(cash=D(cash)), limits=limits), intent("5", lot=lot), now=NOW)
    assert result.is_valid is valid
    assert result.approved_quantity == (None if approved is None else D(approved))


def test_risk_score_rounds_half_up() -> None:
    # 2,369 held + 100 for one unit at 100 without a buffer = 2,469 of 20,000: 12.345 % -> 12.35.
    snap = snapshot(capital=D(20000), strategy_holdings=(Holding("BBB", D(2369), D(1)),))
    order = replace(intent("1"), reserve_buffer=D(0))
    assert validate_order(snap, order, now=NOW).risk_score == D("12.35")


def limits_with(**kwargs) -> RiskLimits:
    return RiskLimits(max_position_fraction=D("0.10"), reserve_buffer=D("0.02"), **kwargs)


@pytest.mark.parametrize(
    ("overrides", "order", "score"),
    [
        # A capital below 1: 0.4 of 0.8 is half.
        ({"strategy_capital": D("0.8")}, replace(intent("2", price="0.2"), reserve_buffer=D(0)), D("50.00")),
        # A daily loss limit of 0 with no loss uses nothing of it; any loss uses all of it.
        ({"limits": limits_with(daily_loss_limit=D(0)), "day_start_equity": PLENTY}, intent("1"), D("0.00")),
        (
            {"limits": limits_with(daily_loss_limit=D(0)), "day_start_equity": PLENTY + D("0.5")},
            intent("1"),
            D("100.00"),
        ),
        # A loss limit counts towards the score before it is reached: 25 lost of 100 allowed.
        (
            {"limits": limits_with(daily_loss_limit=D("1e-7")), "day_start_equity": PLENTY + D(25)},
            intent("1"),
            D("25.00"),
        ),
        (
            {"limits": limits_with(max_drawdown=D("1e-7")), "high_water_mark": PLENTY + D(30)},
            intent("1"),
            D("30.00"),
        ),
    ],
)
def test_risk_score_of_small_and_zero_limits(overrides: dict, order: OrderIntent, score: Decimal) -> None:
    assert validate_order(replace(snapshot(), **overrides), order, now=NOW).risk_score == score


class _NoOffset(tzinfo):
    def utcoffset(self, dt):
        return None


def test_a_time_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^The validation time must be timezone-aware\.$"):
        validate_order(snapshot(), intent("1"), now=datetime(2024, 3, 1, tzinfo=_NoOffset()))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"quantity": D(0)}, "The order quantity must be a positive number, got 0."),
        ({"quantity": D("NaN")}, "The order quantity must be a positive number, got NaN."),
        ({"reference_price": D("-1")}, "The reference price must be a positive number, got -1."),
        ({"reference_price": D("Infinity")}, "The reference price must be a positive number, got Infinity."),
        ({"lot_size": D("-0.5")}, "The lot size must be a positive number, got -0.5."),
        ({"lot_size": D("Infinity")}, "The lot size must be a positive number, got Infinity."),
    ],
)
def test_bad_intent_sentences(bad: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        validate_order(snapshot(), replace(intent("10"), **bad), now=NOW)


def test_an_order_opens_with_its_own_digits() -> None:
    # Short 5.00 with a resting BUY of 5.00 that claims it all: nothing is left to reduce, and the
    # order opens its 100.0 units as they are (the reservation reads 10200.000, not 10200.0000).
    short = (Holding("AAA", D("-5.00"), D(100)),)
    snap = snapshot(
        cash=D(5000), strategy_holdings=short, strategy_orders=(PendingOrder("AAA", BUY, D("5.00"), D(100)),)
    )
    (violation,) = validate_order(snap, intent("100.0"), now=NOW).violations
    assert violation.message == "The order needs 10200.000 of buying power but the account has 4500.0000 available."
