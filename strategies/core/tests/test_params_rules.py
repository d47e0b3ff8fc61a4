"""The parameter rules at their limits: coercion, bounds (at, just inside, just outside), places, messages."""

from decimal import Decimal

import pytest

from strategies.core.params import (
    PARAM_SPECS,
    InvalidStrategyParameters,
    params_clean,
    params_validate,
)

D = Decimal


def _value(strategy_type: str, name: str, raw: object) -> object:
    params, errors = params_validate(strategy_type, {name: raw})
    assert errors == {}
    return getattr(params, name)


def _error(strategy_type: str, name: str, raw: object) -> str:
    params, errors = params_validate(strategy_type, {name: raw})
    assert params is None
    assert list(errors) == [name] and len(errors[name]) == 1
    return errors[name][0]


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("position_size", "0.000001", D("0.000001")),
        ("position_size", "1", D(1)),
        ("position_size", "0.5000000", D("0.5")),  # trailing zeros are not places
        ("confidence", "0", D(0)),
        ("confidence", "1", D(1)),
        ("stop_loss_pct", "0.000001", D("0.000001")),
        ("stop_loss_pct", "0.999999", D("0.999999")),
        ("stop_loss_pct", None, None),
        ("stop_loss_pct", "", None),
        ("take_profit_pct", "0.000001", D("0.000001")),
        ("take_profit_pct", "0.999999", D("0.999999")),
        ("take_profit_pct", None, None),
        ("threshold", "0", D(0)),
        ("threshold", "1", D(1)),
        ("lookback", 2, 2),
        ("lookback", 10_000, 10_000),
        ("trend_period", " 21 ", 21),
    ],
)
def test_common_and_momentum_values_inside_the_bounds(name: str, raw: object, value: object) -> None:
    assert _value("MOMENTUM", name, raw) == value


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("position_size", "0", "Must be more than 0."),
        ("position_size", "1.000001", "Must be at most 1."),
        ("position_size", "0.0000001", "Use at most 6 decimal places."),
        ("position_size", "1.0000001", "Must be at most 1. Use at most 6 decimal places."),
        ("confidence", "-0.000001", "Must be at least 0."),
        ("confidence", "1.000001", "Must be at most 1."),
        ("confidence", "0.1234567", "Use at most 6 decimal places."),
        ("stop_loss_pct", "0", "Must be more than 0."),
        ("stop_loss_pct", "1", "Must be less than 1."),
        ("stop_loss_pct", "0.0000001", "Use at most 6 decimal places."),
        ("take_profit_pct", "0", "Must be more than 0."),
        ("take_profit_pct", "1", "Must be less than 1."),
        ("take_profit_pct", "0.0000001", "Use at most 6 decimal places."),
        ("threshold", "-0.000001", "Must be at least 0."),
        ("threshold", "1.000001", "Must be at most 1."),
        ("lookback", 1, "Must be at least 2."),
        ("lookback", 10_001, "Must be at most 10000."),
        ("trend_period", "-3", "Must be at least 2."),
    ],
)
def test_common_and_momentum_values_outside_the_bounds(name: str, raw: object, message: str) -> None:
    assert _error("MOMENTUM", name, raw) == message


@pytest.mark.parametrize(
    ("strategy_type", "name", "raw", "outcome"),
    [
        ("RSI_MEAN_REVERSION", "oversold", "0.000001", D("0.000001")),
        ("RSI_MEAN_REVERSION", "oversold", "0", "Must be more than 0."),
        ("RSI_MEAN_REVERSION", "overbought", "99.999999", D("99.999999")),
        ("RSI_MEAN_REVERSION", "overbought", "100", "Must be less than 100."),
        ("RSI_MEAN_REVERSION", "period", 2, 2),
        ("RSI_MEAN_REVERSION", "period", 1, "Must be at least 2."),
        ("BOLLINGER_BREAKOUT", "k", "0.0000001", D("0.0000001")),  # k has no places limit
        ("BOLLINGER_BREAKOUT", "k", "10", D(10)),
        ("BOLLINGER_BREAKOUT", "k", "10.000001", "Must be at most 10."),
        ("BOLLINGER_BREAKOUT", "period", 10_000, 10_000),
        ("BOLLINGER_BREAKOUT", "period", 10_001, "Must be at most 10000."),
        ("SMA_CROSSOVER", "fast_period", 2, 2),
        ("SMA_CROSSOVER", "slow_period", 10_000, 10_000),
    ],
)
def test_type_parameters_at_their_bounds(strategy_type: str, name: str, raw: object, outcome: object) -> None:
    if isinstance(outcome, str):
        assert _error(strategy_type, name, raw) == outcome
    else:
        assert _value(strategy_type, name, raw) == outcome


