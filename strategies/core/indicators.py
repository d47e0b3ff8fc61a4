"""Incremental technical indicators: O(1) work and O(period) memory per update, ``Decimal`` in and out.

Each indicator has ``update(...) -> value | None``: ``None`` until it has seen
enough values ("warm"), then the current value, which also stays in ``.value``.
Inputs must be ``Decimal`` (a float raises ``TypeError``). Every operation that
can round runs in ``CONTEXT`` (34 significant digits, half-even, the
IEEE decimal128 precision), whatever the caller's thread context, so live
trading and the backtester get the same digits. Running sums are exact for
prices of up to ~30 significant digits, so they never drift the way float sums do.

Definitions (``x_t`` the input, ``n`` the period):

SMA
    ``mean(x_{t-n+1} .. x_t)``; warm after ``n`` values. A running sum over a ring buffer.
EMA
    ``alpha = 2 / (n + 1)``; seeded with the SMA of the first ``n`` values (the
    TA-Lib / StockCharts convention), then ``ema_t = ema_{t-1} + alpha * (x_t - ema_{t-1})``;
    warm after ``n`` values. Equals pandas ``ewm(alpha=alpha, adjust=False)`` run from that seed.
RSI (Wilder)
    Changes ``d_t = x_t - x_{t-1}``, ``gain = max(d, 0)``, ``loss = max(-d, 0)``. The
    first averages are the simple means of the first ``n`` gains and losses (``n + 1``
    values); after that Wilder's smoothing ``avg_t = (avg_{t-1} * (n - 1) + g_t) / n``
    (an EMA with ``alpha = 1 / n``). ``RSI = 100 - 100 / (1 + avg_gain / avg_loss)``,
    computed as ``100 * avg_gain / (avg_gain + avg_loss)`` (the same number, one
    rounding); 100 when ``avg_loss == 0 < avg_gain``, 50 when both are 0 (no movement).
RollingStd
    The *population* standard deviation (``ddof = 0``, as Bollinger defined his bands)
    of the last ``n`` values: ``sqrt(sum(x^2)/n - (sum(x)/n)^2)``, from exact running
    sums, floored at 0 before the square root (``Decimal.sqrt`` in ``CONTEXT``).
BollingerBands
    ``middle = SMA_n``, ``upper = middle + k * std_n``, ``lower = middle - k * std_n``
    with ``std_n`` the population deviation above.
RateOfChange
    ``(x_t - x_{t-n}) / x_{t-n}`` as a fraction (0.05 = +5 %; pandas ``pct_change(n)``);
    warm after ``n + 1`` values. ``x_{t-n}`` must not be 0.
Momentum
    ``x_t - x_{t-n}`` (pandas ``diff(n)``); warm after ``n + 1`` values.
ATR (Wilder)
    True range ``TR_t = max(h_t - l_t, |h_t - c_{t-1}|, |l_t - c_{t-1}|)`` from the second
    bar on; ATR seeded with the mean of the first ``n`` true ranges (``n + 1`` bars), then
    ``atr_t = (atr_{t-1} * (n - 1) + TR_t) / n``.
"""

from collections import deque
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import NamedTuple

CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)
MIN_PERIOD = 1
MAX_PERIOD = 10_000
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_FIFTY = Decimal(50)
_C = CONTEXT
# Bound once: these run several times per bar.
_add, _sub, _mul, _div = CONTEXT.add, CONTEXT.subtract, CONTEXT.multiply, CONTEXT.divide


def _check_period(period: int, minimum: int = MIN_PERIOD) -> int:
    if isinstance(period, bool) or not isinstance(period, int):
        raise TypeError(f"A period must be an int, got {type(period).__name__}.")
    if not minimum <= period <= MAX_PERIOD:
        raise ValueError(f"A period must lie in [{minimum}, {MAX_PERIOD}], got {period}.")
    return period


