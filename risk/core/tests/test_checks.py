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
    Violation,
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


# Every refusal in full: code, sentence, limit and actual are the contract ----------------------------
LONG_HALF = (Holding("AAA", D("0.5"), D(100)),)


@pytest.mark.parametrize(
    ("overrides", "intent", "violation"),
    [
        (
            {"kill_switches": ("account", "strategy")},
            order("1"),
            Violation(
                "kill_switch_engaged",
                "The emergency stop is engaged (account, strategy); no new orders until it is released.",
            ),
        ),
        ({"trading_state": "HALTED"}, order("1"), Violation("trading_halted", "Trading is halted on this account.")),
        (
            {"strategy_trading_state": "HALTED"},
            order("1"),
            Violation("trading_halted", "Trading is halted on this strategy."),
        ),
        (
            {"limits": lim(market_hours="REGULAR"), "market_session": "EXTENDED"},
            order("1"),
            Violation("market_closed", "The market for AAA is extended; this account trades only in regular hours."),
        ),
        (
            {"stale_symbols": frozenset({"AAA"})},
            order("1"),
            Violation("stale_market_data", "The market data for AAA is stale."),
        ),
        (
            {"limits": lim(max_price_deviation=D("0.1")), "prices": {"AAA": D(100)}},
            order("1", price="111", limit_price=D(111)),
            Violation(
                "price_band_exceeded",
                "The limit price 111 is 11.00% away from the last price 100, beyond the band of 10.00%.",
                limit=D("0.1"),
                actual=D("0.11"),
            ),
        ),
        (
            {
                "limits": lim(max_strategy_orders_per_minute=2, max_account_orders_per_minute=5),
                "strategy_order_times": (NOW,) * 2,
                "account_order_times": (NOW,) * 3,
            },
            order("1"),
            Violation(
                "order_rate_exceeded",
                "The strategy already sent 2 orders in the last minute; the limit is 2 per minute.",
                limit=D(2),
                actual=D(3),
            ),
        ),
        (
            {
                "limits": lim(max_strategy_orders_per_minute=5, max_account_orders_per_minute=3),
                "strategy_order_times": (NOW,) * 2,
                "account_order_times": (NOW,) * 4,
            },
            order("1"),
            Violation(
                "order_rate_exceeded",
                "The account already sent 4 orders in the last minute; the limit is 3 per minute.",
                limit=D(3),
                actual=D(5),
            ),
        ),
        (
            {
                "limits": lim(prevent_self_cross=True),
                "account_orders": (PendingOrder("AAA", SELL, D(10), D(101), limit_price=D(101)),),
            },
            order("1", price="101", limit_price=D(101)),
            Violation(
                "self_cross", "The order would trade against the account's own resting SELL limit order in AAA at 101."
            ),
        ),
        (
            {
                "limits": lim(margin_account=True),
                "equity": D(24999),
                "day_trades": 4,
                "opened_today": frozenset({"AAA"}),
                "account_holdings": LONG_HALF,
                "strategy_holdings": LONG_HALF,
            },
            order("0.5", SELL),
            Violation(
                "pattern_day_trader",
                "A margin account under 25000 of equity has made 4 day trades in five business days; "
                "closing AAA today would be another.",
                limit=D(2),
                actual=D(4),
            ),
        ),
        (
            {"trading_state": "REDUCE_ONLY"},
            order("1"),
            Violation("reduce_only", "The account is reduce-only: an order in AAA may only close exposure."),
        ),
        (
            {"strategy_trading_state": "REDUCE_ONLY"},
            order("1"),
            Violation("reduce_only", "The strategy is reduce-only: an order in AAA may only close exposure."),
        ),
        (
            {"limits": lim(restricted_symbols=frozenset({"AAA"}))},
            order("1"),
            Violation("restricted_symbol", "AAA is on the restricted list."),
        ),
        (
            {},
            order("1", SELL, shortable=False),
            Violation("not_easy_to_borrow", "AAA is not on the easy-to-borrow list; it cannot be sold short."),
        ),
        (
            {"limits": lim(max_position_quantity=D(5))},
            order("6"),
            Violation(
                "max_position_quantity_exceeded",
                "The order would bring the position in AAA to 6 units, above the limit of 5.",
                limit=D(5),
                actual=D(6),
            ),
        ),
        (
            {"limits": RiskLimits(max_position_fraction=D("0.01"))},
            order("11"),
            Violation(
                "max_position_size_exceeded",
                "The order would bring the position in AAA to 1100, above the limit of 1000.00 (0.01 of equity).",
                limit=D(1000),
                actual=D(1100),
            ),
        ),
        (
            {"limits": lim(max_gross_exposure=D("0.01"))},
            order("11"),
            Violation(
                "max_gross_exposure_exceeded",
                "The order would bring the gross exposure to 1100, above the limit of 1000.00 (0.01 of equity).",
                limit=D(1000),
                actual=D(1100),
            ),
        ),
        (
            {"limits": lim(max_net_exposure=D("0.01"))},
            order("11", SELL),
            Violation(
                "max_net_exposure_exceeded",
                "The order would bring the net exposure to -1100, beyond the limit of 1000.00 (0.01 of equity).",
                limit=D(1000),
                actual=D(1100),
            ),
        ),
        (
            {"limits": RiskLimits(max_position_fraction=D("0.01"), max_sector_exposure=D("0.02")), "sectors": TECH},
            order("10"),
            None,  # 1,000: at the position limit and within the sector's 2,000
        ),
        (
            {
                "limits": RiskLimits(max_position_fraction=D("0.01"), max_sector_exposure=D("0.02")),
                "sectors": TECH,
                "account_holdings": (Holding("BBB", D(15), D(100)),),
            },
            order("10"),
            Violation(
                "max_sector_exposure_exceeded",
                "The order would bring the exposure to Tech to 2500, above the limit of 2000.00 (0.02 of equity).",
                limit=D(2000),
                actual=D(2500),
            ),
        ),
        (
            {"limits": lim(max_order_notional=D(500))},
            order("6"),
            Violation(
                "max_order_notional_exceeded",
                "The order's notional 600 is above the per-order limit of 500.",
                limit=D(500),
                actual=D(600),
            ),
        ),
        (
            {"strategy_capital": D(500)},
            order("5"),
            Violation(
                "strategy_capital_exceeded",
                "The order would bring the strategy's committed capital to 510.00, above its allocation of 500.",
                limit=D(500),
                actual=D(510),
            ),
        ),
        (
            {"limits": lim(daily_loss_limit=D("0.05")), "equity": D(90000), "day_start_equity": D(100000)},
            order("1"),
            Violation(
                "daily_loss_limit_exceeded",
                "The account has lost 10000 today, reaching its daily loss limit of 5000.00; "
                "only closing orders are allowed.",
                limit=D(5000),
                actual=D(10000),
            ),
        ),
        (
            {
                "limits": lim(daily_loss_limit=D("0.05")),
                "strategy_equity": D(900),
                "strategy_day_start_equity": D(1000),
                "strategy_high_water_mark": D(5000),
            },
            order("1"),
            Violation(
                "daily_loss_limit_exceeded",
                "The strategy has lost 100 today, reaching its daily loss limit of 50.00; "
                "only closing orders are allowed.",
                limit=D(50),
                actual=D(100),
            ),
        ),
        (
            {"limits": lim(max_drawdown=D("0.1")), "equity": D(85000), "high_water_mark": D(100000)},
            order("1"),
            Violation(
                "max_drawdown_exceeded",
                "The account is 15000 below its high-water mark of 100000, reaching its maximum drawdown of 10000.0; "
                "only closing orders are allowed.",
                limit=D(10000),
                actual=D(15000),
            ),
        ),
        (
            {
                "limits": lim(max_drawdown=D("0.1")),
                "strategy_equity": D(850),
                "strategy_day_start_equity": D(800),
                "strategy_high_water_mark": D(1000),
            },
            order("1"),
            Violation(
                "max_drawdown_exceeded",
                "The strategy is 150 below its high-water mark of 1000, reaching its maximum drawdown of 100.0; "
                "only closing orders are allowed.",
                limit=D(100),
                actual=D(150),
            ),
        ),
    ],
)
def test_each_refusal_in_full(overrides: dict, intent: OrderIntent, violation: Violation | None) -> None:
    result = validate_order(snap(**overrides), intent, now=NOW)
    assert list(result.violations) == ([] if violation is None else [violation])
    assert [str(v.message) for v in result.violations] == ([] if violation is None else [violation.message])


