from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from strategies.core.attribution import (
    BUCKET_EDGES,
    UNATTRIBUTED,
    attribution,
    bucket_index,
    calibration,
)
from strategies.core.metrics import ClosedTrade
from trading.core.orders import Side

D = Decimal
T0 = datetime(2026, 2, 2, 15, tzinfo=UTC)


def trade(pnl: str, model: str | None, confidence: str | None, quantity: str = "10", entry: str = "100") -> ClosedTrade:
    q, p = D(quantity), D(entry)
    return ClosedTrade(
        "AAPL",
        Side.BUY,
        q,
        T0,
        T0 + timedelta(minutes=5),
        p,
        p + D(pnl) / q,
        D(pnl),
        D(0),
        model,
        None if confidence is None else D(confidence),
    )


@pytest.mark.parametrize(
    ("confidence", "index"),
    [
        ("0", 0),
        ("0.4999", 0),
        ("0.5", 1),
        ("0.59", 1),
        ("0.6", 2),
        ("0.7", 3),
        ("0.8", 4),
        ("0.8999", 4),
        ("0.9", 5),
        ("1", 5),
    ],
)
def test_bucket_edges(confidence: str, index: int) -> None:
    assert bucket_index(D(confidence)) == index


@pytest.mark.parametrize("confidence", ["-0.01", "1.01", "NaN"])
def test_bucket_out_of_range(confidence: str) -> None:
    with pytest.raises(ValueError):
        bucket_index(D(confidence))


TRADES = [
    trade("100", "gpt", "0.95"),  # win, return 100 / 1000 = 0.1
    trade("-50", "gpt", "0.92"),  # loss, -0.05
    trade("30", "gpt", "0.55"),  # win, 0.03
    trade("-20", "lstm", "0.65"),  # loss, -0.02
    trade("0", "lstm", "0.5"),  # break-even: neither, return 0
    trade("10", None, None),  # unattributed, unscored
]


def test_per_model() -> None:
    result = attribution(TRADES, signal_counts={"gpt": 7, "lstm": 2, "xgb": 4})
    by_model = {m.model: m for m in result.models}
    assert [m.model for m in result.models] == [UNATTRIBUTED, "gpt", "lstm", "xgb"]
    gpt = by_model["gpt"]
    assert (gpt.signals, gpt.trades, gpt.wins, gpt.losses, gpt.pnl) == (7, 3, 2, 1, D(80))
    assert gpt.hit_rate == D(2) / D(3) or abs(gpt.hit_rate - D(2) / D(3)) < D("1e-25")
    assert gpt.average_return == D("0.08") / 3 or abs(gpt.average_return - D("0.08") / D(3)) < D("1e-25")
    lstm = by_model["lstm"]
    assert (lstm.trades, lstm.wins, lstm.losses, lstm.pnl, lstm.hit_rate, lstm.average_return) == (
        2,
        0,
        1,
        D(-20),
        D(0),
        D("-0.01"),
    )
    xgb = by_model["xgb"]
    assert (xgb.signals, xgb.trades, xgb.hit_rate, xgb.average_return, xgb.pnl) == (4, 0, None, None, D(0))
    assert by_model[UNATTRIBUTED].signals == 0 and by_model[UNATTRIBUTED].pnl == D(10)
    assert result.unscored_trades == 1


def test_signals_unknown_without_counts() -> None:
    assert {m.signals for m in attribution(TRADES).models} == {None}


def test_calibration_buckets() -> None:
    buckets = calibration(TRADES)
    assert [b.label for b in buckets] == [
        "[0, 0.5)",
        "[0.5, 0.6)",
        "[0.6, 0.7)",
        "[0.7, 0.8)",
        "[0.8, 0.9)",
        "[0.9, 1]",
    ]
    assert [(b.trades, b.wins) for b in buckets] == [(0, 0), (2, 1), (1, 0), (0, 0), (0, 0), (2, 1)]
    assert [b.win_rate for b in buckets] == [None, D("0.5"), D(0), None, None, D("0.5")]
    assert [b.mean_confidence for b in buckets] == [None, D("0.525"), D("0.65"), None, None, D("0.935")]
    assert (buckets[0].lower, buckets[-1].upper) == (BUCKET_EDGES[0], D(1))


def test_per_model_calibration_and_as_dict() -> None:
    result = attribution(TRADES)
    gpt = next(m for m in result.models if m.model == "gpt")
    assert [b.trades for b in gpt.calibration] == [0, 1, 0, 0, 0, 2]
    data = result.as_dict()
    assert data["unscored_trades"] == 1
    assert data["calibration"][5] == {
        "bucket": "[0.9, 1]",
        "lower": "0.9",
        "upper": "1",
        "trades": 2,
        "wins": 1,
        "win_rate": "0.5",
        "mean_confidence": "0.935",
    }
    assert data["models"][1]["pnl"] == "80" and data["models"][1]["model"] == "gpt"


def test_no_trades() -> None:
    result = attribution([])
    assert result.models == () and result.unscored_trades == 0
    assert all(b.trades == 0 and b.win_rate is None for b in result.calibration)


@pytest.mark.parametrize("confidence", ["-0.000001", "1.000001", "NaN", "Infinity"])
def test_bucket_out_of_range_says_why(confidence: str) -> None:
    with pytest.raises(ValueError, match=rf"^A confidence must lie in \[0, 1\], got {confidence}\.$"):
        bucket_index(D(confidence))


@pytest.mark.parametrize(
    ("confidence", "index"),
    [("0.499999", 0), ("0.599999", 1), ("0.699999", 2), ("0.799999", 3), ("0.999999", 5)],
)
def test_bucket_just_below_each_upper_edge(confidence: str, index: int) -> None:
    assert bucket_index(D(confidence)) == index


def test_an_unscored_trade_is_skipped_without_ending_the_calibration() -> None:
    buckets = calibration([trade("10", "gpt", None), trade("10", "gpt", "0.95"), trade("-5", "gpt", "0.1")])
    assert [(b.trades, b.wins) for b in buckets] == [(1, 0), (0, 0), (0, 0), (0, 0), (0, 0), (1, 1)]


def test_model_as_dict_with_and_without_trades() -> None:
    result = attribution([trade("30", "gpt", "0.55"), trade("-10", "gpt", None)], signal_counts={"gpt": 3, "xgb": 1})
    gpt, xgb = result.models
    assert gpt.as_dict() == {
        "model": "gpt",
        "signals": 3,
        "trades": 2,
        "wins": 1,
        "losses": 1,
        "pnl": "20",
        "hit_rate": "0.5",
        "average_return": "0.01",
        "calibration": [bucket.as_dict() for bucket in gpt.calibration],
    }
    assert gpt.as_dict()["calibration"][1] == {
        "bucket": "[0.5, 0.6)",
        "lower": "0.5",
        "upper": "0.6",
        "trades": 1,
        "wins": 1,
        "win_rate": "1",
        "mean_confidence": "0.55",
    }
    assert xgb.as_dict() == {
        "model": "xgb",
        "signals": 1,
        "trades": 0,
        "wins": 0,
        "losses": 0,
        "pnl": "0",
        "hit_rate": None,
        "average_return": None,
        "calibration": [bucket.as_dict() for bucket in xgb.calibration],
    }
    assert xgb.as_dict()["calibration"][0]["win_rate"] is None
    assert xgb.as_dict()["calibration"][0]["mean_confidence"] is None
    # Money is a Decimal even for a model without trades.
    assert isinstance(xgb.pnl, Decimal)
