from decimal import Decimal

import pytest

from trading.core.fills import FillModel
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
