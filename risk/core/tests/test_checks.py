"""One table per check added to the original three: at, just below and just above its boundary."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.core.rules import (
    Holding,
    OrderIntent,
    PendingOrder,
    RiskLimits,
    RiskSnapshot,
    validate_order,
)
from risk.core.states import EquityMarks, breaches
from trading.core.orders import Side

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
NOW = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
PLENTY = D("1000000000")


def snap(limits: RiskLimits | None = None, **overrides) -> RiskSnapshot:
    """Only the limit under test can bind; the position-size limit is lifted out of the way."""
    base = RiskSnapshot(
        cash=PLENTY,
        equity=D(100000),
        strategy_capital=PLENTY,
        strategy_holdings=(),
        strategy_orders=(),
        account_holdings=(),
        account_orders=(),
        limits=limits or RiskLimits(max_position_fraction=D(1000)),
    )
    return replace(base, **overrides)


def lim(**kwargs) -> RiskLimits:
    return RiskLimits(max_position_fraction=D(1000), **kwargs)


def order(quantity: str, side: Side = BUY, price: str = "100", **kwargs) -> OrderIntent:
    return OrderIntent(symbol="AAA", side=side, quantity=D(quantity), reference_price=D(price), **kwargs)


def codes(s: RiskSnapshot, o: OrderIntent, now: datetime = NOW) -> list[str]:
    return [v.code for v in validate_order(s, o, now=now).violations]


LONG_AAA = (Holding("AAA", D(50), D(100)),)
TECH = {"AAA": "Tech", "BBB": "Tech", "CCC": "Energy"}


@pytest.mark.parametrize(
    ("s", "quantity", "expected"),
    [
        # max_position_quantity 100
        (snap(lim(max_position_quantity=D(100))), "99", []),
        (snap(lim(max_position_quantity=D(100))), "100", []),
        (snap(lim(max_position_quantity=D(100))), "101", ["max_position_quantity_exceeded"]),
        # gross: 0.5 x 100,000 = 50,000; BBB held at 100 x 200 = 20,000 -> room for 300 at 100
        (
            snap(
                lim(max_gross_exposure=D("0.5")),
                account_holdings=(Holding("BBB", D(200), D(90)),),
                prices={"BBB": D(100)},
            ),
            "299",
            [],
        ),
        (
            snap(
                lim(max_gross_exposure=D("0.5")),
                account_holdings=(Holding("BBB", D(200), D(90)),),
                prices={"BBB": D(100)},
            ),
            "300",
            [],
        ),
        (
            snap(
                lim(max_gross_exposure=D("0.5")),
                account_holdings=(Holding("BBB", D(200), D(90)),),
                prices={"BBB": D(100)},
            ),
            "301",
            ["max_gross_exposure_exceeded"],
        ),
        # gross counts the opening part of pending orders: 20,000 pending leaves 300
        (
            snap(lim(max_gross_exposure=D("0.5")), account_orders=(PendingOrder("BBB", SELL, D(200), D(100)),)),
            "300",
            [],
        ),
        (
            snap(lim(max_gross_exposure=D("0.5")), account_orders=(PendingOrder("BBB", SELL, D(200), D(100)),)),
            "301",
            ["max_gross_exposure_exceeded"],
        ),
        # net: 0.3 x 100,000 = 30,000; short BBB 100 x 100 = -10,000 -> a BUY may add 40,000
        (snap(lim(max_net_exposure=D("0.3")), account_holdings=(Holding("BBB", D(-100), D(100)),)), "399", []),
        (snap(lim(max_net_exposure=D("0.3")), account_holdings=(Holding("BBB", D(-100), D(100)),)), "400", []),
        (
            snap(lim(max_net_exposure=D("0.3")), account_holdings=(Holding("BBB", D(-100), D(100)),)),
            "401",
            ["max_net_exposure_exceeded"],
        ),
    ],
)
def test_exposure_checks_at_their_boundaries(s: RiskSnapshot, quantity: str, expected: list[str]) -> None:
    assert codes(s, order(quantity)) == expected


SECTOR = snap(
    RiskLimits(max_position_fraction=D("0.25"), max_sector_exposure=D("0.3")),
    account_holdings=(Holding("BBB", D(100), D(100)), Holding("CCC", D(500), D(100))),
    sectors=TECH,
)


@pytest.mark.parametrize(
    ("quantity", "expected"), [("199", []), ("200", []), ("201", ["max_sector_exposure_exceeded"])]
)
def test_sector_exposure_at_its_boundary(quantity: str, expected: list[str]) -> None:
    assert codes(SECTOR, order(quantity)) == expected


def test_sector_limit_never_below_one_full_position() -> None:
    # max_position_size 0.5 lifts a 0.3 sector limit to 0.5 of equity: 50,000 - 10,000 held = 400.
    s = replace(SECTOR, limits=RiskLimits(max_position_fraction=D("0.5"), max_sector_exposure=D("0.3")))
    assert codes(s, order("400")) == []
    assert codes(s, order("401")) == ["max_sector_exposure_exceeded"]


@pytest.mark.parametrize(("quantity", "expected"), [("99", []), ("100", []), ("101", ["max_order_notional_exceeded"])])
def test_max_order_notional_at_its_boundary(quantity: str, expected: list[str]) -> None:
    assert codes(snap(lim(max_order_notional=D(10000))), order(quantity)) == expected


def test_notional_limit_lets_a_closing_order_through() -> None:
    s = snap(lim(max_order_notional=D(1000)), account_holdings=LONG_AAA, strategy_holdings=LONG_AAA)
    assert codes(s, order("50", SELL)) == []
    assert codes(s, order("51", SELL)) == ["max_order_notional_exceeded"]


@pytest.mark.parametrize(
    ("loss", "expected"),
    [("4999", []), ("5000", ["daily_loss_limit_exceeded"]), ("5001", ["daily_loss_limit_exceeded"])],
)
def test_daily_loss_limit_at_its_boundary(loss: str, expected: list[str]) -> None:
    # 5 % of a 100,000 day start is 5,000: reaching it refuses new exposure.
    s = snap(lim(daily_loss_limit=D("0.05")), equity=D(100000) - D(loss), day_start_equity=D(100000))
    assert codes(s, order("1")) == expected


def test_daily_loss_limit_applies_to_the_strategy_too_and_lets_closes_through() -> None:
    s = snap(
        lim(daily_loss_limit=D("0.05")),
        strategy_equity=D(9500),
        strategy_day_start_equity=D(10000),
        strategy_holdings=LONG_AAA,
        account_holdings=LONG_AAA,
    )
    assert codes(s, order("1")) == ["daily_loss_limit_exceeded"]
    assert codes(s, order("50", SELL)) == []


@pytest.mark.parametrize(
    ("equity", "expected"),
    [("80001", []), ("80000", ["max_drawdown_exceeded"]), ("79999", ["max_drawdown_exceeded"])],
)
def test_max_drawdown_at_its_boundary(equity: str, expected: list[str]) -> None:
    s = snap(lim(max_drawdown=D("0.2")), equity=D(equity), high_water_mark=D(100000))
    assert codes(s, order("1")) == expected


@pytest.mark.parametrize(
    ("limit_price", "expected"),
    [("110", []), ("110.00", []), ("110.01", ["price_band_exceeded"]), ("89.99", ["price_band_exceeded"]), ("90", [])],
)
def test_price_band_at_its_boundary(limit_price: str, expected: list[str]) -> None:
    s = snap(lim(max_price_deviation=D("0.10")), prices={"AAA": D(100)})
    assert codes(s, order("1", price=limit_price, limit_price=D(limit_price))) == expected


@pytest.mark.parametrize(("recent", "expected"), [(58, []), (59, []), (60, ["order_rate_exceeded"])])
def test_strategy_order_rate_at_its_boundary(recent: int, expected: list[str]) -> None:
    times = tuple(NOW - timedelta(seconds=i % 59) for i in range(recent))
    s = snap(lim(max_strategy_orders_per_minute=60), strategy_order_times=times, account_order_times=times)
    assert codes(s, order("1")) == expected


def test_order_rate_forgets_orders_older_than_a_minute() -> None:
    times = (NOW - timedelta(seconds=60),) * 5
    s = snap(lim(max_account_orders_per_minute=5), account_order_times=times)
    assert codes(s, order("1")) == []
    s = replace(s, account_order_times=(NOW - timedelta(seconds=59),) * 5)
    assert codes(s, order("1")) == ["order_rate_exceeded"]


@pytest.mark.parametrize(
    ("session", "hours", "refused"),
    [
        ("REGULAR", "REGULAR", False),
        ("EXTENDED", "REGULAR", True),
        ("EXTENDED", "EXTENDED", False),
        ("CLOSED", "EXTENDED", True),
        ("CLOSED", "ANY", False),
    ],
)
def test_market_hours(session: str, hours: str, refused: bool) -> None:
    s = snap(lim(market_hours=hours), market_session=session)
    assert codes(s, order("1")) == (["market_closed"] if refused else [])


def test_stale_market_data_is_refused_unless_switched_off() -> None:
    s = snap(lim(), stale_symbols=frozenset({"AAA"}))
    assert codes(s, order("1")) == ["stale_market_data"]
    assert codes(replace(s, stale_symbols=frozenset({"BBB"})), order("1")) == []
    assert codes(replace(s, limits=lim(reject_stale_prices=False)), order("1")) == []


def test_restricted_symbol_refuses_opening_not_closing() -> None:
    s = snap(lim(restricted_symbols=frozenset({"AAA"})), account_holdings=LONG_AAA, strategy_holdings=LONG_AAA)
    assert codes(s, order("1")) == ["restricted_symbol"]
    assert codes(s, order("50", SELL)) == []
    assert codes(s, order("51", SELL)) == ["restricted_symbol"]


@pytest.mark.parametrize(
    ("state", "buy", "sell_50", "sell_51"),
    [
        ("ACTIVE", [], [], []),
        ("REDUCE_ONLY", ["reduce_only"], [], ["reduce_only"]),
        ("HALTED", ["trading_halted"], ["trading_halted"], ["trading_halted"]),
    ],
)
def test_trading_states(state: str, buy: list[str], sell_50: list[str], sell_51: list[str]) -> None:
    for field in ("trading_state", "strategy_trading_state"):
        s = snap(account_holdings=LONG_AAA, strategy_holdings=LONG_AAA, **{field: state})
        assert codes(s, order("1")) == buy
        assert codes(s, order("50", SELL)) == sell_50
        assert codes(s, order("51", SELL)) == sell_51


def test_kill_switch_refuses_everything_closing_included() -> None:
    s = snap(account_holdings=LONG_AAA, strategy_holdings=LONG_AAA, kill_switches=("account",))
    result = validate_order(s, order("50", SELL), now=NOW)
    assert [v.code for v in result.violations] == ["kill_switch_engaged"]
    assert result.recommended_adjustments == {"max_quantity": "0"}


@pytest.mark.parametrize(
    ("resting", "intent", "crossed"),
    [
        (
            PendingOrder("AAA", SELL, D(10), D(101), limit_price=D(101)),
            order("1", limit_price=D(101), price="101"),
            True,
        ),
        (
            PendingOrder("AAA", SELL, D(10), D(101), limit_price=D(101)),
            order("1", limit_price=D("100.99"), price="100.99"),
            False,
        ),
        (PendingOrder("AAA", SELL, D(10), D(101), limit_price=D(101)), order("1"), True),  # market BUY
        (
            PendingOrder("AAA", BUY, D(10), D(99), limit_price=D(99)),
            order("1", SELL, limit_price=D(99), price="99"),
            True,
        ),
        (
            PendingOrder("AAA", BUY, D(10), D(99), limit_price=D(99)),
            order("1", SELL, limit_price=D("99.01"), price="99.01"),
            False,
        ),
        (PendingOrder("AAA", SELL, D(10), D(101)), order("1"), False),  # a resting stop/market is not on the book
    ],
)
def test_self_cross(resting: PendingOrder, intent: OrderIntent, crossed: bool) -> None:
    s = snap(lim(prevent_self_cross=True), account_orders=(resting,), cash=PLENTY)
    assert ("self_cross" in codes(s, intent)) is crossed


@pytest.mark.parametrize(
    ("equity", "day_trades", "refused"),
    [("24999", 3, True), ("25000", 3, False), ("24999", 2, False)],
)
def test_pattern_day_trader(equity: str, day_trades: int, refused: bool) -> None:
    s = snap(
        lim(margin_account=True),
        equity=D(equity),
        day_trades=day_trades,
        opened_today=frozenset({"AAA"}),
        account_holdings=LONG_AAA,
        strategy_holdings=LONG_AAA,
    )
    assert codes(s, order("10", SELL)) == (["pattern_day_trader"] if refused else [])
    assert codes(s, order("1", BUY)) == []  # opening is not a day trade


def test_short_only_easy_to_borrow() -> None:
    s = snap(account_holdings=LONG_AAA, strategy_holdings=LONG_AAA)
    assert codes(s, order("50", SELL, shortable=False)) == []
    assert codes(s, order("51", SELL, shortable=False)) == ["not_easy_to_borrow"]
    assert codes(s, order("51", SELL, shortable=True)) == []


def test_resize_sends_the_largest_quantity_that_passes() -> None:
    s = snap(lim(max_order_notional=D(10000), resize=frozenset({"max_order_notional_exceeded"})))
    result = validate_order(s, order("250"), now=NOW)
    assert result.is_valid
    assert result.approved_quantity == D(100)
    assert result.recommended_adjustments == {"quantity": "100", "requested_quantity": "250"}
    assert [v.code for v in result.resized_for] == ["max_order_notional_exceeded"]


def test_resize_never_cures_a_gate_or_an_unlisted_check() -> None:
    s = snap(
        lim(max_order_notional=D(10000), max_position_quantity=D(50), resize=frozenset({"max_order_notional_exceeded"}))
    )
    assert not validate_order(s, order("250"), now=NOW).is_valid
    gated = replace(s, kill_switches=("global",))
    assert not validate_order(gated, order("250"), now=NOW).is_valid


# Every new limit at random: the recommended quantity passes and one lot more does not.
optional_fraction = st.one_of(st.none(), st.integers(min_value=1, max_value=200).map(lambda n: D(n) / 100))
limits = st.builds(
    RiskLimits,
    max_position_fraction=st.integers(min_value=1, max_value=100).map(lambda n: D(n) / 100),
    max_position_quantity=st.one_of(st.none(), st.integers(min_value=0, max_value=3000).map(D)),
    max_gross_exposure=optional_fraction,
    max_net_exposure=optional_fraction,
    max_sector_exposure=optional_fraction,
    max_order_notional=st.one_of(st.none(), st.integers(min_value=0, max_value=500_000).map(D)),
    restricted_symbols=st.sampled_from([frozenset(), frozenset({"AAA"})]),
)
holdings = st.lists(
    st.builds(
        Holding,
        st.sampled_from(["AAA", "BBB", "CCC"]),
        st.integers(min_value=-1000, max_value=1000).map(D),
        st.integers(min_value=1, max_value=500).map(D),
    ),
    max_size=3,
).map(tuple)


@settings(max_examples=300, deadline=None)
@given(
    limits=limits,
    held=holdings,
    side=st.sampled_from(Side),
    quantity=st.integers(min_value=1, max_value=3000).map(D),
    shortable=st.booleans(),
)
def test_recommended_quantity_respects_every_limit(limits, held, side, quantity, shortable) -> None:
    s = snap(limits, account_holdings=held, strategy_holdings=held, sectors=TECH, prices={"BBB": D(120)})
    intent = order(str(quantity), side, shortable=shortable)
    result = validate_order(s, intent, now=NOW)
    if result.is_valid:
        return
    maximum = D(result.recommended_adjustments["max_quantity"])
    if maximum > 0:
        assert validate_order(s, replace(intent, quantity=maximum), now=NOW).is_valid
    assert not validate_order(s, replace(intent, quantity=maximum + 1), now=NOW).is_valid


def test_recommended_quantity_may_carry_the_net_through_zero_up_to_todays_net() -> None:
    # Net -1,056 (short 12 at 88), limit 1,000: buying 21 leaves +1,044 (no worse than today), 22 leaves +1,144.
    limits = lim(max_net_exposure=D("0.01"))
    short = (Holding("AAA", D(-12), D(88)),)
    s = snap(limits, account_holdings=short, strategy_holdings=short)
    assert codes(s, order("21")) == []
    assert codes(s, order("22")) == ["max_net_exposure_exceeded"]
    assert validate_order(s, order("22"), now=NOW).recommended_adjustments == {"max_quantity": "21"}


@pytest.mark.parametrize(
    ("field", "reference", "equity", "expected"),
    [
        # A limit of 0 allows no loss at all, but an account that has lost nothing may still open.
        ("daily_loss_limit", "day_start_equity", "100000", []),
        ("daily_loss_limit", "day_start_equity", "100000.01", []),
        ("daily_loss_limit", "day_start_equity", "99999.99", ["daily_loss_limit_exceeded"]),
        ("max_drawdown", "high_water_mark", "100000", []),
        ("max_drawdown", "high_water_mark", "99999.99", ["max_drawdown_exceeded"]),
    ],
)
def test_a_zero_loss_limit_refuses_from_the_first_loss(field: str, reference: str, equity: str, expected) -> None:
    s = snap(lim(**{field: D(0)}), equity=D(equity), **{reference: D(100000)})
    assert codes(s, order("1")) == expected


@pytest.mark.parametrize("fraction", ["0", "0.05", "0.5"])
@pytest.mark.parametrize("reference", ["-100", "0", "100", "10000"])
@pytest.mark.parametrize("equity", ["-200", "-100", "0", "50", "95", "99.99", "100", "9500", "9500.01", "10000"])
def test_pre_trade_loss_limits_are_the_monitors(fraction: str, reference: str, equity: str) -> None:
    """An opening order is refused for a loss limit exactly when the monitor finds it breached."""
    marks = EquityMarks(trading_day=NOW.date(), day_start_equity=D(reference), high_water_mark=D(reference))
    found = breaches(
        scope="account",
        equity=D(equity),
        marks=marks,
        daily_loss_limit=D(fraction),
        daily_loss_action="HALTED",
        max_drawdown=D(fraction),
        drawdown_action="REDUCE_ONLY",
    )
    s = snap(
        lim(daily_loss_limit=D(fraction), max_drawdown=D(fraction)),
        equity=D(equity),
        day_start_equity=D(reference),
        high_water_mark=D(reference),
        cash=PLENTY,
    )
    loss_codes = ("daily_loss_limit_exceeded", "max_drawdown_exceeded")
    refused = [v for v in validate_order(s, order("1"), now=NOW).violations if v.code in loss_codes]
    assert [(v.code, v.limit, v.actual) for v in refused] == [(b.code, b.limit, b.actual) for b in found]
