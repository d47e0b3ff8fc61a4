"""Fill rules at their boundaries: touching a level, opening on it or beyond it; commission and slippage formulas,
their rounding and their bounds; FillModel parity of the live models."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from strategies.core.backtest.fills import (
    NO_COMMISSION,
    NO_SLIPPAGE,
    Bps,
    BpsSlippage,
    FixedSlippage,
    PercentOfValue,
    PerOrder,
    PerShare,
    limit_fill_price,
    reached_at_open,
    stop_fill_price,
)
from trading.core.bars import Bar
from trading.core.fills import CommissionModel, FillModel
from trading.core.orders import OrderType, Side

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
STOP, LIMIT = OrderType.STOP, OrderType.LIMIT


def bar(open_: str, high: str, low: str, close: str) -> Bar:
    return Bar("X", datetime(2026, 3, 2, 14, 30, tzinfo=UTC), D(open_), D(high), D(low), D(close), D(1))


RANGE = bar("100", "105", "95", "102")


# ---- limit and stop fills -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "limit", "expected"),
    [
        (BUY, "95", D(95)),  # the low touches the limit
        (BUY, "94.99", None),
        (BUY, "100", D(100)),  # the open is the limit
        (BUY, "100.01", D(100)),  # opened below the limit: the better open
        (SELL, "105", D(105)),  # the high touches the limit
        (SELL, "105.01", None),
        (SELL, "100", D(100)),
        (SELL, "99.99", D(100)),  # opened above the limit: the better open
    ],
)
def test_a_limit_fills_at_the_limit_or_a_better_open(side: Side, limit: str, expected: Decimal | None) -> None:
    assert limit_fill_price(side, D(limit), RANGE) == expected


@pytest.mark.parametrize(
    ("side", "stop", "expected"),
    [
        (BUY, "105", D(105)),  # the high touches the stop
        (BUY, "105.01", None),
        (BUY, "100", D(100)),
        (BUY, "99.99", D(100)),  # gapped through: the worse open
        (SELL, "95", D(95)),  # the low touches the stop
        (SELL, "94.99", None),
        (SELL, "100", D(100)),
        (SELL, "100.01", D(100)),  # gapped through: the worse open
    ],
)
def test_a_stop_fills_at_the_stop_or_a_worse_open(side: Side, stop: str, expected: Decimal | None) -> None:
    assert stop_fill_price(side, D(stop), RANGE) == expected


@pytest.mark.parametrize(
    ("order_type", "side", "level", "expected"),
    [
        (STOP, BUY, "99.99", True),  # a buy stop below the open triggers at the open
        (STOP, BUY, "100", True),
        (STOP, BUY, "100.01", False),
        (STOP, SELL, "100.01", True),
        (STOP, SELL, "100", True),
        (STOP, SELL, "99.99", False),
        (LIMIT, BUY, "100.01", True),  # a buy limit above the open is reached at the open
        (LIMIT, BUY, "100", True),
        (LIMIT, BUY, "99.99", False),
        (LIMIT, SELL, "99.99", True),
        (LIMIT, SELL, "100", True),
        (LIMIT, SELL, "100.01", False),
    ],
)
def test_reached_at_open(order_type: OrderType, side: Side, level: str, expected: bool) -> None:
    assert reached_at_open(order_type, side, D(level), RANGE) is expected


# ---- commission -------------------------------------------------------------------------------------------------


NEGATIVE_RATE = r"^Commission rates must not be negative\.$"


def test_per_share_takes_the_rate_or_the_minimum() -> None:
    model = PerShare(D("0.02"), D(3))
    assert model.commission(D(100), D(10)) == D(3)  # 2.00 under the minimum
    assert model.commission(D(150), D(10)) == D(3)  # exactly the minimum
    assert model.commission(D(151), D(10)) == D("3.02")
    assert PerShare(D("0.02")).commission(D(10), D(999)) == D("0.20")  # no minimum; the price plays no part


def test_per_order_is_flat() -> None:
    assert PerOrder(D("2.5")).commission(D(1), D(10)) == D("2.50")
    assert PerOrder(D("2.5")).commission(D(1000), D(99)) == D("2.50")
    assert PerOrder(D("0.125"), quantum=None).commission(D(3), D(10)) == D("0.125")


def test_bps_is_of_the_fill_value() -> None:
    assert Bps(D(2)).commission(D(100), D(50)) == D(1)  # 5000 * 2 / 10000
    assert Bps(D(2), quantum=None).commission(D(3), D("12.5")) == D("0.0075")


def test_percent_of_value() -> None:
    assert PercentOfValue(D(2), quantum=None).commission(D(3), D("12.5")) == D("0.75")  # 37.5 * 2 / 100
    assert PercentOfValue(D("0.5")).rate == D("0.005")


@pytest.mark.parametrize(
    "model",
    [PerShare(D("0.01"), D("0.5")), PerOrder(D("1.005")), Bps(D("0.5")), PercentOfValue(D("0.001"))],
    ids=lambda m: type(m).__name__,
)
def test_amounts_round_half_up_to_the_cent_by_default_and_stay_exact_without_a_quantum(model) -> None:
    # Each case makes exactly x.xx5 before rounding: half up gives the upper cent (half even would not).
    quantity, price = {
        "PerShare": (D("100.5"), D(1)),  # 1.005
        "PerOrder": (D(1), D(1)),  # 1.005
        "Bps": (D(201), D(100)),  # 20100 * 0.5 / 10000 = 1.005
        "PercentOfValue": (D(1005), D(100)),  # 100500 * 0.001 / 100 = 1.005
    }[type(model).__name__]
    assert model.commission(quantity, price) == D("1.01")
    exact = type(model)(**{**model.__dict__, "quantum": None})
    assert exact.commission(quantity, price) == D("1.005")
    assert type(model)(**{**model.__dict__, "quantum": D("0.1")}).commission(quantity, price) == D("1.0")


@pytest.mark.parametrize(("quantity", "price"), [(D(1), D("0.01")), (D(199), D("10.05")), (D(1001), D(10))])
def test_the_live_models_charge_what_fill_model_charges(quantity: Decimal, price: Decimal) -> None:
    per_share = FillModel(
        commission_model=CommissionModel.PER_SHARE, commission_per_share=D("0.0035"), commission_minimum=D("0.35")
    )
    per_order = FillModel(commission_model=CommissionModel.PER_ORDER, commission_per_order=D("0.995"))
    bps = FillModel(commission_model=CommissionModel.BPS, commission_bps=D("2.5"))
    assert PerShare(D("0.0035"), D("0.35")).commission(quantity, price) == per_share.commission(quantity, price)
    assert PerOrder(D("0.995")).commission(quantity, price) == per_order.commission(quantity, price)
    assert Bps(D("2.5")).commission(quantity, price) == bps.commission(quantity, price)


@pytest.mark.parametrize(
    "build",
    [
        lambda rate: PerShare(rate),
        lambda rate: PerShare(D(0), rate),
        lambda rate: PerOrder(rate),
        lambda rate: Bps(rate),
        lambda rate: PercentOfValue(rate),
    ],
)
def test_a_rate_may_be_zero_or_fractional_never_negative(build) -> None:
    assert build(D(0)).commission(D(10), D(10)) == 0
    assert build(D("0.5")).commission(D(10), D(10)) > 0
    with pytest.raises(ValueError, match=NEGATIVE_RATE):
        build(D("-0.01"))


def test_commission_descriptions() -> None:
    assert NO_COMMISSION.describe() == "no commission"
    assert PerShare(D("0.005"), D(1)).describe() == "0.005 per share, at least 1"
    assert PerOrder(D(1)).describe() == "1 per order"
    assert Bps(D(3)).describe() == "3 bps of value"
    assert PercentOfValue(D("0.2")).describe() == "0.2 % of value"


# ---- slippage ---------------------------------------------------------------------------------------------------


def test_bps_slippage_goes_against_the_trader() -> None:
    assert BpsSlippage(D(20)).price(BUY, D(50)) == D("50.1")  # 50 * 1.002
    assert BpsSlippage(D(20)).price(SELL, D(50)) == D("49.9")
    assert BpsSlippage(D(0)).price(BUY, D(50)) == D(50)
    assert BpsSlippage(D("0.5")).price(BUY, D(100)) == D("100.005")


def test_bps_slippage_on_a_tick_is_fill_models_market_price() -> None:
    # 20 bps on a 0.05 tick: 10.03 * 1.002 = 10.05006 up to 10.10 for a buy; 10.10 * 0.998 = 10.0798 down to 10.05.
    slippage = BpsSlippage(D(20), tick_size=D("0.05"))
    assert slippage.price(BUY, D("10.03")) == D("10.10")
    assert slippage.price(SELL, D("10.10")) == D("10.05")
    model = FillModel(slippage_bps=D(20), tick_size=D("0.05"))
    assert slippage.price(BUY, D("10.03")) == model.market_price(BUY, D("10.03"))


@pytest.mark.parametrize("build", [lambda bps: BpsSlippage(bps), lambda amount: FixedSlippage(amount)])
def test_a_slippage_may_be_zero_or_fractional_never_negative(build) -> None:
    assert build(D(0)).price(BUY, D(10)) == D(10)
    assert build(D("0.5")).price(BUY, D(10)) > D(10)
    with pytest.raises(ValueError, match=r"^The slippage must not be negative, got -0\.01\.$"):
        build(D("-0.01"))


def test_fixed_slippage_never_sells_at_or_below_zero() -> None:
    assert FixedSlippage(D("0.5")).price(SELL, D("1.00")) == D("0.50")  # above zero: as slipped
    assert FixedSlippage(D("0.99")).price(SELL, D("1.00")) == D("0.01")
    assert FixedSlippage(D(1)).price(SELL, D("1.00")) == D("0.01")  # exactly zero: one step of the price's grid
    assert FixedSlippage(D(2)).price(SELL, D("1.000")) == D("0.001")
    assert FixedSlippage(D(20)).price(SELL, D(10)) == D(1)
    assert FixedSlippage(D(20)).price(SELL, D("1E+1")) == D(1)  # a grid coarser than 1 still floors at 1


def test_slippage_descriptions() -> None:
    assert NO_SLIPPAGE.describe() == "no slippage"
    assert BpsSlippage(D(5)).describe() == "5 bps"
    assert BpsSlippage(D(5), tick_size=D("0.01")).describe() == "5 bps on a 0.01 tick"
    assert FixedSlippage(D("0.02")).describe() == "0.02 a share"
