"""Built-in signal generators: fed one closed 1-minute ``Bar`` at a time, pure, per-symbol state.

``generator.on_bar(bar) -> GeneratedSignal | None``. Live trading feeds the bars
the market data manager closes; the backtester feeds history; both get the
same signals. Memory per symbol is bounded by the longest period.

Target and signal type
    Each generator decides, bar by bar, the position it wants in the symbol:
    ``LONG``, ``SHORT`` or ``FLAT`` (or no opinion, which keeps the last one). A
    signal is emitted only when that *target* changes; every symbol starts
    ``FLAT``. ``signal_type`` is the direction of the change: ``BUY`` when the
    target rises (FLAT->LONG, SHORT->FLAT, SHORT->LONG), ``SELL`` when it falls.
    The live intake acts on ``signal_type`` and ``position_size`` as for any
    producer; ``target`` is the authoritative intent: a service or the
    backtester trading to it buys or sells the difference between the
    position it holds and the target (a SHORT->LONG flip trades the position
    away and then the new size). With ``allow_short`` off (the default) a
    bearish decision targets ``FLAT``: it exits a long and does nothing when
    already flat. The target is what the strategy asked for, not what filled;
    after a restart the service replays recent bars (``on_bars``) to warm the
    indicators and then ``set_target`` to the position it really holds.

Rules (all on the bar's close ``c``)
    SMA_CROSSOVER       fast and slow SMAs of the close. A cross is a change of the sign
                        of ``fast - slow`` from the last non-zero sign (an equal bar is no
                        cross; the first sign seen is only recorded). Up-cross -> LONG,
                        down-cross -> SHORT (``allow_short``) or FLAT.
    RSI_MEAN_REVERSION  Wilder RSI: ``RSI < oversold`` -> LONG; ``RSI > overbought`` ->
                        SHORT or FLAT; in between no opinion.
    BOLLINGER_BREAKOUT  bands over the last ``period`` closes, this one included:
                        ``c > upper`` -> LONG (breakout up); ``c < lower`` -> SHORT or
                        FLAT (breakdown); inside the bands no opinion. A breakout follows
                        the move; it is not mean reversion.
    MOMENTUM            ``roc = RateOfChange(lookback)`` and ``trend = SMA(trend_period)``:
                        ``roc > threshold`` and ``c > trend`` -> LONG; ``roc < -threshold``
                        and ``c < trend`` -> SHORT or FLAT; otherwise no opinion.

Signal fields
    ``id = f"{strategy_key}:{symbol}:{bar.minute.isoformat()}"`` so a re-fed bar can
    never make a second order (the generator also ignores a bar at or before the
    symbol's last minute). ``confidence_score`` and ``position_size`` are the
    strategy's parameters. Entries (target LONG or SHORT) carry ``stop_loss =
    c * (1 -/+ stop_loss_pct)`` and ``take_profit = c * (1 +/- take_profit_pct)`` when
    configured, rounded to 6 places away from the close; exits (FLAT) carry none.
    ``expires_at`` is the bar's close time (``minute + 1 min``) plus ``signal_ttl``.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from strategies.core.indicators import CONTEXT, RSI, SMA, BollingerBands, RateOfChange
from strategies.core.params import (
    BOLLINGER_BREAKOUT,
    EXTERNAL_AI,
    MOMENTUM,
    PARAM_CLASSES,
    PARAM_SPECS,
    RSI_MEAN_REVERSION,
    SMA_CROSSOVER,
    BollingerBreakoutParams,
    GeneratorParams,
    MomentumParams,
    ParamSpec,
    RsiMeanReversionParams,
    SmaCrossoverParams,
    StrategyParams,
    params_clean,
)
from trading.core.bars import MINUTE, Bar

DEFAULT_SIGNAL_TTL = timedelta(minutes=1)
MAX_STRATEGY_KEY_LENGTH = 64  # the intake's signal id holds 128 characters: key, symbol (16) and minute (25)
_SIGNAL_STEP = Decimal("0.000001")
_ONE = Decimal(1)


class SignalType(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


class Target(StrEnum):
    LONG = "LONG"
    SHORT = "SHORT"
    FLAT = "FLAT"

    @property
    def rank(self) -> int:
        return {"LONG": 1, "FLAT": 0, "SHORT": -1}[self.value]


@dataclass(frozen=True)
class GeneratedSignal:
    id: str
    strategy_key: str
    strategy_type: str
    symbol: str
    signal_type: SignalType
    target: Target
    previous_target: Target
    confidence_score: Decimal
    position_size: Decimal
    bar_minute: datetime
    reference_price: Decimal
    expires_at: datetime
    reason: str
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    indicators: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def generated_at(self) -> datetime:
        """When the signal became known: the close of its bar."""
        return self.bar_minute + MINUTE

    def as_payload(self) -> dict[str, Any]:
        """The body ``POST /api/v1/signals/`` takes (decimals as strings; no target price, so a market order)."""

        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "id": self.id,
            "symbol": self.symbol,
            "signal_type": str(self.signal_type),
            "confidence_score": str(self.confidence_score),
            "position_size": str(self.position_size),
            "stop_loss": text(self.stop_loss),
            "take_profit": text(self.take_profit),
            "expires_at": self.expires_at.isoformat(),
            "metadata": {
                "strategy_key": self.strategy_key,
                "strategy_type": self.strategy_type,
                "target": str(self.target),
                "previous_target": str(self.previous_target),
                "reason": self.reason,
                "bar_minute": self.bar_minute.isoformat(),
                "reference_price": str(self.reference_price),
                "indicators": {name: str(value) for name, value in self.indicators.items()},
            },
        }


class Decision(NamedTuple):
    target: Target
    reason: str
    indicators: dict[str, Decimal]


def _show(value: Decimal) -> str:
    return f"{value:.4f}"


P = TypeVar("P", bound=GeneratorParams)


class _SymbolState:
    __slots__ = ("indicators", "last_minute", "relation", "target")

    def __init__(self, indicators: Any) -> None:
        self.indicators = indicators
        self.last_minute: datetime | None = None
        self.target = Target.FLAT
        self.relation = 0  # SMA crossover: the last non-zero sign of fast - slow


class SignalGenerator(ABC, Generic[P]):
    """One strategy's rules over any number of symbols; subclasses define ``_indicators`` and ``_decide``."""

    strategy_type: ClassVar[str]
    params_class: ClassVar[type[GeneratorParams]]

    def __init__(
        self, params: P | None = None, *, strategy_key: str, signal_ttl: timedelta = DEFAULT_SIGNAL_TTL
    ) -> None:
        if params is None:
            params = self.params_class()  # type: ignore[assignment]
        if type(params) is not self.params_class:
            raise TypeError(f"{type(self).__name__} takes {self.params_class.__name__}, got {type(params).__name__}.")
        if not strategy_key or len(strategy_key) > MAX_STRATEGY_KEY_LENGTH or any(c.isspace() for c in strategy_key):
            limit = MAX_STRATEGY_KEY_LENGTH
            raise ValueError(f"The strategy key must be 1 to {limit} characters without spaces, got {strategy_key!r}.")
        if signal_ttl <= timedelta(0):
            raise ValueError(f"The signal time to live must be positive, got {signal_ttl}.")
        self.params: P = params  # type: ignore[assignment]
        self.strategy_key = strategy_key
        self.signal_ttl = signal_ttl
        self._symbols: dict[str, _SymbolState] = {}

    @property
    @abstractmethod
    def warmup_bars(self) -> int:
        """Bars of a symbol needed before its first signal can appear."""

    @abstractmethod
    def _indicators(self) -> Any:
        """A new symbol's indicator state."""

    @abstractmethod
    def _decide(self, state: _SymbolState, bar: Bar) -> Decision | None:
        """Update the indicators with the bar; return the wanted target, or None for no opinion."""

    def target(self, symbol: str) -> Target:
        """The position the strategy last asked for in ``symbol`` (FLAT before any signal)."""
        state = self._symbols.get(symbol)
        return Target.FLAT if state is None else state.target

    def set_target(self, symbol: str, target: Target | str) -> None:
        """Align the believed target with the position really held (after a restart or a refused signal)."""
        self._state(symbol).target = Target(target)

    def symbols(self) -> tuple[str, ...]:
        return tuple(self._symbols)

    def _state(self, symbol: str) -> _SymbolState:
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _SymbolState(self._indicators())
        return state

    def on_bars(self, bars: Iterable[Bar]) -> list[GeneratedSignal]:
        """Feed bars in order; the signals they made, in order."""
        return [signal for bar in bars if (signal := self.on_bar(bar)) is not None]

    def on_bar(self, bar: Bar) -> GeneratedSignal | None:
        """Feed one closed bar; a signal when the symbol's target changes, else None.

        A bar at or before the symbol's last bar (a re-fed or late bar) is ignored:
        the indicators never see a bar twice and no second signal is made.
        """
        if bar.minute.tzinfo is None:
            raise ValueError(f"A bar's minute must carry a time zone, got {bar.minute!r}.")
        close = bar.close
        if not isinstance(close, Decimal) or not close.is_finite() or close <= 0:
            raise ValueError(f"A bar's close must be a positive Decimal, got {close!r}.")
        state = self._state(bar.symbol)
        if state.last_minute is not None and bar.minute <= state.last_minute:
            return None
        state.last_minute = bar.minute
        decision = self._decide(state, bar)
        if decision is None or decision.target is state.target:
            return None
        previous, state.target = state.target, decision.target
        return self._signal(bar, previous, decision)

    def _signal(self, bar: Bar, previous: Target, decision: Decision) -> GeneratedSignal:
        params = self.params
        target = decision.target
        stop_loss = take_profit = None
        if target is not Target.FLAT:
            up = target is Target.LONG
            if params.stop_loss_pct is not None:
                stop_loss = _away(bar.close, params.stop_loss_pct, above=not up)
            if params.take_profit_pct is not None:
                take_profit = _away(bar.close, params.take_profit_pct, above=up)
        return GeneratedSignal(
            id=f"{self.strategy_key}:{bar.symbol}:{bar.minute.isoformat()}",
            strategy_key=self.strategy_key,
            strategy_type=self.strategy_type,
            symbol=bar.symbol,
            signal_type=SignalType.BUY if target.rank > previous.rank else SignalType.SELL,
            target=target,
            previous_target=previous,
            confidence_score=params.confidence,
            position_size=params.position_size,
            bar_minute=bar.minute,
            reference_price=bar.close,
            expires_at=bar.minute + MINUTE + self.signal_ttl,
            reason=decision.reason,
            stop_loss=stop_loss,
            take_profit=take_profit,
            indicators=dict(decision.indicators),
        )

    def _bearish(self) -> Target:
        return Target.SHORT if self.params.allow_short else Target.FLAT


