"""Parameters of each strategy type: typed defaults, a spec for forms and the API, and validation.

A strategy's parameters live in ``configuration["parameters"]`` (the rest of the
configuration, e.g. ``"sizing"``, belongs to other cores). ``params_validate``
returns field errors ``{field: [sentence, ...]}`` the REST layer answers with
400; an unknown parameter is an error, never ignored.

Every built-in generator takes the common parameters:

=================  ========  =======  ==============================================
name               type      default  rule
=================  ========  =======  ==============================================
position_size      decimal   0.1      (0, 1], at most 6 places: fraction of capital
confidence         decimal   0.6      [0, 1], at most 6 places: the signal's score
stop_loss_pct      decimal   None     (0, 1) or None: stop this far from the close
take_profit_pct    decimal   None     (0, 1) or None: target this far from the close
allow_short        bool      False    False: a bearish signal only exits (FLAT)
=================  ========  =======  ==============================================

and their own (periods are whole numbers in [2, 10,000]):

- ``SMA_CROSSOVER``: ``fast_period`` 10, ``slow_period`` 20; fast < slow.
- ``RSI_MEAN_REVERSION``: ``period`` 14, ``oversold`` 30, ``overbought`` 70, both in
  (0, 100) and oversold < overbought.
- ``BOLLINGER_BREAKOUT``: ``period`` 20, ``k`` 2 in (0, 10].
- ``MOMENTUM``: ``lookback`` 10 (rate-of-change period), ``threshold`` 0 in [0, 1]
  (a fraction: 0.02 = 2 %), ``trend_period`` 50 (the trend filter's SMA).
- ``EXTERNAL_AI``: no parameters (its producer sends every signal's figures).

Coercion: an int parameter takes an int or a string of digits; a decimal one an
int, a ``Decimal``, a numeric string or a JSON float (read through its shortest
repr); a bool one ``true``/``false`` (bool or string). Anything else is an error.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

INT, DECIMAL, BOOL = "int", "decimal", "bool"
NON_FIELD_ERRORS = "non_field_errors"
MIN_PERIOD, MAX_PERIOD = 2, 10_000
SIGNAL_PLACES = 6  # the signal intake's decimal places for confidence_score and position_size

SMA_CROSSOVER = "SMA_CROSSOVER"
RSI_MEAN_REVERSION = "RSI_MEAN_REVERSION"
BOLLINGER_BREAKOUT = "BOLLINGER_BREAKOUT"
MOMENTUM = "MOMENTUM"
EXTERNAL_AI = "EXTERNAL_AI"

ParamValue = int | Decimal | bool | None


@dataclass(frozen=True)
class StrategyParams:
    """Base of every type's parameters."""


@dataclass(frozen=True)
class ExternalAiParams(StrategyParams):
    """An external producer's strategy: its signals carry their own figures."""


@dataclass(frozen=True)
class GeneratorParams(StrategyParams):
    position_size: Decimal = Decimal("0.1")
    confidence: Decimal = Decimal("0.6")
    stop_loss_pct: Decimal | None = None
    take_profit_pct: Decimal | None = None
    allow_short: bool = False


@dataclass(frozen=True)
class SmaCrossoverParams(GeneratorParams):
    fast_period: int = 10
    slow_period: int = 20


@dataclass(frozen=True)
class RsiMeanReversionParams(GeneratorParams):
    period: int = 14
    oversold: Decimal = Decimal(30)
    overbought: Decimal = Decimal(70)


@dataclass(frozen=True)
class BollingerBreakoutParams(GeneratorParams):
    period: int = 20
    k: Decimal = Decimal(2)


@dataclass(frozen=True)
class MomentumParams(GeneratorParams):
    lookback: int = 10
    threshold: Decimal = Decimal(0)
    trend_period: int = 50


P = TypeVar("P", bound=StrategyParams)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter as a form or the API shows it; ``default`` comes from the params dataclass."""

    name: str
    kind: str
    default: ParamValue
    help: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    minimum_exclusive: bool = False
    maximum_exclusive: bool = False
    nullable: bool = False
    places: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (decimals as strings) for the REST layer and the dashboard's form."""

        def text(value: ParamValue) -> Any:
            return str(value) if isinstance(value, Decimal) else value

        return {
            "name": self.name,
            "type": self.kind,
            "default": text(self.default),
            "min": text(self.minimum),
            "max": text(self.maximum),
            "min_exclusive": self.minimum_exclusive,
            "max_exclusive": self.maximum_exclusive,
            "nullable": self.nullable,
            "decimal_places": self.places,
            "help": self.help,
        }


