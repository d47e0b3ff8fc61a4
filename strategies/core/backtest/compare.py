"""Live against backtest over the same period: each trade that differs, and why.

Inputs are closed trades (``strategies.core.metrics.ClosedTrade``: live ones built from the
live fills by ``closed_trades``, the backtest's from its result; ``compare_fills`` builds
both from fills) and what each side refused or skipped (the backtest's run log; live
signal rejections in the same ``RunLogEntry`` shape).

Matching
    Trades match on symbol and side (long or short) when their entries lie within
    ``tolerance`` of each other; each live trade takes the unmatched backtest trade whose
    entry is nearest (earlier trades first), so a trade never matches twice.

Causes (codes, several may apply to one matched pair)
    ``fill_price``: an entry or exit price differs (slippage: ``slippage_bps`` is the
    difference in basis points of the backtest's price, positive when live did worse:
    paid more to buy or got less to sell); ``timing``: an entry or exit time differs;
    ``quantity``: the sizes differ (sizing on a different equity or capital);
    ``commission``: the commissions differ.
    A live trade with no backtest match is ``refused_in_backtest`` (with the risk or
    intake codes of the backtest's refusal of that symbol and side nearest its entry,
    within ``tolerance``) or else ``missed_in_backtest`` (the backtest had no signal
    there); a backtest trade with no live match is ``refused_live`` (with the live codes)
    or ``missed_live`` (no live signal: the producer or the intake missed it).
    ``pnl_difference`` is always ``live - backtest`` (an unmatched trade counts alone).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from strategies.core.backtest.engine import RunLogEntry
from strategies.core.metrics import ClosedTrade, TradeFill, closed_trades
from trading.core.orders import Side

FILL_PRICE = "fill_price"
TIMING = "timing"
QUANTITY = "quantity"
COMMISSION = "commission"
REFUSED_IN_BACKTEST = "refused_in_backtest"
MISSED_IN_BACKTEST = "missed_in_backtest"
REFUSED_LIVE = "refused_live"
MISSED_LIVE = "missed_live"
_BPS = Decimal(10000)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class TradeDifference:
    symbol: str
    side: Side
    causes: tuple[str, ...]
    live: ClosedTrade | None
    backtest: ClosedTrade | None
    explanation: str
    risk_codes: tuple[str, ...] = ()
    entry_delay: timedelta | None = None  # live entry time - backtest's
    exit_delay: timedelta | None = None
    entry_price_difference: Decimal | None = None  # live - backtest
    exit_price_difference: Decimal | None = None
    entry_slippage_bps: Decimal | None = None  # against the trader: > 0 when live did worse
    exit_slippage_bps: Decimal | None = None
    pnl_difference: Decimal = _ZERO

    def as_dict(self) -> dict[str, Any]:
        def text(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, timedelta):
                return value.total_seconds()
            return str(value)

        def trade(t: ClosedTrade | None) -> dict[str, str] | None:
            if t is None:
                return None
            return {
                "quantity": str(t.quantity),
                "entry_time": t.entry_time.isoformat(),
                "exit_time": t.exit_time.isoformat(),
                "entry_price": str(t.entry_price),
                "exit_price": str(t.exit_price),
                "pnl": str(t.pnl),
                "commission": str(t.commission),
            }

        return {
            "symbol": self.symbol,
            "side": str(self.side),
            "causes": list(self.causes),
            "explanation": self.explanation,
            "risk_codes": list(self.risk_codes),
            "live": trade(self.live),
            "backtest": trade(self.backtest),
            "entry_delay_seconds": text(self.entry_delay),
            "exit_delay_seconds": text(self.exit_delay),
            "entry_price_difference": text(self.entry_price_difference),
            "exit_price_difference": text(self.exit_price_difference),
            "entry_slippage_bps": text(self.entry_slippage_bps),
            "exit_slippage_bps": text(self.exit_slippage_bps),
            "pnl_difference": str(self.pnl_difference),
        }


@dataclass(frozen=True)
class Comparison:
    differences: list[TradeDifference]
    matched: int
    identical: int
    live_pnl: Decimal
    backtest_pnl: Decimal
    by_cause: dict[str, int] = field(default_factory=dict)

    @property
    def pnl_gap(self) -> Decimal:
        return self.live_pnl - self.backtest_pnl

    def as_dict(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "identical": self.identical,
            "live_pnl": str(self.live_pnl),
            "backtest_pnl": str(self.backtest_pnl),
            "pnl_gap": str(self.pnl_gap),
            "by_cause": dict(self.by_cause),
            "differences": [d.as_dict() for d in self.differences],
        }


def _slippage_bps(side: Side, live: Decimal, backtest: Decimal) -> Decimal:
    """Basis points of the backtest price by which live did worse (a buy paid more, a sell got less)."""
    # Subtracted, not multiplied by -1: no slippage on a sell is "0", not "-0".
    worse = live - backtest if side is Side.BUY else backtest - live
    return worse * _BPS / backtest


def _direction(trade: ClosedTrade) -> str:
    return "long" if trade.side is Side.BUY else "short"


def _nearest_refusal(
    entries: Sequence[RunLogEntry], symbol: str, side: Side, trade: ClosedTrade, tolerance: timedelta
) -> RunLogEntry | None:
    """The refusal or skip of an entry in this symbol and direction nearest the trade's entry, within tolerance."""
    best: RunLogEntry | None = None
    for entry in entries:
        if entry.symbol != symbol or (entry.side is not None and entry.side != str(side)):
            continue
        if entry.purpose not in ("entry", "exit") or abs(entry.at - trade.entry_time) > tolerance:
            continue
        if best is None or abs(entry.at - trade.entry_time) < abs(best.at - trade.entry_time):
            best = entry
    return best