def _away(close: Decimal, fraction: Decimal, *, above: bool) -> Decimal | None:
    """``close * (1 +/- fraction)`` on the 6-place grid, rounded away from the close (None if it rounds to 0)."""
    if above:
        return CONTEXT.multiply(close, _ONE + fraction).quantize(_SIGNAL_STEP, rounding=ROUND_CEILING)
    price = CONTEXT.multiply(close, _ONE - fraction).quantize(_SIGNAL_STEP, rounding=ROUND_FLOOR)
    return price if price > 0 else None


class SmaCrossover(SignalGenerator[SmaCrossoverParams]):
    strategy_type = SMA_CROSSOVER
    params_class = SmaCrossoverParams

    @property
    def warmup_bars(self) -> int:
        return self.params.slow_period + 1

    def _indicators(self) -> tuple[SMA, SMA]:
        return SMA(self.params.fast_period), SMA(self.params.slow_period)

    def _decide(self, state: _SymbolState, bar: Bar) -> Decision | None:
        fast_sma, slow_sma = state.indicators
        fast, slow = fast_sma.update(bar.close), slow_sma.update(bar.close)
        if fast is None or slow is None:
            return None
        relation = int(fast.compare(slow))  # the sign of fast - slow: -1, 0 or 1
        if relation == 0:  # an equal bar is no cross and keeps the last sign
            return None
        previous, state.relation = state.relation, relation
        if previous in (0, relation):
            return None
        up = relation == 1
        p = self.params
        values = {"fast_sma": fast, "slow_sma": slow}
        direction = "above" if up else "below"
        reason = f"SMA({p.fast_period}) {_show(fast)} crossed {direction} SMA({p.slow_period}) {_show(slow)}"
        return Decision(Target.LONG if up else self._bearish(), reason, values)


