"""Stop-loss, take-profit and trailing stops per position, checked on every price tick.

``StopMonitor`` holds the levels in memory, indexed by symbol; no database is
read per tick. For each symbol it keeps the nearest level that fires on a fall
and the nearest that fires on a rise, so a tick between them costs two
comparisons whatever the number of positions (symbols with trailing stops are
checked position by position, since every tick may move their peak). A breach
is reported once per position life (position key + opened_at): the monitor
forgets the position when it fires.
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

STOP_LOSS = "STOP_LOSS"
TAKE_PROFIT = "TAKE_PROFIT"
TRAILING_STOP = "TRAILING_STOP"


@dataclass(frozen=True)
class StopSpec:
    key: Hashable
    symbol: str
    quantity: Decimal  # signed: long > 0, short < 0
    opened_at: datetime
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_fraction: Decimal | None = None  # 0.05: stop 5 % behind the best price since the position opened


@dataclass(frozen=True)
class StopBreach:
    key: Hashable
    symbol: str
    kind: str
    trigger_price: Decimal
    price: Decimal
    at: datetime
    opened_at: datetime


def levels_for(
    *,
    quantity: Decimal,
    average_price: Decimal,
    stop_loss_fraction: Decimal | None,
    take_profit_fraction: Decimal | None,
    stop_loss: Decimal | None = None,
    take_profit: Decimal | None = None,
) -> tuple[Decimal | None, Decimal | None]:
    """Explicit levels win; otherwise the fractions of the average price, on the losing and winning sides."""
    if quantity == 0:
        raise ValueError("A flat position has no stop levels.")
    direction = 1 if quantity > 0 else -1
    if stop_loss is None and stop_loss_fraction:
        stop_loss = average_price * (1 - direction * stop_loss_fraction)
    if take_profit is None and take_profit_fraction:
        take_profit = average_price * (1 + direction * take_profit_fraction)
    return stop_loss, take_profit


class _Entry:
    __slots__ = ("direction", "peak", "spec")

    def __init__(self, spec: StopSpec, peak: Decimal | None) -> None:
        self.spec = spec
        self.direction = 1 if spec.quantity > 0 else -1
        self.peak = peak


class _Bounds:
    __slots__ = ("fall", "rise", "trailing")

    def __init__(self, entries: Iterable[_Entry]) -> None:
        falls: list[Decimal] = []
        rises: list[Decimal] = []
        entries = list(entries)
        for entry in entries:
            spec, long = entry.spec, entry.direction == 1
            if spec.stop_loss is not None:
                (falls if long else rises).append(spec.stop_loss)
            if spec.take_profit is not None:
                (rises if long else falls).append(spec.take_profit)
        self.trailing = any(entry.spec.trailing_fraction for entry in entries)
        self.fall = max(falls) if falls else None  # a price at or below this fires something
        self.rise = min(rises) if rises else None  # a price at or above this fires something

    def quiet(self, price: Decimal) -> bool:
        return (
            not self.trailing and (self.fall is None or price > self.fall) and (self.rise is None or price < self.rise)
        )


class StopMonitor:
    def __init__(self) -> None:
        self._by_symbol: dict[str, dict[Hashable, _Entry]] = {}
        self._symbol_of: dict[Hashable, str] = {}
        self._fired: set[tuple[Hashable, datetime]] = set()
        self._bounds: dict[str, _Bounds] = {}

    def __len__(self) -> int:
        return len(self._symbol_of)

    def track(self, spec: StopSpec) -> None:
        """Start (or update) watching one position; a position life that already fired is ignored."""
        if spec.quantity == 0 or (spec.key, spec.opened_at) in self._fired:
            self.untrack(spec.key)
            return
        previous = self._by_symbol.get(self._symbol_of.get(spec.key), {}).get(spec.key)
        peak = previous.peak if previous is not None and previous.spec.opened_at == spec.opened_at else None
        self.untrack(spec.key)
        self._by_symbol.setdefault(spec.symbol, {})[spec.key] = _Entry(spec, peak)
        self._symbol_of[spec.key] = spec.symbol
        self._bounds.pop(spec.symbol, None)

    def untrack(self, key: Hashable) -> None:
        symbol = self._symbol_of.pop(key, None)
        if symbol is not None:
            self._bounds.pop(symbol, None)
            entries = self._by_symbol[symbol]
            del entries[key]
            if not entries:
                del self._by_symbol[symbol]

    def replace_all(self, specs: Iterable[StopSpec]) -> None:
        """Reload the whole book, keeping trailing peaks of positions that are still the same life."""
        specs = list(specs)
        keep = {spec.key for spec in specs}
        for key in [k for k in self._symbol_of if k not in keep]:
            self.untrack(key)
        for spec in specs:
            self.track(spec)

    def on_price(self, symbol: str, price: Decimal, at: datetime) -> list[StopBreach]:
        entries = self._by_symbol.get(symbol)
        if not entries:
            return []
        bounds = self._bounds.get(symbol)
        if bounds is None:
            bounds = self._bounds[symbol] = _Bounds(entries.values())
        if bounds.quiet(price):
            return []
        breaches = []
        for entry in list(entries.values()):
            breach = self._check(entry, price, at)
            if breach is not None:
                breaches.append(breach)
                self._fired.add((entry.spec.key, entry.spec.opened_at))
                self.untrack(entry.spec.key)
        return breaches

    @staticmethod
    def _check(entry: _Entry, price: Decimal, at: datetime) -> StopBreach | None:
        spec, direction = entry.spec, entry.direction

        def breach(kind: str, level: Decimal) -> StopBreach:
            return StopBreach(spec.key, spec.symbol, kind, level, price, at, spec.opened_at)

        # Signed distance: positive when the price is on the position's winning side of the level.
        if spec.stop_loss is not None and (price - spec.stop_loss) * direction <= 0:
            return breach(STOP_LOSS, spec.stop_loss)
        if spec.trailing_fraction:
            if entry.peak is None or (price - entry.peak) * direction > 0:
                entry.peak = price
            level = entry.peak * (1 - direction * spec.trailing_fraction)
            if (price - level) * direction <= 0:
                return breach(TRAILING_STOP, level)
        if spec.take_profit is not None and (price - spec.take_profit) * direction >= 0:
            return breach(TAKE_PROFIT, spec.take_profit)
        return None
