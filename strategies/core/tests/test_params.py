from dataclasses import fields
from decimal import Decimal

import pytest

from strategies.core.params import (
    PARAM_CLASSES,
    PARAM_SPECS,
    BollingerBreakoutParams,
    ExternalAiParams,
    InvalidStrategyParameters,
    MomentumParams,
    RsiMeanReversionParams,
    SmaCrossoverParams,
    params_clean,
    params_dump,
    params_validate,
)

D = Decimal


@pytest.mark.parametrize(
    ("strategy_type", "expected"),
    [
        ("SMA_CROSSOVER", SmaCrossoverParams(fast_period=10, slow_period=20)),
        ("RSI_MEAN_REVERSION", RsiMeanReversionParams(period=14, oversold=D(30), overbought=D(70))),
        ("BOLLINGER_BREAKOUT", BollingerBreakoutParams(period=20, k=D(2))),
        ("MOMENTUM", MomentumParams(lookback=10, threshold=D(0), trend_period=50)),
        ("EXTERNAL_AI", ExternalAiParams()),
    ],
)
def test_defaults(strategy_type: str, expected) -> None:
    assert params_validate(strategy_type, {}) == (expected, {})
    assert params_validate(strategy_type, None) == (expected, {})


def test_common_defaults() -> None:
    params = params_clean("SMA_CROSSOVER", {})
    assert (
        params.position_size,
        params.confidence,
        params.stop_loss_pct,
        params.take_profit_pct,
        params.allow_short,
    ) == (
        D("0.1"),
        D("0.6"),
        None,
        None,
        False,
    )


@pytest.mark.parametrize("strategy_type", list(PARAM_SPECS))
def test_spec_names_and_defaults_follow_the_dataclass(strategy_type: str) -> None:
    cls = PARAM_CLASSES[strategy_type]
    defaults = {f.name: f.default for f in fields(cls)}
    assert {spec.name: spec.default for spec in PARAM_SPECS[strategy_type]} == defaults


def test_values_are_coerced() -> None:
    params = params_clean(
        "RSI_MEAN_REVERSION",
        {"period": "21", "oversold": 25.5, "overbought": "80", "allow_short": "true", "stop_loss_pct": "0.02"},
    )
    assert params == RsiMeanReversionParams(
        period=21, oversold=D("25.5"), overbought=D(80), allow_short=True, stop_loss_pct=D("0.02")
    )


def test_empty_nullable_is_none() -> None:
    assert params_clean("BOLLINGER_BREAKOUT", {"take_profit_pct": ""}).take_profit_pct is None


