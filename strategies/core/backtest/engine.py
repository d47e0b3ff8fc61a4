"""The backtest engine: live code run over history, one bar at a time, with stated conventions.

What runs is what runs live: the generator (``strategies.core.generators``, through
``signals.strategy_generator``) or recorded EXTERNAL_AI signals; the pre-trade risk
rules (``risk.core.rules.validate_order`` over a ``RiskSnapshot`` built from the
backtest's own book); the order state machine (``trading.core.orders`` through
``orders.order_event``); fill, commission and slippage models (``fills.py``, on
``trading.core.fills``); positions and P&L (``trading.core.positions.apply_fill`` and
``cash_delta``); closed trades and metrics (``strategies.core.metrics``).

Conventions (``BacktestConfig``)
    Bars come in time order; each symbol's bars are its own stream (a bar at or
    before the symbol's last one is ignored by the generator, as live).
    A generator signal is traded to its **target**: to go LONG from SHORT the engine
    first closes the short (one order), then opens the long (a second order, sized
    after the close), as backtesting.py's ``position.close(); buy()`` does; FLAT
    closes. Orders act when they reach the market: ``NEXT_OPEN`` (default) at the open
    of the symbol's next bar, ``THIS_CLOSE`` at the close of the signal's bar; each is
    sized and risk-checked at that moment, with that price as reference price. An
    order the risk rules refuse is logged with its violation codes, and the
    generator's target is set back to the position held (``set_target``), as live
    does after a refused signal.
    An external signal is acted on as the live intake does: at the open of the first
    bar of its symbol at or after its time (``NEXT_OPEN``), or at the close of the bar
    it arrives in (``THIS_CLOSE``); BUY/SELL for ``position_size`` of the capital
    (``FractionOfCapital`` unless configured); ``target_price`` makes a resting limit
    order; an expired signal, a size under one lot and a stop loss or take profit on the
    wrong side are skipped with the live intake's codes.
    Entries that carry ``stop_loss`` get a protective stop, and with ``take_profit`` too
    a take-profit limit, both one-cancels-other. After a fill at the open they work through
    the rest of that bar; after a fill inside a bar (a resting limit entry), from the next
    bar, since the path inside the bar is unknown. Limit and stop fills follow ``fills.py``
    (gap rule: a bar opening beyond the level fills at the open; what the open reaches
    fills first, then stops before take profits). A protective exit sets the generator's
    target to the position held (FLAT).
    Fill times: a fill at the open or within a bar is stamped with the bar's time; a fill
    at the close with the bar's time plus ``bar_interval`` (when it happened). Trades
    take the entry and exit fills' times.
    Equity is ``cash + sum(quantity * last price)``, exact in ``Decimal``. The daily
    curve holds each UTC day's last equity; the per-bar curve keeps at most
    ``2 * curve_points`` evenly spaced points (memory flat in the number of bars) with
    the drawdown below the running per-bar peak; ``max_drawdown_bar`` is exact over every
    bar. Metrics are ``metrics.performance`` over the daily curve and the closed trades.
    Risk limits default to ``WIDE_OPEN_LIMITS`` (every limit off or unreachable, no
    reserve buffer), the limits under which backtesting.py's runs can be matched; pass
    real ``RiskLimits`` to see what they refuse. ``strategy_capital`` ``None`` means the
    strategy owns the account: its capital is its equity.

Streaming: ``progress(done, total)`` every ``progress_every`` bars and at the end,
``should_cancel()`` checked as often (a cancelled run returns what it has, ``status``
``canceled``), ``on_trade(trade)`` as each trade closes.
"""

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from risk.core.rules import (
    Holding,
    OrderIntent,
    PendingOrder,
    RiskLimits,
    RiskSnapshot,
    validate_order,
)
from strategies.core.backtest.fills import (
    NO_COMMISSION,
    NO_SLIPPAGE,
    Commission,
    FillTiming,
    Slippage,
    limit_fill_price,
    reached_at_open,
    stop_fill_price,
)
from strategies.core.backtest.orders import (
    OrderStatus,
    OrderTrigger,
    OrderType,
    Side,
    SimOrder,
    next_status,
    order_event,
)
from strategies.core.backtest.signals import ExternalSignal
from strategies.core.backtest.sizing import FractionOfCapital, FractionOfEquity, Sizing
from strategies.core.generators import GeneratedSignal, SignalGenerator, Target
from strategies.core.indicators import CONTEXT
from strategies.core.metrics import (
    ClosedTrade,
    DrawdownPoint,
    PerformanceMetrics,
    TradeFill,
    closed_trades,
    drawdown_series,
    performance,
)
from trading.core.bars import MINUTE, Bar
from trading.core.positions import PositionState, apply_fill, cash_delta