@pytest.mark.parametrize(("quantity", "expected"), [("400", []), ("401", ["max_net_exposure_exceeded"])])
def test_net_exposure_counts_resting_orders_with_their_sign(quantity: str, expected: list[str]) -> None:
    # A resting SELL of 100 BBB at 100 makes the net -10,000: a BUY may take it to +30,000, i.e. 400 units.
    s = snap(lim(max_net_exposure=D("0.3")), account_orders=(PendingOrder("BBB", SELL, D(100), D(100)),))
    assert codes(s, order(quantity)) == expected


@pytest.mark.parametrize(("quantity", "expected"), [("100", []), ("101", ["max_sector_exposure_exceeded"])])
def test_sector_exposure_counts_resting_orders_of_the_sector_only(quantity: str, expected: list[str]) -> None:
    # Tech limit 30,000: a resting BBB BUY of 200 at 100 (Tech) uses 20,000; CCC (Energy) uses nothing of it.
    s = snap(
        RiskLimits(max_position_fraction=D("0.2"), max_sector_exposure=D("0.3")),
        sectors=TECH,
        account_orders=(PendingOrder("BBB", BUY, D(200), D(100)), PendingOrder("CCC", BUY, D(900), D(100))),
    )
    assert codes(s, order(quantity)) == expected