class RsiMeanReversion(SignalGenerator[RsiMeanReversionParams]):
    strategy_type = RSI_MEAN_REVERSION
    params_class = RsiMeanReversionParams

    @property
    def warmup_bars(self) -> int:
        return self.params.period + 1

    def _indicators(self) -> RSI:
        return RSI(self.params.period)

    def _decide(self, state: _SymbolState, bar: Bar) -> Decision | None:
        rsi = state.indicators.update(bar.close)
        if rsi is None:
            return None
        p = self.params
        if rsi < p.oversold:
            return Decision(Target.LONG, f"RSI({p.period}) {_show(rsi)} below oversold {p.oversold}", {"rsi": rsi})
        if rsi > p.overbought:
            reason = f"RSI({p.period}) {_show(rsi)} above overbought {p.overbought}"
            return Decision(self._bearish(), reason, {"rsi": rsi})
        return None


class BollingerBreakout(SignalGenerator[BollingerBreakoutParams]):
    strategy_type = BOLLINGER_BREAKOUT
    params_class = BollingerBreakoutParams

    @property
    def warmup_bars(self) -> int:
        return self.params.period

    def _indicators(self) -> BollingerBands:
        return BollingerBands(self.params.period, self.params.k)

    def _decide(self, state: _SymbolState, bar: Bar) -> Decision | None:
        bands = state.indicators.update(bar.close)
        if bands is None:
            return None
        values = {"middle": bands.middle, "upper": bands.upper, "lower": bands.lower}
        p = self.params
        if bar.close > bands.upper:
            reason = f"Close {bar.close} above the upper band {_show(bands.upper)} (BB {p.period}, {p.k})"
            return Decision(Target.LONG, reason, values)
        if bar.close < bands.lower:
            reason = f"Close {bar.close} below the lower band {_show(bands.lower)} (BB {p.period}, {p.k})"
            return Decision(self._bearish(), reason, values)
        return None


