"""An exact fast path for ``SMA_CROSSOVER``: the same generator, a cheaper ``_decide``.

``FastSmaCrossover`` is ``strategies.core.generators.SmaCrossover`` (a subclass: the
same ``on_bar``, targets, signal ids, stop/take-profit prices and ``_signal``) whose
per-bar decision replaces the two ``SMA.update`` calls (each a ``Decimal`` subtract,
add and divide in ``CONTEXT``) by integer arithmetic that reaches the same decision:

- Each close is read once as an integer ``close * 10**k`` (exact: ``k`` grows to the
  most decimal places seen, and the state is rescaled when it does), cached by value.
- The fast and slow window sums ``F`` and ``S`` (over ``f < s`` bars) are kept as such
  integers, so they are exact; the generator's ``SMA`` sums are exact too while they
  fit ``CONTEXT``'s 34 digits.
- The averages are compared without dividing: ``sign(F/f - S/s) = sign(F*s - S*f)``.
  The generator compares the averages after each is rounded to 34 digits; the two
  agree whenever ``F*s < 10**33`` and ``S*f < 10**33`` (in units of ``10**-k``):
  averages that differ then differ by ``>= 1 / (f*s)`` units, more than one unit in
  the 34th digit of either, so rounding can neither reorder them nor make them equal.
  The same bound keeps every ``SMA`` sum, and each step towards it, exact.
- When a bar breaks the bound (closes with some 25 or more significant digits), the
  symbol switches for good to the generator's own arithmetic: its ``Decimal`` sums are
  rebuilt exactly as ``SMA`` holds them (the same value, and the same exponent: the
  smallest of 0 and of every close's, which is ``-k``), and from then on each bar runs
  ``SMA.update``'s operations in ``CONTEXT`` and compares rounded divisions.
- The averages themselves (``CONTEXT.divide(sum, period)``, as ``SMA`` computes them)
  are computed only on a bar that crosses, for the signal's reason and indicators.

``strategies/core/tests/test_backtest_fast.py`` checks with hypothesis that it emits
exactly the generator's signals (payloads included) on arbitrary closes, through the
switch to ``Decimal`` arithmetic as well.
"""

from decimal import Decimal

from strategies.core.generators import Decision, SmaCrossover, Target, _show, _SymbolState
from strategies.core.indicators import CONTEXT
from trading.core.bars import Bar

_add, _sub, _div = CONTEXT.add, CONTEXT.subtract, CONTEXT.divide
_LIMIT = 10**33
_CACHE_LIMIT = 1 << 16
_ZERO = Decimal(0)


class _Sums:
    """The last ``slow`` closes (as given and as integers), the running sums, and the scale."""

    __slots__ = (
        "cache",
        "count",
        "dec_fast",
        "dec_slow",
        "fast_sum",
        "ring",
        "ring_int",
        "scale",
        "slow_sum",
    )

    def __init__(self, slow: int) -> None:
        self.ring: list[Decimal] = [_ZERO] * slow
        self.ring_int: list[int] = [0] * slow
        self.count = 0
        self.fast_sum = 0
        self.slow_sum = 0
        # Integers are close * 10**scale; -scale = min(0, every close's exponent) is also the exponent
        # Decimal addition gives SMA's running sums (it keeps the smallest exponent of its operands).
        self.scale = 0
        # value -> (integer at this scale, the Decimal object last seen with that value)
        self.cache: dict[Decimal, tuple[int, Decimal]] = {}
        self.dec_fast: Decimal | None = None  # set once the symbol runs the generator's own arithmetic
        self.dec_slow: Decimal | None = None

    def integer(self, close: Decimal) -> int:
        """``close * 10**scale`` exactly (rescaling the state first if ``close`` has more places)."""
        exponent = close.as_tuple().exponent
        assert isinstance(exponent, int)  # on_bar has refused non-finite closes
        if -exponent > self.scale:
            factor = 10 ** (-exponent - self.scale)
            self.scale = -exponent
            self.ring_int = [value * factor for value in self.ring_int]
            self.fast_sum *= factor
            self.slow_sum *= factor
            self.cache.clear()
        elif len(self.cache) >= _CACHE_LIMIT:
            self.cache.clear()
        value = int(close.scaleb(self.scale))
        self.cache[close] = (value, close)
        return value

    def to_decimal(self, total: int) -> Decimal:
        """An integer sum as the ``Decimal`` ``SMA`` holds: the same value at the same exponent, ``-scale``."""
        return Decimal(total).scaleb(-self.scale, CONTEXT)