def _check_decimal(value: Decimal) -> Decimal:
    if value.__class__ is not Decimal or not value.is_finite():
        if not isinstance(value, Decimal):
            raise TypeError(f"Indicator inputs must be Decimal, got {type(value).__name__}.")
        if not value.is_finite():
            raise ValueError(f"Indicator inputs must be finite, got {value}.")
    return value


class SMA:
    """Simple moving average over the last ``period`` values."""

    __slots__ = ("_sum", "_window", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._window: deque[Decimal] = deque(maxlen=period)
        self._sum = _ZERO
        self.value: Decimal | None = None

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, value: Decimal) -> Decimal | None:
        _check_decimal(value)
        window, period = self._window, self.period
        total = self._sum
        if len(window) == period:
            total = _sub(total, window[0])
        window.append(value)
        self._sum = total = _add(total, value)
        if len(window) < period:
            return None
        self.value = mean = _div(total, period)
        return mean


class EMA:
    """Exponential moving average, ``alpha = 2 / (period + 1)``, seeded with the SMA of the first ``period`` values."""

    __slots__ = ("_alpha", "_count", "_seed_sum", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._alpha = _div(Decimal(2), Decimal(period + 1))
        self._count = 0
        self._seed_sum = _ZERO
        self.value: Decimal | None = None

    @property
    def alpha(self) -> Decimal:
        return self._alpha

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, value: Decimal) -> Decimal | None:
        _check_decimal(value)
        if self.value is not None:
            self.value = _add(self.value, _mul(self._alpha, _sub(value, self.value)))
            return self.value
        self._count += 1
        self._seed_sum = _add(self._seed_sum, value)
        if self._count < self.period:
            return None
        self.value = _div(self._seed_sum, self.period)
        return self.value


class _Wilder:
    """Wilder's smoothing: the mean of the first ``period`` inputs, then ``(prev * (n - 1) + x) / n``."""

    __slots__ = ("_count", "_n_minus_1", "_sum", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = period
        self._n_minus_1 = Decimal(period - 1)
        self._count = 0
        self._sum = _ZERO
        self.value: Decimal | None = None

    def update(self, value: Decimal) -> Decimal | None:
        if self.value is not None:
            self.value = _div(_add(_mul(self.value, self._n_minus_1), value), self.period)
            return self.value
        self._count += 1
        self._sum = _add(self._sum, value)
        if self._count == self.period:
            self.value = _div(self._sum, self.period)
        return self.value


class RSI:
    """Relative strength index with Wilder's smoothing, in [0, 100]."""

    __slots__ = ("_gain", "_loss", "_previous", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _check_period(period)
        self._gain = _Wilder(period)
        self._loss = _Wilder(period)
        self._previous: Decimal | None = None
        self.value: Decimal | None = None

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, value: Decimal) -> Decimal | None:
        _check_decimal(value)
        previous, self._previous = self._previous, value
        if previous is None:
            return None
        change = _sub(value, previous)
        # max(0, d) and max(0, -d); on a tie max returns its first argument, so no change feeds _ZERO itself.
        gain = self._gain.update(max(_ZERO, change))
        loss = self._loss.update(max(_ZERO, _C.minus(change)))
        if gain is None or loss is None:
            return None
        total = _add(gain, loss)
        # 100 - 100 / (1 + gain / loss) rewritten with one rounding instead of three.
        self.value = _div(_mul(_HUNDRED, gain), total) if total > 0 else _FIFTY
        return self.value


class MeanStd(NamedTuple):
    mean: Decimal
    std: Decimal


class RollingStd:
    """Population standard deviation (ddof 0) and mean of the last ``period`` values."""

    __slots__ = ("_sum", "_sum_sq", "_window", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._window: deque[Decimal] = deque(maxlen=period)
        self._sum = _ZERO
        self._sum_sq = _ZERO
        self.value: MeanStd | None = None

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, value: Decimal) -> MeanStd | None:
        _check_decimal(value)
        window = self._window
        if len(window) == self.period:
            oldest = window[0]
            self._sum = _sub(self._sum, oldest)
            self._sum_sq = _sub(self._sum_sq, _mul(oldest, oldest))
        window.append(value)
        self._sum = _add(self._sum, value)
        self._sum_sq = _add(self._sum_sq, _mul(value, value))
        if len(window) < self.period:
            return None
        mean = _div(self._sum, self.period)
        variance = _sub(_div(self._sum_sq, self.period), _mul(mean, mean))
        # Rounding can leave a flat window's variance a hair below 0 (-1E-33): floor it before the root.
        std = max(_ZERO, variance).sqrt(_C)
        self.value = MeanStd(mean, std)
        return self.value


class Bands(NamedTuple):
    middle: Decimal
    upper: Decimal
    lower: Decimal
    std: Decimal


class BollingerBands:
    """``middle = SMA``, ``upper/lower = middle +/- k * population std`` over ``period`` values."""

    __slots__ = ("_std", "k", "period", "value")

    def __init__(self, period: int = 20, k: Decimal = Decimal(2)) -> None:
        self.period = _check_period(period)
        if not isinstance(k, Decimal) or not k.is_finite() or k <= 0:
            raise ValueError(f"The band width k must be a positive Decimal, got {k!r}.")
        self.k = k
        self._std = RollingStd(period)
        self.value: Bands | None = None

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, value: Decimal) -> Bands | None:
        stats = self._std.update(value)
        if stats is None:
            return None
        width = _mul(self.k, stats.std)
        self.value = Bands(stats.mean, _add(stats.mean, width), _sub(stats.mean, width), stats.std)
        return self.value


