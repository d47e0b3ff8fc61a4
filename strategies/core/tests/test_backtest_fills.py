"""Fill prices on hand-made bars (the trigger and gap rules), commission, slippage and sizing models."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from strategies.core.backtest.fills import (
    NO_COMMISSION,
    NO_SLIPPAGE,
    Bps,
    BpsSlippage,
    FillTiming,
    FixedSlippage,
    PercentOfValue,
    PerOrder,
    PerShare,
    limit_fill_price,
    market_fill_price,
    stop_fill_price,
)
from strategies.core.backtest.sizing import (
    ALL_IN,
    FixedQuantity,
    FractionOfCapital,
    FractionOfEquity,
    all_in_quantity,
)
from trading.core.bars import Bar
from trading.core.fills import CommissionModel, FillModel
from trading.core.orders import Side

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


def bar(open_: str, high: str, low: str, close: str) -> Bar:
    return Bar("X", datetime(2026, 3, 2, 14, 30, tzinfo=UTC), D(open_), D(high), D(low), D(close), D(1))


RANGE = bar("100", "105", "95", "102")


def test_market_orders_fill_at_the_next_open_or_this_close() -> None:
    assert market_fill_price(RANGE, FillTiming.NEXT_OPEN) == D(100)
    assert market_fill_price(RANGE, FillTiming.THIS_CLOSE) == D(102)


@pytest.mark.parametrize(
    ("side", "limit", "expected"),
    [
        (BUY, "97", D(97)),  # the low reaches it: filled at the limit
        (BUY, "94", None),  # the low stays above
        (BUY, "95", D(95)),  # touching is enough
        (BUY, "101", D(100)),  # opened below the limit (gap): filled at the better open
        (SELL, "104", D(104)),
        (SELL, "106", None),
        (SELL, "99", D(100)),  # opened above a sell limit: filled at the open
    ],
)
def test_limit_orders(side: Side, limit: str, expected: Decimal | None) -> None:
    assert limit_fill_price(side, D(limit), RANGE) == expected


@pytest.mark.parametrize(
    ("side", "stop", "expected"),
    [
        (SELL, "97", D(97)),  # the low reaches the stop: filled at the stop
        (SELL, "94", None),
        (SELL, "101", D(100)),  # opened through the stop (gap down): filled at the worse open
        (BUY, "104", D(104)),
        (BUY, "106", None),
        (BUY, "99", D(100)),  # gap up through a buy stop: the open
        (BUY, "105", D(105)),  # touching the high triggers
    ],
)
def test_stop_orders_and_the_gap_rule(side: Side, stop: str, expected: Decimal | None) -> None:
    assert stop_fill_price(side, D(stop), RANGE) == expected


def test_commission_models() -> None:
    assert NO_COMMISSION.commission(D(100), D(10)) == 0
    # Per share with a minimum, per order and bps are trading.core.fills.FillModel's, cents half up.
    per_share = PerShare(D("0.005"), D("1.00"))
    assert per_share.commission(D(100), D(10)) == D("1.00")  # 0.50 under the minimum
    assert per_share.commission(D(1001), D(10)) == D("5.01")  # 5.005 half up
    model = FillModel(commission_model=CommissionModel.PER_SHARE, commission_per_share=D("0.005"))
    assert per_share.commission(D(1001), D(10)) == model.commission(D(1001), D(10))
    assert PerOrder(D("1.5")).commission(D(1), D(10)) == D("1.50")
    assert Bps(D(1)).commission(D(100), D("123.45")) == D("1.23")  # 1.2345
    # Percent of value: exact without a quantum (backtesting.py's), cents by default.
    assert PercentOfValue(D("0.2"), quantum=None).commission(D(59), D("169.02")) == D("19.94436")
    assert PercentOfValue(D("0.2")).commission(D(59), D("169.02")) == D("19.94")
    assert PercentOfValue(D("0.2")).rate == D("0.002")
    with pytest.raises(ValueError, match="must not be negative"):
        PercentOfValue(D("-1"))


def test_slippage_models() -> None:
    assert NO_SLIPPAGE.price(BUY, D(100)) == D(100)
    assert BpsSlippage(D(10)).price(BUY, D(100)) == D("100.1")
    assert BpsSlippage(D(10)).price(SELL, D(100)) == D("99.9")
    # On a tick, rounded against the trader: FillModel.market_price.
    assert BpsSlippage(D(5), tick_size=D("0.01")).price(BUY, D("100.01")) == D("100.07")  # 100.060005 up
    assert BpsSlippage(D(5), tick_size=D("0.01")).price(SELL, D("100.01")) == D("99.95")  # 99.959995 down
    assert FixedSlippage(D("0.02")).price(BUY, D("10.00")) == D("10.02")
    assert FixedSlippage(D("0.02")).price(SELL, D("10.00")) == D("9.98")
    assert FixedSlippage(D(5)).price(SELL, D("1.00")) == D("0.01")  # never at or below zero


def test_sizing_modes() -> None:
    common = {"price": D(40), "equity": D(10000), "available": D(5000), "capital": D(2000), "lot_size": D(1)}
    assert FixedQuantity(D("7.9")).quantity(signal_fraction=None, commission=NO_COMMISSION, **common) == D(7)
    assert FractionOfEquity(D("0.5")).quantity(signal_fraction=None, commission=NO_COMMISSION, **common) == D(125)
    # None takes the signal's position_size.
    assert FractionOfEquity().quantity(signal_fraction=D("0.1"), commission=NO_COMMISSION, **common) == D(25)
    assert FractionOfCapital().quantity(signal_fraction=D("0.1"), commission=NO_COMMISSION, **common) == D(5)
    assert ALL_IN.quantity(signal_fraction=None, commission=NO_COMMISSION, **common) == D(125)
    with pytest.raises(ValueError, match="position_size"):
        FractionOfEquity().quantity(signal_fraction=None, commission=NO_COMMISSION, **common)
    lots = {**common, "lot_size": D(100)}
    assert FractionOfEquity(D("0.5")).quantity(signal_fraction=None, commission=NO_COMMISSION, **lots) == D(100)


def test_all_in_leaves_room_for_the_commission() -> None:
    # backtesting.py's rule with a percent commission: floor(cash / (price * (1 + rate))).
    pct = PercentOfValue(D("0.2"), quantum=None)
    assert all_in_quantity(available=D(10000), price=D("169.02"), lot_size=D(1), commission=pct) == D(59)
    # 59 shares cost 9972.18, and 9992.1244 with the commission: more than 9990.
    assert all_in_quantity(available=D(9990), price=D("169.02"), lot_size=D(1), commission=pct) == D(58)
    assert all_in_quantity(available=D(9990), price=D("169.02"), lot_size=D(1), commission=NO_COMMISSION) == D(59)
    # Exactly affordable: 50 * 200 * 1.002 = 10020.
    assert all_in_quantity(available=D(10020), price=D(200), lot_size=D(1), commission=pct) == D(50)
    assert all_in_quantity(available=D("10019.99"), price=D(200), lot_size=D(1), commission=pct) == D(49)
    # A flat fee per order comes off the top once; a per-share minimum too.
    assert all_in_quantity(available=D(1000), price=D(10), lot_size=D(1), commission=PerOrder(D(5))) == D(99)
    assert all_in_quantity(available=D(100), price=D(10), lot_size=D(1), commission=PerOrder(D(5))) == D(9)
    assert all_in_quantity(available=D(5), price=D(10), lot_size=D(1), commission=NO_COMMISSION) == 0
    assert all_in_quantity(available=D(0), price=D(10), lot_size=D(1), commission=NO_COMMISSION) == 0