@pytest.mark.parametrize(
    ("raw", "value"),
    [(True, True), (False, False), ("true", True), ("false", False), ("TRUE", True), ("False", False)],
)
def test_bool_takes_true_or_false_in_any_case(raw: object, value: bool) -> None:
    assert _value("SMA_CROSSOVER", "allow_short", raw) is value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("yes", "Enter true or false."),
        (1, "Enter true or false."),
        ("", "Enter true or false."),
        (None, "This parameter may not be empty."),
    ],
)
def test_bool_refuses_anything_else(raw: object, message: str) -> None:
    assert _error("SMA_CROSSOVER", "allow_short", raw) == message


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (0.02, D("0.02")),  # a JSON float is read through its shortest repr, not its binary expansion
        (0.1, D("0.1")),
        (1, D(1)),
        (D("0.25"), D("0.25")),
        ("0.3", D("0.3")),
        ("1E-6", D("0.000001")),
    ],
)
def test_decimal_coercion(raw: object, value: Decimal) -> None:
    coerced = _value("SMA_CROSSOVER", "position_size", raw)
    assert coerced == value and isinstance(coerced, Decimal)
    assert str(coerced) == str(value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "Enter a number."),
        ([1], "Enter a number."),
        ("", "Enter a number."),  # empty is "no value" only for a nullable parameter
        ("Infinity", "Enter a finite number."),
        ("-Infinity", "Enter a finite number."),
        ("sNaN", "Enter a finite number."),
        (False, "Enter a number, not true or false."),
        (None, "This parameter may not be empty."),
    ],
)
def test_decimal_refusals(raw: object, message: str) -> None:
    assert _error("BOLLINGER_BREAKOUT", "k", raw) == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2.0", "Enter a whole number."),
        (20.0, "Enter a whole number."),
        ("1e3", "Enter a whole number."),
        ("", "Enter a whole number."),
        ("twenty", "Enter a whole number."),
    ],
)
def test_int_refusals(raw: object, message: str) -> None:
    assert _error("BOLLINGER_BREAKOUT", "period", raw) == message


@pytest.mark.parametrize(
    ("fast", "slow", "errors"),
    [
        (19, 20, {}),
        (20, 20, {"fast_period": ["The fast period (20) must be shorter than the slow period (20)."]}),
        (21, 20, {"fast_period": ["The fast period (21) must be shorter than the slow period (20)."]}),
    ],
)
def test_fast_must_be_shorter_than_slow(fast: int, slow: int, errors: dict) -> None:
    assert params_validate("SMA_CROSSOVER", {"fast_period": fast, "slow_period": slow})[1] == errors


@pytest.mark.parametrize(
    ("oversold", "overbought", "errors"),
    [
        ("69.999999", "70", {}),
        ("70", "70", {"oversold": ["The oversold level (70) must lie below the overbought level (70)."]}),
        ("71", "70", {"oversold": ["The oversold level (71) must lie below the overbought level (70)."]}),
    ],
)
def test_oversold_must_lie_below_overbought(oversold: str, overbought: str, errors: dict) -> None:
    assert params_validate("RSI_MEAN_REVERSION", {"oversold": oversold, "overbought": overbought})[1] == errors


def test_a_cross_field_rule_is_skipped_when_one_side_is_already_wrong() -> None:
    assert params_validate("SMA_CROSSOVER", {"fast_period": "x", "slow_period": 1})[1] == {
        "fast_period": ["Enter a whole number."],
        "slow_period": ["Must be at least 2."],
    }


def test_the_exception_message_lists_every_field_and_sentence() -> None:
    error = InvalidStrategyParameters({"fast_period": ["One.", "Two."], "k": ["Three."]})
    expected = "The strategy's parameters are invalid: fast_period: One. Two.; k: Three."
    assert error.message == expected
    assert str(error) == expected and error.args == (expected,)
    assert error.errors == {"fast_period": ["One.", "Two."], "k": ["Three."]}


def test_params_clean_raises_with_the_fields_message() -> None:
    with pytest.raises(
        InvalidStrategyParameters, match=r"^The strategy's parameters are invalid: k: Must be more than 0\.$"
    ):
        params_clean("BOLLINGER_BREAKOUT", {"k": "0"})


def test_spec_as_dict_keeps_ints_bools_and_missing_bounds() -> None:
    specs = {s.name: s for s in PARAM_SPECS["SMA_CROSSOVER"]}
    assert specs["fast_period"].as_dict() == {
        "name": "fast_period",
        "type": "int",
        "default": 10,
        "min": "2",
        "max": "10000",
        "min_exclusive": False,
        "max_exclusive": False,
        "nullable": False,
        "decimal_places": None,
        "help": "Bars in the fast moving average.",
    }
    assert specs["allow_short"].as_dict() == {
        "name": "allow_short",
        "type": "bool",
        "default": False,
        "min": None,
        "max": None,
        "min_exclusive": False,
        "max_exclusive": False,
        "nullable": False,
        "decimal_places": None,
        "help": "Go short on a bearish signal; when off, a bearish signal only exits to flat.",
    }
    assert specs["stop_loss_pct"].as_dict() == {
        "name": "stop_loss_pct",
        "type": "decimal",
        "default": None,
        "min": "0",
        "max": "1",
        "min_exclusive": True,
        "max_exclusive": True,
        "nullable": True,
        "decimal_places": 6,
        "help": "Stop loss this fraction away from the entry bar's close (0.02 = 2 %); empty for none.",
    }


def test_a_huge_whole_number_is_out_of_range_not_a_crash() -> None:
    # Beyond Python's 4,300-digit limit for int <-> str conversion.
    assert _error("BOLLINGER_BREAKOUT", "period", "1" * 5000) == "Must be at most 10000."
    assert _error("BOLLINGER_BREAKOUT", "k", 10**5000) == "Must be at most 10."