_ZERO = Decimal(0)
_ONE = Decimal(1)
_C = CONTEXT
DAY = timedelta(days=1)

# Every limit off or out of reach, and no reserve buffer: an order is refused only by a gate or by
# buying power it does not have (the one check no limit switches off).
_SUBMIT, _ACCEPT = OrderTrigger.SUBMIT, OrderTrigger.ACCEPT
_RANK = {target: target.rank for target in Target}

WIDE_OPEN_LIMITS = RiskLimits(
    max_position_fraction=Decimal(1_000_000),
    reserve_buffer=_ZERO,
    reject_stale_prices=False,
)

RUNNING, COMPLETED, CANCELED = "running", "completed", "canceled"
REFUSED, SKIPPED = "refused", "skipped"
SIGNAL_EXPIRED = "signal_expired"
QUANTITY_BELOW_LOT = "quantity_below_lot"
INVALID_STOP_LOSS = "invalid_stop_loss"
INVALID_TAKE_PROFIT = "invalid_take_profit"
NO_BAR_AFTER_SIGNAL = "no_bar_after_signal"
ENTRY, EXIT, STOP_LOSS, TAKE_PROFIT, END_OF_RUN = "entry", "exit", "stop_loss", "take_profit", "end_of_run"


@dataclass(frozen=True)
class BacktestConfig:
    initial_cash: Decimal = Decimal(10000)
    fill_timing: FillTiming = FillTiming.NEXT_OPEN
    commission: Commission = NO_COMMISSION
    slippage: Slippage = NO_SLIPPAGE
    sizing: Sizing | None = None  # None: FractionOfEquity (generators) or FractionOfCapital (replay), signal's size
    lot_size: Decimal = _ONE
    risk_limits: RiskLimits = WIDE_OPEN_LIMITS
    strategy_capital: Decimal | None = None
    bar_interval: timedelta = MINUTE
    close_at_end: bool = False
    trade_from: datetime | None = None  # earlier bars only warm the generator up
    curve_points: int = 1024
    progress_every: int = 65_536
    max_log_entries: int = 10_000
    sectors: Mapping[str, str] = field(default_factory=dict)
    not_shortable: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.initial_cash.is_finite() or self.initial_cash <= 0:
            raise ValueError(f"The starting cash must be positive, got {self.initial_cash}.")
        if not self.lot_size.is_finite() or self.lot_size <= 0:
            raise ValueError(f"The lot size must be positive, got {self.lot_size}.")
        if self.bar_interval <= timedelta(0):
            raise ValueError("The bar interval must be positive.")
        if self.curve_points < 2 or self.progress_every < 1:
            raise ValueError("curve_points must be at least 2 and progress_every at least 1.")
        if self.trade_from is not None and self.trade_from.utcoffset() is None:
            raise ValueError("trade_from must carry a time zone.")
        object.__setattr__(self, "fill_timing", FillTiming(self.fill_timing))

    def describe(self) -> dict[str, str]:
        """The conventions in words, for the result and the dashboard."""
        sizing = self.sizing.describe() if self.sizing is not None else "the signal's position_size"
        return {
            "fill_timing": str(self.fill_timing),
            "commission": self.commission.describe(),
            "slippage": self.slippage.describe(),
            "sizing": sizing,
            "initial_cash": str(self.initial_cash),
            "lot_size": str(self.lot_size),
            "strategy_capital": "equity" if self.strategy_capital is None else str(self.strategy_capital),
        }


@dataclass(frozen=True)
class RunLogEntry:
    """A signal or order that did not trade: ``kind`` ``refused`` (risk) or ``skipped`` (signal intake)."""

    at: datetime
    kind: str
    symbol: str
    side: str | None
    quantity: Decimal | None
    purpose: str
    signal_id: str | None
    codes: tuple[str, ...]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": None if self.quantity is None else str(self.quantity),
            "purpose": self.purpose,
            "signal_id": self.signal_id,
            "codes": list(self.codes),
            "message": self.message,
        }


@dataclass(frozen=True)
class CurvePoint:
    at: datetime
    equity: Decimal
    drawdown: Decimal  # below the running per-bar peak, a fraction


