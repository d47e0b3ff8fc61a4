import re
from decimal import Decimal

import pytest

from trading.core.fills import CommissionModel, FillModel
from trading.core.orders import Side

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
MODEL = FillModel()


@pytest.mark.parametrize(
    ("side", "last", "expected"),
    [
        # 100 * 1.0005 = 100.05 exactly on the tick
        (BUY, "100", "100.05"),
        (SELL, "100", "99.95"),
        # 10 * 1.0005 = 10.005 -> buyer rounds up, 10 * 0.9995 = 9.995 -> seller rounds down
        (BUY, "10", "10.01"),
        (SELL, "10", "9.99"),
        # tiny slippage still never rounds in the trader's favour
        (BUY, "1.01", "1.02"),
        (SELL, "1.01", "1.00"),
    ],
)
def test_market_price_slips_against_trader(side: Side, last: str, expected: str) -> None:
    assert MODEL.market_price(side, D(last)) == D(expected)


@pytest.mark.parametrize("last", ["0.37", "12.345", "99.99", "1234.5"])
def test_market_price_direction_and_tick(last: str) -> None:
    buy = MODEL.market_price(BUY, D(last))
    sell = MODEL.market_price(SELL, D(last))
    assert sell < D(last) < buy
    assert buy % MODEL.tick_size == 0
    assert sell % MODEL.tick_size == 0


def test_zero_slippage_with_coarse_tick() -> None:
    model = FillModel(slippage_bps=D(0), tick_size=D("0.05"))
    assert model.market_price(BUY, D("10.01")) == D("10.05")
    assert model.market_price(SELL, D("10.04")) == D("10.00")


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("1", "1.00"), ("199", "1.00"), ("200", "1.00"), ("201", "1.01"), ("1000", "5.00"), ("333", "1.67")],
)
def test_commission_has_minimum_and_cents(quantity: str, expected: str) -> None:
    assert MODEL.commission(D(quantity), D(50)) == D(expected)


@pytest.mark.parametrize(
    ("side", "limit", "last", "expected"),
    [
        (BUY, "101", "100", "100.05"),
        (BUY, "100.02", "100", "100.02"),
        (BUY, "100", "100", "100"),
        (BUY, "99", "100", None),
        (SELL, "99", "100", "99.95"),
        (SELL, "99.98", "100", "99.98"),
        (SELL, "100", "100", "100"),
        (SELL, "101", "100", None),
    ],
)
def test_limit_fill_price(side: Side, limit: str, last: str, expected: str | None) -> None:
    result = MODEL.limit_fill_price(side, D(limit), D(last))
    assert result == (None if expected is None else D(expected))


@pytest.mark.parametrize(
    ("side", "stop", "last", "expected"),
    [
        (SELL, "95", "94.99", True),
        (SELL, "95", "95", True),
        (SELL, "95", "95.01", False),
        (BUY, "105", "105.01", True),
        (BUY, "105", "105", True),
        (BUY, "105", "104.99", False),
    ],
)
def test_stop_triggered(side: Side, stop: str, last: str, expected: bool) -> None:
    assert MODEL.stop_triggered(side, D(stop), D(last)) is expected


@pytest.mark.parametrize("kwargs", [{"tick_size": D(0)}, {"slippage_bps": D(-1)}, {"commission_minimum": D(-1)}])
def test_model_rejects_bad_configuration(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        FillModel(**kwargs)


def test_market_price_rejects_non_positive_price() -> None:
    with pytest.raises(ValueError, match="last price must be a positive number"):
        MODEL.market_price(BUY, D(0))


# Commission models ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "quantity", "price", "expected"),
    [
        # per share with a minimum (the default): 0.005 * 100 = 0.50 -> the 1.00 minimum; 0.005 * 1000 = 5.00
        (FillModel(), "100", "200", "1.00"),
        (FillModel(), "1000", "200", "5.00"),
        # per order: flat, whatever the size
        (FillModel(commission_model="per_order", commission_per_order=D("4.95")), "1", "200", "4.95"),
        (FillModel(commission_model="per_order", commission_per_order=D("4.95")), "10000", "200", "4.95"),
        # bps of notional: 100 * 200 = 20,000 * 2 bps = 4.00; 3 * 33.33 = 99.99 * 2 bps = 0.019998 -> 0.02
        (FillModel(commission_model="bps", commission_bps=D("2")), "100", "200", "4.00"),
        (FillModel(commission_model="bps", commission_bps=D("2")), "3", "33.33", "0.02"),
    ],
)
def test_commission_models(model: FillModel, quantity: str, price: str, expected: str) -> None:
    assert model.commission(D(quantity), D(price)) == D(expected)