class MomentumTrend(SignalGenerator[MomentumParams]):
    strategy_type = MOMENTUM
    params_class = MomentumParams

    @property
    def warmup_bars(self) -> int:
        return max(self.params.lookback + 1, self.params.trend_period)

    def _indicators(self) -> tuple[RateOfChange, SMA]:
        return RateOfChange(self.params.lookback), SMA(self.params.trend_period)

    def _decide(self, state: _SymbolState, bar: Bar) -> Decision | None:
        roc_indicator, trend_indicator = state.indicators
        roc, trend = roc_indicator.update(bar.close), trend_indicator.update(bar.close)
        if roc is None or trend is None:
            return None
        p = self.params
        values = {"rate_of_change": roc, "trend_sma": trend}
        trend_text = f"SMA({p.trend_period}) {_show(trend)}"
        if roc > p.threshold and bar.close > trend:
            reason = f"ROC({p.lookback}) {_show(roc)} above {p.threshold} and close above {trend_text}"
            return Decision(Target.LONG, reason, values)
        if roc < -p.threshold and bar.close < trend:
            reason = f"ROC({p.lookback}) {_show(roc)} below -{p.threshold} and close below {trend_text}"
            return Decision(self._bearish(), reason, values)
        return None


@dataclass(frozen=True)
class StrategyTypeInfo:
    """One strategy type: what the REST layer, the dashboard's form and the backtester need."""

    name: str
    label: str
    description: str
    generator: type[SignalGenerator[Any]] | None

    @property
    def params_class(self) -> type[StrategyParams]:
        return PARAM_CLASSES[self.name]

    @property
    def parameters(self) -> tuple[ParamSpec, ...]:
        return PARAM_SPECS[self.name]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "has_generator": self.generator is not None,
            "parameters": [spec.as_dict() for spec in self.parameters],
        }


STRATEGY_TYPES: Mapping[str, StrategyTypeInfo] = MappingProxyType(
    {
        SMA_CROSSOVER: StrategyTypeInfo(
            SMA_CROSSOVER, "SMA crossover", "Long when the fast SMA crosses above the slow one.", SmaCrossover
        ),
        RSI_MEAN_REVERSION: StrategyTypeInfo(
            RSI_MEAN_REVERSION,
            "RSI mean reversion",
            "Long when Wilder's RSI falls below oversold, out (or short) above overbought.",
            RsiMeanReversion,
        ),
        BOLLINGER_BREAKOUT: StrategyTypeInfo(
            BOLLINGER_BREAKOUT,
            "Bollinger breakout",
            "Long on a close above the upper band, out (or short) on a close below the lower band.",
            BollingerBreakout,
        ),
        MOMENTUM: StrategyTypeInfo(
            MOMENTUM,
            "Momentum with trend filter",
            "Long when the rate of change beats the threshold above the trend SMA; out (or short) on the mirror.",
            MomentumTrend,
        ),
        EXTERNAL_AI: StrategyTypeInfo(
            EXTERNAL_AI, "External AI", "Signals posted by an AI producer through the API.", None
        ),
    }
)

# The types a built-in generator trades (the backtester's optimizations search their parameters).
GENERATOR_TYPES: tuple[str, ...] = tuple(name for name, info in STRATEGY_TYPES.items() if info.generator is not None)


def generator_build(
    strategy_type: str,
    parameters: Mapping[str, Any] | StrategyParams | None,
    *,
    strategy_key: str,
    signal_ttl: timedelta = DEFAULT_SIGNAL_TTL,
) -> SignalGenerator[Any]:
    """The generator of a strategy from its type and raw (or cleaned) parameters.

    Raises ``InvalidStrategyParameters`` for bad parameters and ``ValueError`` for an
    unknown type or one without a generator (``EXTERNAL_AI``).
    """
    info = STRATEGY_TYPES.get(strategy_type)
    if info is None:
        raise ValueError(f"Unknown strategy type {strategy_type!r}.")
    if info.generator is None:
        raise ValueError(f"Strategy type {strategy_type} has no built-in generator; its producer posts the signals.")
    params = parameters if isinstance(parameters, StrategyParams) else params_clean(strategy_type, parameters)
    return info.generator(params, strategy_key=strategy_key, signal_ttl=signal_ttl)