class FastSmaCrossover(SmaCrossover):
    """``SmaCrossover`` with the exact integer decision described in the module docstring."""

    def _indicators(self) -> _Sums:  # type: ignore[override]
        return _Sums(self.params.slow_period)

    def _decide(self, state: _SymbolState, bar: Bar) -> Decision | None:
        sums: _Sums = state.indicators
        if sums.dec_fast is not None:
            return self._decide_decimal(state, sums, bar.close)
        p = self.params
        fast_n, slow_n = p.fast_period, p.slow_period
        close = bar.close
        known = sums.cache.get(close)
        value = known[0] if known is not None and known[1] is close else sums.integer(close)
        count = sums.count
        slot = count % slow_n
        ring_int = sums.ring_int
        previous_fast, previous_slow = sums.fast_sum, sums.slow_sum
        fast_sum = previous_fast + value
        if count >= fast_n:
            fast_sum -= ring_int[(count - fast_n) % slow_n]
        slow_sum = previous_slow + value
        if count >= slow_n:
            slow_sum -= ring_int[slot]
        left = fast_sum * slow_n
        right = slow_sum * fast_n
        if left >= _LIMIT or right >= _LIMIT:
            # Past the bound: from here on, the generator's own Decimal arithmetic (see the docstring).
            sums.dec_fast, sums.dec_slow = sums.to_decimal(previous_fast), sums.to_decimal(previous_slow)
            return self._decide_decimal(state, sums, close)
        sums.fast_sum, sums.slow_sum = fast_sum, slow_sum
        ring_int[slot] = value
        sums.ring[slot] = close
        sums.count = count = count + 1
        if count < slow_n or left == right:
            return None
        relation = 1 if left > right else -1
        previous, state.relation = state.relation, relation
        if previous == 0 or previous == relation:
            return None
        return self._crossed(relation, sums.to_decimal(fast_sum), sums.to_decimal(slow_sum))

    def _decide_decimal(self, state: _SymbolState, sums: _Sums, close: Decimal) -> Decision | None:
        """``SmaCrossover._decide`` on the rebuilt SMA sums: ``SMA.update``'s operations, in ``CONTEXT``."""
        p = self.params
        fast_n, slow_n = p.fast_period, p.slow_period
        count = sums.count
        slot = count % slow_n
        fast_sum, slow_sum = sums.dec_fast, sums.dec_slow
        assert fast_sum is not None and slow_sum is not None
        if count >= fast_n:
            fast_sum = _sub(fast_sum, sums.ring[(count - fast_n) % slow_n])
        fast_sum = _add(fast_sum, close)
        if count >= slow_n:
            slow_sum = _sub(slow_sum, sums.ring[slot])
        slow_sum = _add(slow_sum, close)
        sums.dec_fast, sums.dec_slow = fast_sum, slow_sum
        sums.ring[slot] = close
        sums.count = count = count + 1
        if count < slow_n:
            return None
        fast, slow = _div(fast_sum, fast_n), _div(slow_sum, slow_n)
        if fast == slow:
            return None
        relation = 1 if fast > slow else -1
        previous, state.relation = state.relation, relation
        if previous == 0 or previous == relation:
            return None
        return self._crossed(relation, fast_sum, slow_sum)

    def _crossed(self, relation: int, fast_sum: Decimal, slow_sum: Decimal) -> Decision:
        p = self.params
        fast, slow = _div(fast_sum, p.fast_period), _div(slow_sum, p.slow_period)
        values = {"fast_sma": fast, "slow_sma": slow}
        direction = "above" if relation > 0 else "below"
        reason = f"SMA({p.fast_period}) {_show(fast)} crossed {direction} SMA({p.slow_period}) {_show(slow)}"
        return Decision(Target.LONG if relation > 0 else self._bearish(), reason, values)