@pytest.mark.parametrize(
    ("prices", "quantity", "expected"),
    [
        # No price for BBB: it is marked at its average, 50 x 200 = 10,000 of the 50,000 gross limit.
        ({}, "400", []),
        ({}, "401", ["max_gross_exposure_exceeded"]),
        # A price of 300 marks it at 15,000.
        ({"BBB": D(300)}, "350", []),
        ({"BBB": D(300)}, "351", ["max_gross_exposure_exceeded"]),
    ],
)
def test_holdings_are_marked_at_the_price_else_their_average(prices: dict, quantity: str, expected) -> None:
    s = snap(lim(max_gross_exposure=D("0.5")), account_holdings=(Holding("BBB", D(-50), D(200)),), prices=prices)
    assert codes(s, order(quantity)) == expected


@pytest.mark.parametrize(
    ("strategy_holdings", "account_orders", "quantity", "expected"),
    [
        # Two strategy holdings: 2,000 + 3,000 of the 10,000 capital are used; 49 more at 102 fit, 50 do not.
        ((Holding("BBB", D(20), D(100)), Holding("CCC", D(-30), D(100))), (), "49", []),
        ((Holding("BBB", D(20), D(100)), Holding("CCC", D(-30), D(100))), (), "50", ["strategy_capital_exceeded"]),
        # Two resting strategy orders reserve 2 x 2,040.
        ((), (PendingOrder("BBB", BUY, D(20), D(100)), PendingOrder("CCC", BUY, D(20), D(100))), "58", []),
        (
            (),
            (PendingOrder("BBB", BUY, D(20), D(100)), PendingOrder("CCC", BUY, D(20), D(100))),
            "59",
            ["strategy_capital_exceeded"],
        ),
    ],
)
def test_committed_capital_adds_every_holding_and_resting_order(strategy_holdings, account_orders, quantity, expected):
    s = snap(
        strategy_capital=D(10000),
        strategy_holdings=strategy_holdings,
        strategy_orders=account_orders,
        account_orders=account_orders,
    )
    assert codes(s, order(quantity)) == expected


@pytest.mark.parametrize(
    ("holdings", "quantity", "expected"),
    [
        # Only a short's proceeds are held as collateral: a long of half a share frees nothing.
        ((Holding("BBB", D("0.5"), D(100)),), "100", []),
        ((Holding("BBB", D("0.5"), D(100)),), "101", ["insufficient_funds"]),
        ((Holding("BBB", D(-10), D(100)),), "90", []),
        ((Holding("BBB", D(-10), D(100)),), "91", ["insufficient_funds"]),
    ],
)
def test_buying_power_holds_short_proceeds(holdings, quantity: str, expected: list[str]) -> None:
    s = snap(cash=D(10200), account_holdings=holdings)
    assert codes(s, order(quantity)) == expected


@pytest.mark.parametrize(
    ("holdings", "quantity", "expected"),
    [
        # Two holdings in one symbol net: long 30 and short 20 leave 10 that a SELL may close.
        ((Holding("AAA", D(30), D(100)), Holding("AAA", D(-20), D(100))), "10", []),
        ((Holding("AAA", D(30), D(100)), Holding("AAA", D(-20), D(100))), "11", ["insufficient_funds"]),
        # Half a share is a position too: selling it reduces.
        ((Holding("AAA", D("0.5"), D(100)),), "0.5", []),
        ((Holding("AAA", D("0.5"), D(100)),), "0.6", ["insufficient_funds"]),
    ],
)
def test_reducing_capacity_of_netted_and_fractional_holdings(holdings, quantity: str, expected: list[str]) -> None:
    s = snap(cash=D(-20000), account_holdings=holdings, strategy_holdings=holdings)
    assert codes(s, order(quantity, SELL)) == expected