class _Lagged:
    """The value ``period`` updates ago (a ring buffer of ``period + 1`` values)."""

    __slots__ = ("_window", "period")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._window: deque[Decimal] = deque(maxlen=period + 1)

    def push(self, value: Decimal) -> Decimal | None:
        self._window.append(_check_decimal(value))
        return self._window[0] if len(self._window) > self.period else None


class RateOfChange:
    """``(x_t - x_{t-n}) / x_{t-n}``, a fraction."""

    __slots__ = ("_lag", "period", "value")

    def __init__(self, period: int) -> None:
        self._lag = _Lagged(period)
        self.period = period
        self.value: Decimal | None = None

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, value: Decimal) -> Decimal | None:
        past = self._lag.push(value)
        if past is None:
            return None
        if past == 0:
            raise ValueError("The rate of change is undefined from a value of 0.")
        self.value = _div(_sub(value, past), past)
        return self.value


class Momentum:
    """``x_t - x_{t-n}``."""

    __slots__ = ("_lag", "period", "value")

    def __init__(self, period: int) -> None:
        self._lag = _Lagged(period)
        self.period = period
        self.value: Decimal | None = None

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, value: Decimal) -> Decimal | None:
        past = self._lag.push(value)
        if past is None:
            return None
        self.value = _sub(value, past)
        return self.value


class ATR:
    """Average true range with Wilder's smoothing; ``update(high, low, close)``."""

    __slots__ = ("_previous_close", "_smoothing", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _check_period(period)
        self._smoothing = _Wilder(period)
        self._previous_close: Decimal | None = None
        self.value: Decimal | None = None

    @property
    def ready(self) -> bool:
        return self.value is not None

    def update(self, high: Decimal, low: Decimal, close: Decimal) -> Decimal | None:
        for price in (high, low, close):
            _check_decimal(price)
        if low > high:
            raise ValueError(f"A bar's low {low} lies above its high {high}.")
        previous, self._previous_close = self._previous_close, close
        if previous is None:
            return None
        true_range = max(_sub(high, low), _C.abs(_sub(high, previous)), _C.abs(_sub(low, previous)))
        self.value = self._smoothing.update(true_range)
        return self.value