@dataclass
class BacktestResult:
    status: str
    bars: int
    config: BacktestConfig
    trades: list[ClosedTrade]
    fills: list[TradeFill]
    equity_daily: dict[date, Decimal]
    equity_curve: list[CurvePoint]
    run_log: list[RunLogEntry]
    run_log_total: int
    final_cash: Decimal
    final_equity: Decimal
    positions: dict[str, PositionState]
    max_drawdown_bar: Decimal
    signals: int
    orders: int
    daily_marks: list[tuple[date, dict[str, Decimal]]]
    daily_exposure: list[tuple[date, dict[str, Decimal]]]
    start: datetime | None
    end: datetime | None
    metrics: PerformanceMetrics | None = None

    @property
    def drawdown_daily(self) -> list[DrawdownPoint]:
        return drawdown_series(self.equity_daily) if self.equity_daily else []

    def refusals(self) -> list[RunLogEntry]:
        return [entry for entry in self.run_log if entry.kind == REFUSED]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (trades and curves included; fills and daily marks left out)."""
        return {
            "status": self.status,
            "bars": self.bars,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "conventions": self.config.describe(),
            "final_cash": str(self.final_cash),
            "final_equity": str(self.final_equity),
            "max_drawdown_bar": str(self.max_drawdown_bar),
            "signals": self.signals,
            "orders": self.orders,
            "metrics": None if self.metrics is None else self.metrics.as_dict(),
            "trades": [trade_dict(t) for t in self.trades],
            "equity_daily": [[d.isoformat(), str(v)] for d, v in sorted(self.equity_daily.items())],
            "equity_curve": [[p.at.isoformat(), str(p.equity), str(p.drawdown)] for p in self.equity_curve],
            "drawdown_daily": [[p.day.isoformat(), str(p.drawdown)] for p in self.drawdown_daily],
            "run_log": [entry.as_dict() for entry in self.run_log],
            "run_log_total": self.run_log_total,
            "positions": {s: str(p.quantity) for s, p in self.positions.items() if p.quantity},
        }


def trade_dict(trade: ClosedTrade) -> dict[str, Any]:
    return {
        "symbol": trade.symbol,
        "side": str(trade.side),
        "quantity": str(trade.quantity),
        "entry_time": trade.entry_time.isoformat(),
        "exit_time": trade.exit_time.isoformat(),
        "entry_price": str(trade.entry_price),
        "exit_price": str(trade.exit_price),
        "pnl": str(trade.pnl),
        "commission": str(trade.commission),
    }


class _Book:
    """One symbol's state in the backtest."""

    __slots__ = (
        "emitted",
        "fills",
        "mark",
        "pending",
        "position",
        "qty",
        "symbol",
        "working",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.position = PositionState()
        self.qty = _ZERO
        self.mark: Decimal | None = None
        self.pending: list[GeneratedSignal | ExternalSignal] = []
        self.working: list[SimOrder] = []
        self.fills: list[TradeFill] = []  # the fills of the round trip still open
        self.emitted = 0  # trades already handed out from ``fills`` (a flip keeps the list going)


ProgressCallback = Callable[[int, int | None], None]


class Backtest:
    """One run: ``Backtest(bars, strategy, config).run()``; ``strategy`` is a generator or external signals."""

    def __init__(
        self,
        bars: Iterable[Bar],
        strategy: SignalGenerator[Any] | Sequence[ExternalSignal],
        config: BacktestConfig | None = None,
        *,
        progress: ProgressCallback | None = None,
        should_cancel: Callable[[], bool] | None = None,
        on_trade: Callable[[ClosedTrade], None] | None = None,
        total_bars: int | None = None,
    ) -> None:
        self.config = config = config or BacktestConfig()
        self.bars = bars
        if isinstance(strategy, SignalGenerator):
            self.generator: SignalGenerator[Any] | None = strategy
            self.replay: list[ExternalSignal] = []
        else:
            self.generator = None
            self.replay = sorted(strategy, key=lambda s: s.at)
        self.sizing: Sizing = config.sizing or (FractionOfEquity() if self.generator else FractionOfCapital())
        self._commission = config.commission.commission
        self._slippage = config.slippage.price
        self.progress = progress
        self.should_cancel = should_cancel
        self.on_trade = on_trade
        if total_bars is None and hasattr(bars, "__len__"):
            total_bars = len(bars)  # type: ignore[arg-type]
        self.total_bars = total_bars
        self.limits = config.risk_limits
        rate_limits = [
            m for m in (self.limits.max_strategy_orders_per_minute, self.limits.max_account_orders_per_minute) if m
        ]
        self._order_times: deque[datetime] | None = deque(maxlen=max(rate_limits)) if rate_limits else None
        self._books: dict[str, _Book] = {}
        self._held: dict[str, _Book] = {}  # books with a position
        self._cash = config.initial_cash
        self._value = _ZERO  # sum(quantity * mark)
        self._order_ids = itertools.count(1)
        self._trades: list[ClosedTrade] = []
        self._all_fills: list[TradeFill] = []
        self._log: list[RunLogEntry] = []
        self._log_total = 0
        self._signals = 0
        self._orders = 0
        self._peak = config.initial_cash
        self._trough = config.initial_cash
        self._max_drawdown = _ZERO
        self._day: date | None = None
        self._day_start_equity = config.initial_cash
        self._equity_daily: dict[date, Decimal] = {}
        self._daily_marks: list[tuple[date, dict[str, Decimal]]] = []
        self._daily_exposure: list[tuple[date, dict[str, Decimal]]] = []
        self._curve: list[CurvePoint] = []
        self._stride = 1
        self._replay_next = 0
        self._trading = config.trade_from is None
        # Resting entry orders of replayed signals: their protective prices and the signal's model and confidence.
        self._brackets: dict[int, tuple[Decimal | None, Decimal | None]] = {}
        self._signal_meta: dict[int, tuple[str | None, Decimal | None]] = {}

    # ---- the loop ------------------------------------------------------------------------------------------------

    def run(self) -> BacktestResult:
        config = self.config
        books = self._books
        generator = self.generator
        on_bar = generator.on_bar if generator is not None else None
        next_open = config.fill_timing is FillTiming.NEXT_OPEN
        replay = self.replay
        every = config.progress_every
        check_at = every
        stride_mask = 0  # sample the curve when (count & stride_mask) == 0
        curve_limit = 2 * config.curve_points
        trade_from = config.trade_from
        warming = trade_from is not None
        replaying = bool(replay)
        held = self._held
        status = COMPLETED
        count = 0
        start: datetime | None = None
        minute: datetime | None = None
        day_end = datetime.min.replace(tzinfo=UTC)
        for bar in self.bars:
            symbol = bar[0]
            minute = bar[1]
            book = books.get(symbol)
            if book is None:
                book = books[symbol] = _Book(symbol)
                if start is None:
                    start = minute
            if minute >= day_end:
                day_end = self._roll_day(minute)
            if warming and minute >= trade_from:  # type: ignore[operator]
                self._trading, warming = True, False
            if replaying:
                replaying = self._replay_due(minute, next_open)
            if book.pending and next_open:
                self._act_pending(book, bar, bar[2], minute)
            if book.working:
                self._work(book, bar)
            if on_bar is not None:
                signal = on_bar(bar)
                if signal is not None:
                    self._signals += 1
                    if self._trading:
                        book.pending.append(signal)
                    else:
                        generator.set_target(symbol, Target.FLAT)  # type: ignore[union-attr]
            if book.pending and not next_open:
                self._act_pending(book, bar, bar[5], minute + config.bar_interval)
            close = bar[5]
            qty = book.qty
            if qty:
                if len(held) == 1:
                    self._value = qty * close  # the only position: its value, not a running sum
                else:
                    self._value += qty * (close - book.mark)
                book.mark = close
                equity = self._cash + self._value
                if equity > self._peak:
                    self._new_peak(equity)
                elif equity < self._trough:
                    self._trough = equity
            else:
                book.mark = close
            count += 1
            if not count & stride_mask:
                self._sample(minute)
                if len(self._curve) >= curve_limit:
                    self._curve = self._curve[::2]
                    self._stride *= 2
                    stride_mask = self._stride - 1
            if count >= check_at:
                check_at += every
                if self.progress is not None:
                    self.progress(count, self.total_bars)
                if self.should_cancel is not None and self.should_cancel():
                    status = CANCELED
                    break
        return self._finish(status, count, start, minute)

    # ---- days, curve, peak ---------------------------------------------------------------------------------------

    def _equity(self) -> Decimal:
        return self._cash + self._value

    def _new_peak(self, equity: Decimal) -> None:
        self._close_drawdown()
        self._peak = self._trough = equity

    def _close_drawdown(self) -> None:
        if self._trough < self._peak:
            drawdown = _C.divide(self._peak - self._trough, self._peak)
            if drawdown > self._max_drawdown:
                self._max_drawdown = drawdown

    def _sample(self, at: datetime) -> None:
        equity = self._equity()
        peak = max(self._peak, equity)
        self._curve.append(CurvePoint(at, equity, _C.divide(peak - equity, peak)))  # peak >= initial cash > 0

    def _roll_day(self, minute: datetime) -> datetime:
        """Close the day before ``minute`` (its equity, marks and exposures) and open ``minute``'s day."""
        if self._day is not None:
            self._close_day()
        day = minute.astimezone(UTC).date()
        self._day = day
        self._day_start_equity = self._equity()
        return datetime.combine(day, time(0), tzinfo=UTC) + DAY

    def _close_day(self) -> None:
        assert self._day is not None
        equity = self._equity()
        self._equity_daily[self._day] = equity
        self._daily_marks.append(
            (self._day, {s: b.mark for s, b in self._books.items() if b.mark is not None})  # type: ignore[misc]
        )
        self._daily_exposure.append((self._day, {s: b.qty * b.mark for s, b in self._held.items()}))  # type: ignore[operator]

    # ---- marks and the book --------------------------------------------------------------------------------------

    def _mark(self, book: _Book, price: Decimal) -> None:
        """The symbol's last price is now ``price`` (the open before orders at the open, the close after)."""
        if book.qty:  # a position was filled at a mark, so the mark is set
            self._value += book.qty * (price - book.mark)  # type: ignore[operator]
        book.mark = price

    def _log_entry(
        self,
        at: datetime,
        kind: str,
        symbol: str,
        side: Side | None,
        quantity: Decimal | None,
        purpose: str,
        signal_id: str | None,
        codes: tuple[str, ...],
        message: str,
    ) -> None:
        self._log_total += 1
        if len(self._log) < self.config.max_log_entries:
            self._log.append(
                RunLogEntry(
                    at, kind, symbol, None if side is None else str(side), quantity, purpose, signal_id, codes, message
                )
            )

    def _pending(self) -> tuple[PendingOrder, ...]:
        """Every working order, as live's book_read lists them: one per OCO group (its first, the stop)."""
        return tuple(
            PendingOrder(
                o.symbol,
                o.side,
                o.remaining_quantity,
                o.reference_price,  # a resting order's level: its limit or stop price
                reserve_buffer=_ZERO if o.order_type is OrderType.LIMIT else None,
                limit_price=o.limit_price,
            )
            for b in self._books.values()
            for o in b.working
            if o.oco is None or o.oco[0] is o
        )

    def _snapshot(self, book: _Book) -> RiskSnapshot:
        held = tuple([Holding(b.symbol, b.qty, b.position.average_price) for b in self._held.values()])
        pending = self._pending() if self._any_working() else ()
        equity = self._cash + self._value
        prices = {s: b.mark for s, b in self._held.items()}
        prices[book.symbol] = book.mark  # marked at the order's price before any order is made
        times: tuple[datetime, ...] = tuple(self._order_times) if self._order_times is not None else ()
        capital = self.config.strategy_capital
        return RiskSnapshot(
            cash=self._cash,
            equity=equity,
            strategy_capital=capital if capital is not None else max(equity, _ZERO),
            strategy_holdings=held,
            strategy_orders=pending,
            account_holdings=held,
            account_orders=pending,
            limits=self.limits,
            prices=prices,  # type: ignore[arg-type]
            sectors=self.config.sectors,
            strategy_order_times=times,
            account_order_times=times,
            day_start_equity=self._day_start_equity,
            high_water_mark=max(self._peak, equity),
        )

    def _any_working(self) -> bool:
        return any(b.working for b in self._books.values())

    def _available(self) -> Decimal:
        """Equity less gross exposure: backtesting.py's margin available at leverage 1 (the cash when long only)."""
        gross = sum(abs(b.qty) * b.mark for b in self._held.values())  # type: ignore[misc]
        return max(self._equity() - gross, _ZERO)

    def _capital(self) -> Decimal:
        config = self.config
        return config.strategy_capital if config.strategy_capital is not None else config.initial_cash

    # ---- orders ---------------------------------------------------------------------------------------------------

    def _order(
        self,
        book: _Book,
        side: Side,
        quantity: Decimal,
        order_type: OrderType,
        *,
        at: datetime,
        reference_price: Decimal,
        purpose: str,
        signal_id: str | None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        validate: bool = True,
    ) -> SimOrder | None:
        """A new order, risk-checked (unless it protects a fill): accepted and working, or None if refused."""
        order = SimOrder(
            next(self._order_ids),
            book.symbol,
            side,
            order_type,
            quantity,
            created_at=at,
            reference_price=reference_price,
            purpose=purpose,
            signal_id=signal_id,
            limit_price=limit_price,
            stop_price=stop_price,
        )
        self._orders += 1
        if validate:
            config = self.config
            intent = OrderIntent(
                book.symbol,
                side,
                quantity,
                reference_price,
                lot_size=config.lot_size,
                reserve_buffer=_ZERO if order_type is OrderType.LIMIT else None,
                limit_price=limit_price,
                shortable=book.symbol not in config.not_shortable,
            )
            validation = validate_order(self._snapshot(book), intent, now=at)
            if not validation.is_valid:
                order_event(order, OrderTrigger.REJECT)
                codes = tuple(v.code for v in validation.violations)
                message = " ".join(v.message for v in validation.violations)
                self._log_entry(at, REFUSED, book.symbol, side, quantity, purpose, signal_id, codes, message)
                return None
            if validation.approved_quantity is not None and validation.approved_quantity != quantity:
                order.quantity = validation.approved_quantity
        if self._order_times is not None:
            self._order_times.append(at)
        # NEW -> SUBMITTED -> ACCEPTED (no fill to book: the state machine alone).
        order.status = next_status(next_status(order.status, _SUBMIT), _ACCEPT)
        return order

    def _fill(
        self,
        book: _Book,
        order: SimOrder,
        price: Decimal,
        at: datetime,
        *,
        model: str | None = None,
        confidence: Decimal | None = None,
    ) -> None:
        """Book a whole fill of ``order`` at ``price`` (slippage already applied)."""
        quantity = order.remaining_quantity
        side = order.side
        commission = self._commission(quantity, price)
        order_event(order, OrderTrigger.FILL, quantity=quantity, price=price)
        before = book.qty
        book.position = after = apply_fill(
            book.position, side=side, quantity=quantity, price=price, commission=commission
        )
        book.qty = after.quantity
        self._cash += cash_delta(side=side, quantity=quantity, price=price, commission=commission)
        self._value += (after.quantity - before) * book.mark  # type: ignore[operator]
        if after.quantity:
            self._held[book.symbol] = book
        else:
            del self._held[book.symbol]  # a fill that leaves it flat had a position to reduce
        fill = TradeFill(book.symbol, at, side, quantity, price, commission, model, confidence)
        self._all_fills.append(fill)
        book.fills.append(fill)
        now = after.quantity
        if not now or (before and (before > 0) != (now > 0)):
            # Flat again, or flipped through zero: the round trip(s) just closed.
            trades = closed_trades(book.fills)
            for trade in trades[book.emitted :]:
                self._trades.append(trade)
                if self.on_trade is not None:
                    self.on_trade(trade)
            if not now:
                book.fills = []
                book.emitted = 0
            else:
                book.emitted = len(trades)
        equity = self._cash + self._value
        if equity > self._peak:
            self._new_peak(equity)
        elif equity < self._trough:
            self._trough = equity

    def _market(
        self,
        book: _Book,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        at: datetime,
        *,
        purpose: str,
        signal_id: str | None,
        model: str | None = None,
        confidence: Decimal | None = None,
    ) -> SimOrder | None:
        order = self._order(
            book, side, quantity, OrderType.MARKET, at=at, reference_price=price, purpose=purpose, signal_id=signal_id
        )
        if order is not None:
            self._fill(book, order, self._slippage(side, price), at, model=model, confidence=confidence)
        return order

    def _cancel_working(self, book: _Book, purposes: tuple[str, ...] = (STOP_LOSS, TAKE_PROFIT)) -> None:
        keep = []
        for order in book.working:
            if order.purpose in purposes:
                order_event(order, OrderTrigger.CANCEL)
            else:
                keep.append(order)
        book.working = keep

    def _close(
        self,
        book: _Book,
        price: Decimal,
        at: datetime,
        *,
        purpose: str,
        signal_id: str | None,
    ) -> bool:
        """Close the whole position with a market order; False if the risk rules refused it."""
        side = Side.SELL if book.qty > 0 else Side.BUY
        order = self._market(book, side, abs(book.qty), price, at, purpose=purpose, signal_id=signal_id)
        if order is None:
            return False
        self._cancel_working(book)
        return True

    def _protect(
        self, book: _Book, entry: SimOrder, stop_loss: Decimal | None, take_profit: Decimal | None, at: datetime
    ) -> None:
        """The protective exits of a filled entry: a stop, and with a take profit a bracket (OCO), as live."""
        if stop_loss is None:
            return
        side = entry.side.opposite
        quantity = entry.filled_quantity
        orders = []
        stop = self._order(
            book,
            side,
            quantity,
            OrderType.STOP,
            at=at,
            reference_price=stop_loss,
            purpose=STOP_LOSS,
            signal_id=entry.signal_id,
            stop_price=stop_loss,
            validate=False,
        )
        assert stop is not None
        orders.append(stop)
        if take_profit is not None:
            target = self._order(
                book,
                side,
                quantity,
                OrderType.LIMIT,
                at=at,
                reference_price=take_profit,
                purpose=TAKE_PROFIT,
                signal_id=entry.signal_id,
                limit_price=take_profit,
                validate=False,
            )
            assert target is not None
            orders.append(target)
        for order in orders:
            order.oco = orders
        # Stops first: within one bar a stop and a take profit both touched count as the stop.
        book.working = [*orders, *book.working]

    def _work(self, book: _Book, bar: Bar) -> None:
        """Resting orders against ``bar``'s range (fills.py's trigger and gap rules).

        An order the open already reaches fills first, at the open; the others then in book
        order, stops before take profits.
        """
        working = book.working
        if len(working) > 1:
            working = sorted(working, key=lambda o: not reached_at_open(o.order_type, o.side, o.level, bar))
        else:
            working = list(working)
        for order in working:
            if order.status is not OrderStatus.ACCEPTED:
                continue
            if order.order_type is OrderType.STOP:
                price = stop_fill_price(order.side, order.stop_price, bar)  # type: ignore[arg-type]
                if price is None:
                    continue
                self._mark(book, price)
                price = self._slippage(order.side, price)
            else:
                price = limit_fill_price(order.side, order.limit_price, bar)  # type: ignore[arg-type]
                if price is None:
                    continue
                self._mark(book, price)
            book.working.remove(order)
            model, confidence = self._signal_meta.pop(order.id, (None, None))
            self._fill(book, order, price, bar.minute, model=model, confidence=confidence)
            for sibling in order.oco or ():
                if sibling is not order:
                    order_event(sibling, OrderTrigger.CANCEL)
                    book.working.remove(sibling)
            if order.purpose == ENTRY:
                stop_loss, take_profit = self._brackets.pop(order.id)
                self._protect(book, order, stop_loss, take_profit, bar.minute)
            elif self.generator is not None:
                self.generator.set_target(book.symbol, self._held_target(book))

    # ---- acting on signals ---------------------------------------------------------------------------------------

    def _act_pending(self, book: _Book, bar: Bar, price: Decimal, at: datetime) -> None:
        self._mark(book, price)
        pending, book.pending = book.pending, []
        for signal in pending:
            if isinstance(signal, GeneratedSignal):
                self._to_target(book, signal, price, at)
            else:
                self._external(book, signal, price, at)

    def _held_target(self, book: _Book) -> Target:
        return Target.LONG if book.qty > 0 else Target.SHORT if book.qty < 0 else Target.FLAT

    def _to_target(self, book: _Book, signal: GeneratedSignal, price: Decimal, at: datetime) -> None:
        """Trade the symbol to the signal's target: close what points the other way, then open the new size."""
        generator = self.generator
        assert generator is not None
        want = _RANK[signal.target]
        opposed = book.qty and self._held_target(book) is not signal.target  # holds what it no longer wants
        if opposed and not self._close(book, price, at, purpose=EXIT, signal_id=signal.id):
            generator.set_target(book.symbol, self._held_target(book))
            return
        if want == 0 or book.qty:
            return
        side = Side.BUY if want > 0 else Side.SELL
        quantity = self._size(price, signal.position_size)
        if quantity <= 0:
            self._log_entry(
                at,
                SKIPPED,
                book.symbol,
                side,
                quantity,
                ENTRY,
                signal.id,
                (QUANTITY_BELOW_LOT,),
                f"The sizing buys less than one lot of {book.symbol} at {price}.",
            )
            generator.set_target(book.symbol, Target.FLAT)
            return
        entry = self._market(book, side, quantity, price, at, purpose=ENTRY, signal_id=signal.id)
        if entry is None:
            generator.set_target(book.symbol, Target.FLAT)
            return
        self._protect(book, entry, signal.stop_loss, signal.take_profit, at)

    def _size(self, price: Decimal, signal_fraction: Decimal | None) -> Decimal:
        return self.sizing.quantity(
            price=price,
            equity=self._equity(),
            available=self._available(),
            capital=self._capital(),
            signal_fraction=signal_fraction,
            lot_size=self.config.lot_size,
            commission=self.config.commission,
        )

    def _replay_due(self, minute: datetime, next_open: bool) -> bool:
        """Hand each recorded signal whose time has come to its symbol's book; False once all are handed out."""
        replay = self.replay
        horizon = minute if next_open else minute + self.config.bar_interval
        index = self._replay_next
        while index < len(replay) and (replay[index].at <= horizon if next_open else replay[index].at < horizon):
            signal = replay[index]
            self._signals += 1
            target = self._books.get(signal.symbol)
            if target is None:
                target = self._books[signal.symbol] = _Book(signal.symbol)
            if self._trading:
                target.pending.append(signal)
            index += 1
        self._replay_next = index
        return index < len(replay)

    def _external(self, book: _Book, signal: ExternalSignal, price: Decimal, at: datetime) -> None:
        """A recorded producer signal, as the live intake takes it (strategies.services._signal_to_orders)."""
        if signal.signal_type == "HOLD":
            return
        side = Side(signal.signal_type)
        if signal.expires_at is not None and signal.expires_at <= at:
            self._log_entry(
                at,
                SKIPPED,
                book.symbol,
                side,
                None,
                ENTRY,
                signal.id,
                (SIGNAL_EXPIRED,),
                f"The signal expired at {signal.expires_at.isoformat()}.",
            )
            return
        reference = signal.target_price or price
        quantity = self._size(reference, signal.position_size)
        if quantity <= 0:
            self._log_entry(
                at,
                SKIPPED,
                book.symbol,
                side,
                quantity,
                ENTRY,
                signal.id,
                (QUANTITY_BELOW_LOT,),
                f"{signal.position_size} of capital buys less than one lot of {book.symbol}.",
            )
            return
        if signal.stop_loss is not None and (signal.stop_loss - reference) * side.sign >= 0:
            self._log_entry(
                at,
                SKIPPED,
                book.symbol,
                side,
                quantity,
                ENTRY,
                signal.id,
                (INVALID_STOP_LOSS,),
                f"A {side} stop loss must lie on the losing side of {reference}.",
            )
            return
        take_profit = signal.take_profit  # used only with a stop loss (a bracket), so checked only then
        if signal.stop_loss is not None and take_profit is not None and (take_profit - reference) * side.sign <= 0:
            self._log_entry(
                at,
                SKIPPED,
                book.symbol,
                side,
                quantity,
                ENTRY,
                signal.id,
                (INVALID_TAKE_PROFIT,),
                f"A {side} take profit must lie on the winning side of {reference}.",
            )
            return
        if signal.target_price is None:
            entry = self._market(
                book,
                side,
                quantity,
                price,
                at,
                purpose=ENTRY,
                signal_id=signal.id,
                model=signal.model,
                confidence=signal.confidence,
            )
            if entry is not None:
                self._protect(book, entry, signal.stop_loss, take_profit, at)
            return
        order = self._order(
            book,
            side,
            quantity,
            OrderType.LIMIT,
            at=at,
            reference_price=reference,
            purpose=ENTRY,
            signal_id=signal.id,
            limit_price=signal.target_price,
        )
        if order is None:
            return
        self._brackets[order.id] = (signal.stop_loss, take_profit)
        self._signal_meta[order.id] = (signal.model, signal.confidence)
        book.working.append(order)

    # ---- the end -------------------------------------------------------------------------------------------------

    def _finish(self, status: str, count: int, start: datetime | None, end: datetime | None) -> BacktestResult:
        config = self.config
        if status == COMPLETED and end is not None:
            for symbol, book in self._books.items():
                for signal in book.pending:
                    if isinstance(signal, ExternalSignal):
                        self._log_entry(
                            end,
                            SKIPPED,
                            symbol,
                            None,
                            None,
                            ENTRY,
                            signal.id,
                            (NO_BAR_AFTER_SIGNAL,),
                            f"No bar of {symbol} came after the signal of {signal.at.isoformat()}.",
                        )
            for signal in self.replay[self._replay_next :]:
                self._log_entry(
                    end,
                    SKIPPED,
                    signal.symbol,
                    None,
                    None,
                    ENTRY,
                    signal.id,
                    (NO_BAR_AFTER_SIGNAL,),
                    f"No bar of {signal.symbol} came after the signal of {signal.at.isoformat()}.",
                )
            if config.close_at_end:
                at = end + config.bar_interval
                for book in list(self._held.values()):
                    price = book.mark
                    assert price is not None
                    self._close(book, price, at, purpose=END_OF_RUN, signal_id=None)
        if self._day is not None:
            self._close_day()
        self._close_drawdown()
        if end is not None and (not self._curve or self._curve[-1].at != end):
            self._sample(end)
        metrics = performance(self._equity_daily, self._trades) if self._equity_daily else None
        if self.progress is not None and count % config.progress_every:
            self.progress(count, self.total_bars)  # the last stretch (a checkpoint already reported the rest)
        return BacktestResult(
            status=status,
            bars=count,
            config=config,
            trades=self._trades,
            fills=self._all_fills,
            equity_daily=self._equity_daily,
            equity_curve=self._curve,
            run_log=self._log,
            run_log_total=self._log_total,
            final_cash=self._cash,
            final_equity=self._equity(),
            positions={s: b.position for s, b in self._books.items()},
            max_drawdown_bar=self._max_drawdown,
            signals=self._signals,
            orders=self._orders,
            daily_marks=self._daily_marks,
            daily_exposure=self._daily_exposure,
            start=start,
            end=end,
            metrics=metrics,
        )


def run_backtest(
    bars: Iterable[Bar],
    strategy: SignalGenerator[Any] | Sequence[ExternalSignal],
    config: BacktestConfig | None = None,
    **callbacks: Any,
) -> BacktestResult:
    """``Backtest(bars, strategy, config, **callbacks).run()``."""
    return Backtest(bars, strategy, config, **callbacks).run()