# Each default is read from its params dataclass so that the spec and the dataclass agree.
_MIN_PERIOD, _MAX_PERIOD = Decimal(MIN_PERIOD), Decimal(MAX_PERIOD)
_COMMON: tuple[ParamSpec, ...] = (
    ParamSpec(
        "position_size",
        DECIMAL,
        GeneratorParams.position_size,
        "Fraction of the strategy's capital each entry signal asks for.",
        Decimal(0),
        Decimal(1),
        minimum_exclusive=True,
        places=SIGNAL_PLACES,
    ),
    ParamSpec(
        "confidence",
        DECIMAL,
        GeneratorParams.confidence,
        "Confidence score put on every signal (rule-based signals carry no calibrated probability).",
        Decimal(0),
        Decimal(1),
        places=SIGNAL_PLACES,
    ),
    ParamSpec(
        "stop_loss_pct",
        DECIMAL,
        GeneratorParams.stop_loss_pct,
        "Stop loss this fraction away from the entry bar's close (0.02 = 2 %); empty for none.",
        Decimal(0),
        Decimal(1),
        minimum_exclusive=True,
        maximum_exclusive=True,
        nullable=True,
        places=SIGNAL_PLACES,
    ),
    ParamSpec(
        "take_profit_pct",
        DECIMAL,
        GeneratorParams.take_profit_pct,
        "Take profit this fraction away from the entry bar's close; empty for none.",
        Decimal(0),
        Decimal(1),
        minimum_exclusive=True,
        maximum_exclusive=True,
        nullable=True,
        places=SIGNAL_PLACES,
    ),
    ParamSpec(
        "allow_short",
        BOOL,
        GeneratorParams.allow_short,
        "Go short on a bearish signal; when off, a bearish signal only exits to flat.",
    ),
)

PARAM_CLASSES: Mapping[str, type[StrategyParams]] = {
    SMA_CROSSOVER: SmaCrossoverParams,
    RSI_MEAN_REVERSION: RsiMeanReversionParams,
    BOLLINGER_BREAKOUT: BollingerBreakoutParams,
    MOMENTUM: MomentumParams,
    EXTERNAL_AI: ExternalAiParams,
}

PARAM_SPECS: Mapping[str, tuple[ParamSpec, ...]] = {
    SMA_CROSSOVER: (
        ParamSpec(
            "fast_period",
            INT,
            SmaCrossoverParams.fast_period,
            "Bars in the fast moving average.",
            _MIN_PERIOD,
            _MAX_PERIOD,
        ),
        ParamSpec(
            "slow_period",
            INT,
            SmaCrossoverParams.slow_period,
            "Bars in the slow moving average (more than the fast one).",
            _MIN_PERIOD,
            _MAX_PERIOD,
        ),
        *_COMMON,
    ),
    RSI_MEAN_REVERSION: (
        ParamSpec("period", INT, RsiMeanReversionParams.period, "Bars in Wilder's RSI.", _MIN_PERIOD, _MAX_PERIOD),
        ParamSpec(
            "oversold",
            DECIMAL,
            RsiMeanReversionParams.oversold,
            "Buy when the RSI falls below this level.",
            Decimal(0),
            Decimal(100),
            minimum_exclusive=True,
            maximum_exclusive=True,
        ),
        ParamSpec(
            "overbought",
            DECIMAL,
            RsiMeanReversionParams.overbought,
            "Sell when the RSI rises above this level (more than oversold).",
            Decimal(0),
            Decimal(100),
            minimum_exclusive=True,
            maximum_exclusive=True,
        ),
        *_COMMON,
    ),
    BOLLINGER_BREAKOUT: (
        ParamSpec(
            "period",
            INT,
            BollingerBreakoutParams.period,
            "Bars in the bands' moving average and deviation.",
            _MIN_PERIOD,
            _MAX_PERIOD,
        ),
        ParamSpec(
            "k",
            DECIMAL,
            BollingerBreakoutParams.k,
            "Band width in population standard deviations.",
            Decimal(0),
            Decimal(10),
            minimum_exclusive=True,
        ),
        *_COMMON,
    ),
    MOMENTUM: (
        ParamSpec(
            "lookback",
            INT,
            MomentumParams.lookback,
            "Bars over which the rate of change is measured.",
            _MIN_PERIOD,
            _MAX_PERIOD,
        ),
        ParamSpec(
            "threshold",
            DECIMAL,
            MomentumParams.threshold,
            "Rate of change (a fraction, 0.02 = 2 %) the move must exceed, up or down.",
            Decimal(0),
            Decimal(1),
        ),
        ParamSpec(
            "trend_period",
            INT,
            MomentumParams.trend_period,
            "Bars in the trend filter's moving average.",
            _MIN_PERIOD,
            _MAX_PERIOD,
        ),
        *_COMMON,
    ),
    EXTERNAL_AI: (),
}


class InvalidStrategyParameters(ValueError):
    """Raised by ``params_clean``; ``errors`` maps each field to its sentences."""

    code = "invalid_strategy_parameters"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        self.message = "The strategy's parameters are invalid: " + "; ".join(
            f"{name}: {' '.join(sentences)}" for name, sentences in errors.items()
        )
        super().__init__(self.message)