def test_unknown_commission_model_and_negative_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        FillModel(commission_model="per_trade")
    with pytest.raises(ValueError):
        FillModel(commission_bps=D("-1"))
    with pytest.raises(ValueError):
        FillModel(commission_per_order=D("-1"))


# Liquidity --------------------------------------------------------------------------------------
def test_full_participation_never_limits_a_fill() -> None:
    assert not MODEL.liquidity_limited
    assert MODEL.fillable(D("1000000"), D("5")) == D("1000000")


@pytest.mark.parametrize(
    ("quantity", "available", "expected"),
    [
        ("100", "500", "50"),  # 10% of 500
        ("30", "500", "30"),  # the order is smaller than its share
        ("100", "59", "5"),  # 5.9 -> whole shares, rounded down
        ("100", "9", "0"),  # less than one share: nothing this time
        ("100", "-3", "0"),  # an exhausted budget
        ("100", None, "100"),  # no volume known: not limited
    ],
)
def test_participation_caps_a_fill(quantity: str, available: str | None, expected: str) -> None:
    model = FillModel(max_participation=D("0.1"))
    assert model.liquidity_limited
    assert model.fillable(D(quantity), None if available is None else D(available)) == D(expected)


@pytest.mark.parametrize("participation", ["0", "-0.1", "1.5", "NaN"])
def test_participation_must_lie_in_zero_one(participation: str) -> None:
    with pytest.raises(ValueError):
        FillModel(max_participation=D(participation))


# Trailing stops ---------------------------------------------------------------------------------
def test_trail_best_follows_the_favourable_extreme() -> None:
    assert MODEL.trail_best(SELL, None, D("100")) == D("100")
    assert MODEL.trail_best(SELL, D("100"), D("105")) == D("105")
    assert MODEL.trail_best(SELL, D("105"), D("101")) == D("105")
    assert MODEL.trail_best(BUY, D("100"), D("95")) == D("95")
    assert MODEL.trail_best(BUY, D("95"), D("99")) == D("95")


@pytest.mark.parametrize(
    ("side", "best", "amount", "percent", "expected"),
    [
        (SELL, "105", "2", None, "103"),
        (BUY, "95", "2", None, "97"),
        (SELL, "200", None, "1.5", "197.00"),
        (BUY, "200", None, "1.5", "203.00"),
        # 33.33 * 1% = 0.3333: the stop rounds towards the best price, never further than the trail
        (SELL, "33.33", None, "1", "33.00"),
        (BUY, "33.33", None, "1", "33.66"),
    ],
)
def test_trail_stop(side: Side, best: str, amount: str | None, percent: str | None, expected: str) -> None:
    stop = MODEL.trail_stop(
        side, D(best), amount=None if amount is None else D(amount), percent=None if percent is None else D(percent)
    )
    assert stop == D(expected)


def test_a_trailing_stop_needs_exactly_one_trail() -> None:
    with pytest.raises(ValueError):
        MODEL.trail_stop(SELL, D("100"))
    with pytest.raises(ValueError):
        MODEL.trail_stop(SELL, D("100"), amount=D("1"), percent=D("1"))
    with pytest.raises(ValueError):
        MODEL.trail_stop(SELL, D("100"), amount=D("0"))


# Construction: every check, with the sentence it gives --------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slippage_bps": D("-0.5")}, "The slippage must not be negative, got -0.5."),
        ({"commission_per_share": D("-0.001")}, "Commission rates must not be negative."),
        ({"commission_minimum": D("-1")}, "Commission rates must not be negative."),
        ({"commission_per_order": D("-1")}, "Commission rates must not be negative."),
        ({"commission_bps": D("-1")}, "Commission rates must not be negative."),
        ({"tick_size": D("0")}, "The tick size must be a positive number, got 0."),
        ({"tick_size": D("NaN")}, "The tick size must be a positive number, got NaN."),
        ({"max_participation": D("0")}, "The participation must lie in (0, 1], got 0."),
        ({"max_participation": D("1.01")}, "The participation must lie in (0, 1], got 1.01."),
        ({"max_participation": D("Infinity")}, "The participation must lie in (0, 1], got Infinity."),
    ],
)
def test_a_bad_configuration_is_refused_with_its_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        FillModel(**kwargs)