@pytest.mark.parametrize(
    ("prices", "intent", "expected"),
    [
        ({"AAA": D(0)}, order("1", limit_price=D(500), price="500"), []),  # a last price of 0 is no reference
        ({"AAA": D("0.5")}, order("1", limit_price=D("0.56"), price="0.56"), ["price_band_exceeded"]),
        ({"AAA": D("0.5")}, order("1", limit_price=D("0.55"), price="0.55"), []),
        ({}, order("1", limit_price=D(500), price="500"), []),  # no last price
        ({"AAA": D(100)}, order("1", price="500"), []),  # a market order has no limit price
    ],
)
def test_price_band_needs_a_limit_and_a_positive_last_price(prices, intent: OrderIntent, expected) -> None:
    assert codes(snap(lim(max_price_deviation=D("0.1")), prices=prices), intent) == expected
    assert codes(snap(lim(), prices=prices), intent) == []  # no band


def test_self_cross_looks_past_other_symbols_and_own_side_orders() -> None:
    resting = (
        PendingOrder("BBB", SELL, D(10), D(90), limit_price=D(90)),  # another symbol, would cross
        PendingOrder("AAA", BUY, D(10), D(99), limit_price=D(99)),  # our own side
        PendingOrder("AAA", SELL, D(10), D(101), limit_price=D(101)),
    )
    s = snap(lim(prevent_self_cross=True), account_orders=resting)
    assert codes(s, order("1", limit_price=D(101), price="101")) == ["self_cross"]
    assert codes(s, order("1", limit_price=D(100), price="100")) == []
    assert codes(snap(lim(), account_orders=resting), order("1", limit_price=D(101), price="101")) == []


def test_pattern_day_trader_needs_a_position_to_close_today() -> None:
    base = {
        "equity": D(24999),
        "day_trades": 3,
        "opened_today": frozenset({"AAA"}),
        "account_holdings": LONG_HALF,
        "strategy_holdings": LONG_HALF,
    }
    assert codes(snap(lim(margin_account=True), **base), order("0.5", SELL)) == ["pattern_day_trader"]
    assert codes(snap(lim(), **base), order("0.5", SELL)) == []  # a cash account
    assert codes(snap(lim(margin_account=True), **{**base, "opened_today": frozenset()}), order("0.5", SELL)) == []


@pytest.mark.parametrize(("quantity", "expected"), [("60", []), ("61", ["max_position_quantity_exceeded"])])
def test_position_quantity_adds_the_order_to_the_holding(quantity: str, expected: list[str]) -> None:
    s = snap(lim(max_position_quantity=D(100)), account_holdings=(Holding("AAA", D(40), D(100)),))
    assert codes(s, order(quantity)) == expected


@pytest.mark.parametrize(("quantity", "expected"), [("20", []), ("21", ["max_net_exposure_exceeded"])])
def test_net_exposure_may_end_exactly_as_far_from_zero_as_it_started(quantity: str, expected: list[str]) -> None:
    # Net -1,000 against a limit of 100: buying 20 ends at +1,000, no further from zero; 21 is further.
    short = (Holding("AAA", D(-10), D(100)),)
    s = snap(lim(max_net_exposure=D("0.001")), account_holdings=short, strategy_holdings=short)
    assert codes(s, order(quantity)) == expected


def test_a_refusal_recommends_the_whole_lots_of_what_may_be_closed() -> None:
    long = (Holding("AAA", D(25), D(100)),)
    s = snap(lim(restricted_symbols=frozenset({"AAA"})), account_holdings=long, strategy_holdings=long)
    result = validate_order(s, order("40", SELL, lot_size=D(10)), now=NOW)
    assert [v.code for v in result.violations] == ["restricted_symbol"]
    assert result.recommended_adjustments == {"max_quantity": "20"}


@pytest.mark.parametrize(("quantity", "expected"), [("20", []), ("21", ["max_net_exposure_exceeded"])])
def test_net_exposure_is_measured_against_todays_net_not_the_gross(quantity: str, expected: list[str]) -> None:
    # Long BBB 1,000 and short AAA 2,000: net -1,000, gross 3,000. Buying AAA may end at +1,000, not +3,000.
    held = (Holding("BBB", D(10), D(100)), Holding("AAA", D(-20), D(100)))
    s = snap(lim(max_net_exposure=D("0.001")), account_holdings=held, strategy_holdings=held)
    assert codes(s, order(quantity)) == expected