@pytest.mark.parametrize(
    ("strategy_type", "raw", "errors"),
    [
        ("SMA_CROSSOVER", {"fast": 5}, {"fast": ["Unknown parameter for SMA_CROSSOVER."]}),
        ("EXTERNAL_AI", {"position_size": "0.1"}, {"position_size": ["Unknown parameter for EXTERNAL_AI."]}),
        ("SMA_CROSSOVER", {"fast_period": 1}, {"fast_period": ["Must be at least 2."]}),
        ("SMA_CROSSOVER", {"slow_period": 10_001}, {"slow_period": ["Must be at most 10000."]}),
        ("SMA_CROSSOVER", {"fast_period": 2.5}, {"fast_period": ["Enter a whole number."]}),
        ("SMA_CROSSOVER", {"fast_period": True}, {"fast_period": ["Enter a number, not true or false."]}),
        ("SMA_CROSSOVER", {"fast_period": None}, {"fast_period": ["This parameter may not be empty."]}),
        (
            "SMA_CROSSOVER",
            {"fast_period": 20},
            {"fast_period": ["The fast period (20) must be shorter than the slow period (20)."]},
        ),
        (
            "RSI_MEAN_REVERSION",
            {"oversold": 70},
            {"oversold": ["The oversold level (70) must lie below the overbought level (70)."]},
        ),
        ("RSI_MEAN_REVERSION", {"oversold": 0}, {"oversold": ["Must be more than 0."]}),
        ("RSI_MEAN_REVERSION", {"overbought": 100}, {"overbought": ["Must be less than 100."]}),
        ("BOLLINGER_BREAKOUT", {"k": "0"}, {"k": ["Must be more than 0."]}),
        ("BOLLINGER_BREAKOUT", {"k": "abc"}, {"k": ["Enter a number."]}),
        ("BOLLINGER_BREAKOUT", {"k": "NaN"}, {"k": ["Enter a finite number."]}),
        ("MOMENTUM", {"threshold": "-0.01"}, {"threshold": ["Must be at least 0."]}),
        ("MOMENTUM", {"position_size": "0"}, {"position_size": ["Must be more than 0."]}),
        ("MOMENTUM", {"position_size": "1.5"}, {"position_size": ["Must be at most 1."]}),
        ("MOMENTUM", {"position_size": "0.0000001"}, {"position_size": ["Use at most 6 decimal places."]}),
        ("MOMENTUM", {"confidence": "1.01"}, {"confidence": ["Must be at most 1."]}),
        ("MOMENTUM", {"stop_loss_pct": "1"}, {"stop_loss_pct": ["Must be less than 1."]}),
        ("MOMENTUM", {"allow_short": "yes"}, {"allow_short": ["Enter true or false."]}),
        (
            "GRID",
            {},
            {
                "strategy_type": [
                    "Unknown strategy type 'GRID'; choose one of SMA_CROSSOVER, RSI_MEAN_REVERSION, "
                    "BOLLINGER_BREAKOUT, MOMENTUM, EXTERNAL_AI."
                ]
            },
        ),
    ],
)
def test_field_errors(strategy_type: str, raw: dict, errors: dict) -> None:
    assert params_validate(strategy_type, raw) == (None, errors)
    with pytest.raises(InvalidStrategyParameters) as raised:
        params_clean(strategy_type, raw)
    assert raised.value.errors == errors
    assert raised.value.code == "invalid_strategy_parameters"


def test_boundaries_pass() -> None:
    params = params_clean(
        "SMA_CROSSOVER", {"fast_period": 2, "slow_period": 10_000, "position_size": "1", "confidence": "0"}
    )
    assert (params.fast_period, params.slow_period, params.position_size, params.confidence) == (2, 10_000, D(1), D(0))
    assert params_clean("MOMENTUM", {"threshold": "1", "position_size": "0.000001"}).threshold == D(1)


def test_several_errors_at_once() -> None:
    _, errors = params_validate("SMA_CROSSOVER", {"fast_period": 0, "slow_period": "x", "extra": 1})
    assert errors == {
        "extra": ["Unknown parameter for SMA_CROSSOVER."],
        "fast_period": ["Must be at least 2."],
        "slow_period": ["Enter a whole number."],
    }


def test_not_an_object() -> None:
    assert params_validate("SMA_CROSSOVER", ["fast_period"]) == (  # type: ignore[arg-type]
        None,
        {"non_field_errors": ["Send the parameters as an object."]},
    )


def test_dump_round_trips() -> None:
    params = params_clean("RSI_MEAN_REVERSION", {"oversold": "25.5", "stop_loss_pct": "0.02", "allow_short": True})
    dumped = params_dump(params)
    assert dumped["oversold"] == "25.5" and dumped["period"] == 14 and dumped["allow_short"] is True
    assert dumped["take_profit_pct"] is None
    assert params_clean("RSI_MEAN_REVERSION", dumped) == params


def test_spec_as_dict() -> None:
    spec = {s.name: s for s in PARAM_SPECS["BOLLINGER_BREAKOUT"]}["k"]
    assert spec.as_dict() == {
        "name": "k",
        "type": "decimal",
        "default": "2",
        "min": "0",
        "max": "10",
        "min_exclusive": True,
        "max_exclusive": False,
        "nullable": False,
        "decimal_places": None,
        "help": "Band width in population standard deviations.",
    }