def test_zero_rates_and_full_participation_are_valid() -> None:
    model = FillModel(
        slippage_bps=D(0),
        commission_per_share=D(0),
        commission_minimum=D(0),
        commission_per_order=D(0),
        commission_bps=D(0),
        max_participation=D(1),
    )
    assert model.commission(D(100), D(10)) == D("0.00")
    assert model.market_price(BUY, D("10.00")) == D("10.00")


def test_a_commission_model_given_by_name_becomes_the_enum() -> None:
    model = FillModel(commission_model="per_order", commission_per_order=D("4.95"))
    assert model.commission_model is CommissionModel.PER_ORDER
    assert model.commission(D(1), D(10)) == D("4.95")
    assert FillModel(commission_model="bps", commission_bps=D(10)).commission(D(10), D(100)) == D("1.00")


# Rounding: values where the modes differ ----------------------------------------------------------
@pytest.mark.parametrize(
    ("side", "best", "amount", "expected"),
    [
        # 100 - 0.0088 = 99.9912: ceiling gives 100.00 where half-even would give 99.99.
        (SELL, "100", "0.0088", "100.00"),
        # 100 + 0.0088 = 100.0088: floor gives 100.00 where half-even would give 100.01.
        (BUY, "100", "0.0088", "100.00"),
        # 100 - 0.0012 = 99.9988 and 100 + 0.0012 = 100.0012: towards the best price, not away.
        (SELL, "100", "0.0012", "100.00"),
        (BUY, "100", "0.0012", "100.00"),
    ],
)
def test_trail_stop_rounds_towards_the_best_price(side: Side, best: str, amount: str, expected: str) -> None:
    assert MODEL.trail_stop(side, D(best), amount=D(amount)) == D(expected)


@pytest.mark.parametrize(
    ("side", "last", "expected"),
    [
        # 10.0096 * 1.0005 = 10.01460480: a buyer pays 10.02 (half-even: 10.01).
        (BUY, "10.0096", "10.02"),
        # 10.0304 * 0.9995 = 10.02538480: a seller gets 10.02 (half-even: 10.03).
        (SELL, "10.0304", "10.02"),
    ],
)
def test_market_price_rounds_against_the_trader(side: Side, last: str, expected: str) -> None:
    assert MODEL.market_price(side, D(last)) == D(expected)


def test_commission_rounds_half_up_to_the_cent() -> None:
    # 0.005 * 201 = 1.005: half-up gives 1.01 (half-even would give 1.00); bps: 1 bp of 25 = 0.0025 -> 0.00.
    assert MODEL.commission(D(201), D(1)) == D("1.01")
    assert FillModel(commission_model="bps", commission_minimum=D(0)).commission(D(1), D(25)) == D("0.00")
    assert FillModel(commission_model="bps").commission(D(1), D(50)) == D("0.01")  # 0.005 -> 0.01


# Every input check names the input ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: MODEL.market_price(BUY, D("-1")), "The last price must be a positive number, got -1."),
        (lambda: MODEL.commission(D(0), D(10)), "The quantity must be a positive number, got 0."),
        (lambda: MODEL.commission(D(10), D(0)), "The price must be a positive number, got 0."),
        (lambda: MODEL.limit_fill_price(BUY, D(0), D(10)), "The limit price must be a positive number, got 0."),
        (lambda: MODEL.limit_fill_price(BUY, D(10), D(0)), "The last price must be a positive number, got 0."),
        (lambda: MODEL.stop_triggered(SELL, D(0), D(10)), "The stop price must be a positive number, got 0."),
        (lambda: MODEL.stop_triggered(SELL, D(10), D(0)), "The last price must be a positive number, got 0."),
        (lambda: MODEL.trail_stop(SELL, D(0), amount=D(1)), "The best price must be a positive number, got 0."),
        (lambda: MODEL.trail_stop(SELL, D(10), amount=D(-1)), "The trail must be a positive number, got -1."),
        (lambda: MODEL.trail_stop(SELL, D(10), percent=D(0)), "The trail must be a positive number, got 0."),
        (
            lambda: MODEL.trail_stop(SELL, D(10)),
            "A trailing stop needs exactly one of a trail amount or a trail percent.",
        ),
    ],
)
def test_bad_inputs_are_named(call, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()


def test_an_exhausted_volume_budget_fills_nothing() -> None:
    model = FillModel(max_participation=D("0.99"))
    assert model.fillable(D(10), D("-0.5")) == D(0)
    assert model.fillable(D(10), D(0)) == D(0)
    assert model.fillable(D(10), D("1.02")) == D(1)  # 1.0098 of a share: one whole share