def _coerce(spec: ParamSpec, raw: Any) -> tuple[ParamValue, str | None]:
    if raw is None or (raw == "" and spec.nullable):
        return (None, None) if spec.nullable else (None, "This parameter may not be empty.")
    if spec.kind == BOOL:
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true", None
        return None, "Enter true or false."
    if isinstance(raw, bool):
        return None, "Enter a number, not true or false."
    if spec.kind == INT:
        if isinstance(raw, int):
            return raw, None
        if isinstance(raw, str) and re.fullmatch(r"-?[0-9]+", raw.strip()):
            # Through Decimal: int() refuses strings over 4,300 digits, which are simply out of range.
            return int(Decimal(raw)), None
        return None, "Enter a whole number."
    try:
        # An int directly (str() refuses one over 4,300 digits); anything else through str(), which
        # for a float is its shortest repr (0.1 -> "0.1"), never the binary expansion.
        value = Decimal(raw if isinstance(raw, int) else str(raw))
    except InvalidOperation:
        return None, "Enter a number."
    if not value.is_finite():
        return None, "Enter a finite number."
    return value, None


def _range_errors(spec: ParamSpec, value: int | Decimal) -> list[str]:
    errors = []
    if spec.minimum is not None:
        if spec.minimum_exclusive and value <= spec.minimum:
            errors.append(f"Must be more than {spec.minimum}.")
        elif not spec.minimum_exclusive and value < spec.minimum:
            errors.append(f"Must be at least {spec.minimum}.")
    if spec.maximum is not None:
        if spec.maximum_exclusive and value >= spec.maximum:
            errors.append(f"Must be less than {spec.maximum}.")
        elif not spec.maximum_exclusive and value > spec.maximum:
            errors.append(f"Must be at most {spec.maximum}.")
    if spec.places is not None and isinstance(value, Decimal):
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > spec.places:
            errors.append(f"Use at most {spec.places} decimal places.")
    return errors


def specs_validate(
    specs: Iterable[ParamSpec], raw: Mapping[str, Any], *, owner: str
) -> tuple[dict[str, ParamValue], dict[str, list[str]]]:
    """Coerce and range-check ``raw`` against ``specs``: (values with defaults filled, field errors).

    A name in ``raw`` that no spec has is an error ("Unknown parameter for {owner}.").
    """
    by_name = {spec.name: spec for spec in specs}
    errors: dict[str, list[str]] = {}
    for name in raw:
        if name not in by_name:
            errors[str(name)] = [f"Unknown parameter for {owner}."]
    values: dict[str, ParamValue] = {}
    for name, spec in by_name.items():
        value, error = _coerce(spec, raw[name]) if name in raw else (spec.default, None)
        if error is None and value is not None and spec.kind != BOOL:
            field_errors = _range_errors(spec, value)  # type: ignore[arg-type]
            error = " ".join(field_errors) if field_errors else None
        if error is not None:
            errors[name] = [error]
        else:
            values[name] = value
    return values, errors


def _cross_field_errors(strategy_type: str, values: Mapping[str, ParamValue]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if strategy_type == SMA_CROSSOVER and "fast_period" in values and "slow_period" in values:
        fast, slow = values["fast_period"], values["slow_period"]
        if fast >= slow:  # type: ignore[operator]
            errors["fast_period"] = [f"The fast period ({fast}) must be shorter than the slow period ({slow})."]
    if strategy_type == RSI_MEAN_REVERSION and "oversold" in values and "overbought" in values:
        oversold, overbought = values["oversold"], values["overbought"]
        if oversold >= overbought:  # type: ignore[operator]
            errors["oversold"] = [
                f"The oversold level ({oversold}) must lie below the overbought level ({overbought})."
            ]
    return errors


def params_validate(
    strategy_type: str, raw: Mapping[str, Any] | None
) -> tuple[StrategyParams | None, dict[str, list[str]]]:
    """Check ``raw`` against the type's spec; return (params with defaults filled, {}) or (None, field errors).

    Missing parameters take their defaults; unknown ones, wrong types, values out of
    range and the cross-field rules (fast < slow, oversold < overbought) are errors.
    """
    if strategy_type not in PARAM_SPECS:
        known = ", ".join(PARAM_SPECS)
        return None, {"strategy_type": [f"Unknown strategy type {strategy_type!r}; choose one of {known}."]}
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return None, {NON_FIELD_ERRORS: ["Send the parameters as an object."]}
    values, errors = specs_validate(PARAM_SPECS[strategy_type], raw, owner=strategy_type)
    for name, sentences in _cross_field_errors(strategy_type, values).items():
        errors.setdefault(name, []).extend(sentences)
    if errors:
        return None, errors
    return PARAM_CLASSES[strategy_type](**values), {}


def params_clean(strategy_type: str, raw: Mapping[str, Any] | None) -> StrategyParams:
    """Like ``params_validate`` but raise ``InvalidStrategyParameters`` (code ``invalid_strategy_parameters``)."""
    params, errors = params_validate(strategy_type, raw)
    if errors:
        raise InvalidStrategyParameters(errors)
    assert params is not None
    return params


def params_dump(params: StrategyParams) -> dict[str, Any]:
    """JSON-ready parameters (decimals as strings) to store in ``configuration["parameters"]``."""
    return {f.name: str(v) if isinstance(v := getattr(params, f.name), Decimal) else v for f in fields(params)}