def _match(
    live: list[ClosedTrade], backtest: list[ClosedTrade], tolerance: timedelta
) -> tuple[list[tuple[ClosedTrade, ClosedTrade]], list[ClosedTrade], list[ClosedTrade]]:
    pairs, only_live = [], []
    free = sorted(backtest, key=lambda t: t.entry_time)
    taken: set[int] = set()
    for trade in sorted(live, key=lambda t: t.entry_time):
        best = None
        for index, candidate in enumerate(free):
            if index in taken or candidate.symbol != trade.symbol or candidate.side is not trade.side:
                continue
            gap = abs(candidate.entry_time - trade.entry_time)
            if gap <= tolerance and (best is None or gap < abs(free[best].entry_time - trade.entry_time)):
                best = index
        if best is None:
            only_live.append(trade)
        else:
            taken.add(best)
            pairs.append((trade, free[best]))
    only_backtest = [t for index, t in enumerate(free) if index not in taken]
    return pairs, only_live, only_backtest


def _pair(live: ClosedTrade, backtest: ClosedTrade) -> TradeDifference | None:
    causes, notes = [], []
    entry_diff = live.entry_price - backtest.entry_price
    exit_diff = live.exit_price - backtest.exit_price
    entry_bps = _slippage_bps(live.side, live.entry_price, backtest.entry_price)
    exit_bps = _slippage_bps(live.side.opposite, live.exit_price, backtest.exit_price)
    entry_delay = live.entry_time - backtest.entry_time
    exit_delay = live.exit_time - backtest.exit_time
    if entry_diff or exit_diff:
        causes.append(FILL_PRICE)
        if entry_diff:
            prices = f"{live.entry_price} live, {backtest.entry_price} in the backtest"
            notes.append(f"entry filled at {prices} ({entry_bps:+.1f} bps)")
        if exit_diff:
            prices = f"{live.exit_price} live, {backtest.exit_price} in the backtest"
            notes.append(f"exit filled at {prices} ({exit_bps:+.1f} bps)")
    if entry_delay or exit_delay:
        causes.append(TIMING)
        if entry_delay:
            notes.append(f"entry {entry_delay.total_seconds():+.0f} s from the backtest's")
        if exit_delay:
            notes.append(f"exit {exit_delay.total_seconds():+.0f} s from the backtest's")
    if live.quantity != backtest.quantity:
        causes.append(QUANTITY)
        notes.append(f"{live.quantity} shares live, {backtest.quantity} in the backtest")
    if live.commission != backtest.commission:
        causes.append(COMMISSION)
        notes.append(f"commission {live.commission} live, {backtest.commission} in the backtest")
    if not causes:
        return None
    head = f"{live.symbol} {_direction(live)} trade entered {backtest.entry_time.isoformat()}: "
    return TradeDifference(
        symbol=live.symbol,
        side=live.side,
        causes=tuple(causes),
        live=live,
        backtest=backtest,
        explanation=head + "; ".join(notes) + f"; P&L {live.pnl - backtest.pnl:+} live against the backtest.",
        entry_delay=entry_delay,
        exit_delay=exit_delay,
        entry_price_difference=entry_diff,
        exit_price_difference=exit_diff,
        entry_slippage_bps=entry_bps,
        exit_slippage_bps=exit_bps,
        pnl_difference=live.pnl - backtest.pnl,
    )


def compare_trades(
    live: Iterable[ClosedTrade],
    backtest: Iterable[ClosedTrade],
    *,
    backtest_log: Sequence[RunLogEntry] = (),
    live_refusals: Sequence[RunLogEntry] = (),
    tolerance: timedelta = timedelta(minutes=2),
) -> Comparison:
    """Each trade that differs between live and the backtest, with its causes (see the module docstring)."""
    live, backtest = list(live), list(backtest)
    pairs, only_live, only_backtest = _match(live, backtest, tolerance)
    differences: list[TradeDifference] = []
    for live_trade, backtest_trade in pairs:
        difference = _pair(live_trade, backtest_trade)
        if difference is not None:
            differences.append(difference)
    for trade in only_live:
        refusal = _nearest_refusal(backtest_log, trade.symbol, trade.side, trade, tolerance)
        what = f"{trade.symbol} {_direction(trade)} trade entered live at {trade.entry_time.isoformat()}"
        if refusal is not None:
            cause, codes = REFUSED_IN_BACKTEST, refusal.codes
            explanation = f"{what} was refused in the backtest ({', '.join(codes)}): {refusal.message}"
        else:
            cause, codes = MISSED_IN_BACKTEST, ()
            explanation = f"{what} has no backtest signal near it."
        differences.append(
            TradeDifference(
                trade.symbol, trade.side, (cause,), trade, None, explanation, codes, pnl_difference=trade.pnl
            )
        )
    for trade in only_backtest:
        refusal = _nearest_refusal(live_refusals, trade.symbol, trade.side, trade, tolerance)
        what = f"{trade.symbol} {_direction(trade)} trade entered in the backtest at {trade.entry_time.isoformat()}"
        if refusal is not None:
            cause, codes = REFUSED_LIVE, refusal.codes
            explanation = f"{what} was refused live ({', '.join(codes)}): {refusal.message}"
        else:
            cause, codes = MISSED_LIVE, ()
            explanation = f"{what} never traded live: no live signal near it."
        differences.append(
            TradeDifference(
                trade.symbol, trade.side, (cause,), None, trade, explanation, codes, pnl_difference=-trade.pnl
            )
        )
    differences.sort(key=lambda d: ((d.backtest or d.live).entry_time, d.symbol))  # type: ignore[union-attr]
    by_cause: dict[str, int] = {}
    for difference in differences:
        for cause in difference.causes:
            by_cause[cause] = by_cause.get(cause, 0) + 1
    return Comparison(
        differences=differences,
        matched=len(pairs),
        identical=len(pairs) - sum(1 for d in differences if d.live is not None and d.backtest is not None),
        live_pnl=sum((t.pnl for t in live), _ZERO),
        backtest_pnl=sum((t.pnl for t in backtest), _ZERO),
        by_cause=by_cause,
    )


def compare_fills(live_fills: Iterable[TradeFill], backtest_fills: Iterable[TradeFill], **options: Any) -> Comparison:
    """``compare_trades`` on the round trips ``metrics.closed_trades`` builds from each side's fills."""
    return compare_trades(closed_trades(live_fills), closed_trades(backtest_fills), **options)
