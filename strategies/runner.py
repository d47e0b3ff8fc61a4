"""Built-in generators live: every RUNNING or paused generator strategy fed each closed 1-minute bar of its symbols.

Where it runs: in the process that runs the market feed, started with it
(``MARKET_DATA_STREAM_SUBSCRIBERS``: ``strategy_runner_start``). The manager hands each
batch of closed bars, once stored, to ``StrategyRunner.on_bars`` on the feed's thread,
which only queues them; the runner's own thread feeds them to the generators and sends
their signals, so a burst of signals never delays ticks (nor the stop monitor).

Which strategies: RUNNING, PAUSED and AUTO_PAUSED ones whose type has a generator (``STRATEGY_TYPES``), re-read
at most every ``STRATEGY_RUNNER_REFRESH_SECONDS`` and at once after a strategy event in
this process. Each gets a generator built from its current version's
``configuration["parameters"]`` with ``strategy_key = f"s{strategy.id}"``, over the
symbols of ``configuration["symbols"]``. A new version (or a redeploy) builds a new one.

Warm-up: a new generator replays up to ``STRATEGY_RUNNER_WARMUP_BARS`` stored bars of
each symbol (``on_bars``; the signals these make are history, never sent) and then
``set_target`` to the position the strategy really holds in the symbol.

Signals: a ``GeneratedSignal`` asks for a target position (LONG, SHORT, FLAT) in its symbol, which
is traded to as the backtest does (``strategies.core.backtest.engine``): a position held on the other
side is closed first, by an exit signal sized to exactly what is held (``closes_position``, no bracket;
its id is the generated one, with ``:close`` when an entry follows), then a new side is entered by the
generated signal, sized by the strategy. Each goes through ``strategies.services.signal_receive`` with
the strategy's owner as producer, exactly as a REST post (validation, idempotency by the id, risk
checks, events): it shows on the dashboard as any signal does. A refused signal puts the generator's
target back to the position held.

Paused (by a person or an auto-pause rule): the generator goes on reading bars, so that a position
it holds is still closed when its rule says so (the intake takes such a reducing signal, held to
the position's size, and refuses entries). An entry it would make is not sent: its target goes back
to the position held (a paused strategy only ever closes).

Never dies: a failure with one strategy or one batch is recorded (``loop.failed``, once
per kind) and the next bar goes on; the thread beats ``strategy-runner``.
"""

import logging
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from strategies.core.generators import STRATEGY_TYPES, GeneratedSignal, SignalGenerator, Target, generator_build
from strategies.models import Strategy, TradingSignal
from strategies.services import SignalData, signal_receive
from trading import bus, loops
from trading.core.bars import Bar
from trading.marketdata.history import bar_list
from trading.marketdata.manager import MarketDataManager
from trading.models import Position

logger = logging.getLogger(__name__)

GENERATOR_TYPES = tuple(name for name, info in STRATEGY_TYPES.items() if info.generator is not None)
# Paused strategies keep their generator so that their positions are still closed on their rule's exit.
LIVE_STATUSES = (Strategy.Status.RUNNING, Strategy.Status.PAUSED, Strategy.Status.AUTO_PAUSED)
QUEUE_BATCHES = 10_000  # closed-bar batches waiting for the runner's thread, at most (one a flush)


def strategy_key(strategy_id: int) -> str:
    return f"s{strategy_id}"


def strategy_symbols(strategy: Strategy) -> list[str]:
    """The symbols a generator strategy trades: ``configuration["symbols"]``, upper-cased, unique, in order."""
    raw = (strategy.configuration or {}).get("symbols")
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        return []
    symbols: list[str] = []
    for item in raw:
        if isinstance(item, str) and item.strip() and item.strip().upper() not in symbols:
            symbols.append(item.strip().upper())
    return symbols


def _target_of(quantity: Decimal) -> Target:
    return Target.LONG if quantity > 0 else Target.SHORT if quantity < 0 else Target.FLAT


def held_targets(strategy_id: int, symbols: Iterable[str]) -> dict[str, Target]:
    """The target each symbol's position really held by the strategy stands for."""
    held = dict(
        Position.objects.filter(strategy_id=strategy_id, instrument__symbol__in=list(symbols)).values_list(
            "instrument__symbol", "quantity"
        )
    )
    return {symbol: _target_of(held.get(symbol, Decimal(0))) for symbol in symbols}


def signal_data(signal: GeneratedSignal, *, closing: Target = Target.FLAT, entry_follows: bool = False) -> SignalData:
    """The generated signal as the intake takes a posted one; ``metadata.model`` is the strategy type.

    With ``closing`` (the side held), the exit that closes that position: the other side, sized by the
    intake to what is held, with no bracket; its id gains ``:close`` when the generated signal's own
    entry follows it.
    """
    metadata = {**signal.as_payload()["metadata"], "model": signal.strategy_type}
    entry = SignalData(
        external_id=signal.id,
        symbol=signal.symbol,
        signal_type=str(signal.signal_type),
        confidence_score=signal.confidence_score,
        position_size=signal.position_size,
        expires_at=signal.expires_at,
        stop_loss=signal.stop_loss,
        take_profit=signal.take_profit,
        metadata=metadata,
    )
    if closing == Target.FLAT:
        return entry
    return replace(
        entry,
        external_id=f"{signal.id}:close" if entry_follows else signal.id,
        signal_type="SELL" if closing == Target.LONG else "BUY",
        stop_loss=None,
        take_profit=None,
        metadata={**metadata, "target": str(Target.FLAT)} if entry_follows else metadata,
        closes_position=True,
    )


@dataclass
class LiveStrategy:
    strategy: Strategy
    version: int
    generator: SignalGenerator[Any]
    symbols: tuple[str, ...]


def _as_bar(row: Any) -> Bar:
    return Bar(row.symbol, row.minute.astimezone(UTC), row.open, row.high, row.low, row.close, row.volume)


class StrategyRunner:
    """The live generators of this process; ``bars_process`` is the whole work, ``on_bars`` only queues."""

    def __init__(self, *, refresh_seconds: float | None = None, warmup_bars: int | None = None) -> None:
        self.refresh_seconds = settings.STRATEGY_RUNNER_REFRESH_SECONDS if refresh_seconds is None else refresh_seconds
        self.warmup_bars = settings.STRATEGY_RUNNER_WARMUP_BARS if warmup_bars is None else warmup_bars
        self.live: dict[int, LiveStrategy] = {}
        self.by_symbol: dict[str, list[int]] = {}
        self._refreshed_at: datetime | None = None
        self._dirty = True
        self.signals_sent = 0
        self.dropped_batches = 0
        self._queue: queue.Queue[list[Bar]] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- wiring ----
    def mark_dirty(self, _event: dict[str, Any] | None = None) -> None:
        self._dirty = True

    def on_bars(self, bars: list[Bar]) -> None:
        """The manager's bar subscriber (feed's thread): queue the batch for the runner's thread."""
        try:
            self._queue.put_nowait(list(bars))
        except queue.Full:
            self.dropped_batches += 1
            logger.warning("strategy runner behind: dropped a batch of %d bars", len(bars))

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="strategy-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _serve(self) -> None:
        wait = max(0.5, settings.LOOP_HEARTBEAT_SECONDS / 2)
        try:
            while not self._stop.is_set():
                loops.beat(loops.STRATEGY_RUNNER)
                try:
                    bars = self._queue.get(timeout=wait)
                except queue.Empty:
                    continue
                with loops.iteration(loops.STRATEGY_RUNNER, scope="bars"):
                    close_old_connections()
                    self.bars_process(bars)
        finally:
            loops.stopped(loops.STRATEGY_RUNNER)
            connection.close()

    def drain(self) -> int:
        """Process every queued batch now, on the caller's thread (tests, shutdown); returns how many."""
        done = 0
        while True:
            try:
                bars = self._queue.get_nowait()
            except queue.Empty:
                return done
            self.bars_process(bars)
            done += 1

    # ---- the strategies ----
    def refresh(self, *, now: datetime | None = None, force: bool = False) -> None:
        """Bring the live set in line with the running and paused generator strategies (new versions rebuilt)."""
        now = now or timezone.now()
        due = self._refreshed_at is None or (now - self._refreshed_at).total_seconds() >= self.refresh_seconds
        if not (force or self._dirty or due):
            return
        self._dirty = False
        self._refreshed_at = now
        running = {
            s.pk: s
            for s in Strategy.objects.filter(
                status__in=LIVE_STATUSES, strategy_type__in=GENERATOR_TYPES
            ).select_related("owner", "account")
        }
        for strategy_id in [pk for pk in self.live if pk not in running]:
            del self.live[strategy_id]
        for strategy_id, strategy in running.items():
            current = self.live.get(strategy_id)
            symbols = tuple(strategy_symbols(strategy))
            if current is not None and current.version == strategy.version and current.symbols == symbols:
                current.strategy = strategy
                continue
            try:
                self.live[strategy_id] = self._build(strategy, symbols, now=now)
            except Exception as error:
                self.live.pop(strategy_id, None)
                loops.failed(loops.STRATEGY_RUNNER, error, scope=f"strategy-{strategy_id}")
        by_symbol: dict[str, list[int]] = {}
        for strategy_id, live in sorted(self.live.items()):
            for symbol in live.symbols:
                by_symbol.setdefault(symbol, []).append(strategy_id)
        self.by_symbol = by_symbol

    def _build(self, strategy: Strategy, symbols: tuple[str, ...], *, now: datetime) -> LiveStrategy:
        parameters = (strategy.configuration or {}).get("parameters") or {}
        generator = generator_build(strategy.strategy_type, parameters, strategy_key=strategy_key(strategy.pk))
        for symbol in symbols:
            # History only warms the indicators: the signals it makes were (or were not) sent at the time.
            rows = bar_list(symbol=symbol, until=now, limit=self.warmup_bars)
            generator.on_bars(_as_bar(row) for row in rows)
        for symbol, target in held_targets(strategy.pk, symbols).items():
            generator.set_target(symbol, target)
        return LiveStrategy(strategy=strategy, version=strategy.version, generator=generator, symbols=symbols)

    # ---- the bars ----
    def bars_process(self, bars: Iterable[Bar], *, now: datetime | None = None) -> list[TradingSignal]:
        """Feed each bar to the live generators of its symbol; send what they make. Returns the signals sent."""
        self.refresh(now=now)
        sent: list[TradingSignal] = []
        for bar in sorted(bars, key=lambda b: b.minute):
            for strategy_id in self.by_symbol.get(bar.symbol, ()):
                live = self.live.get(strategy_id)
                if live is None:
                    continue
                try:
                    generated = live.generator.on_bar(bar)
                    if generated is not None:
                        sent.extend(self._trade_to_target(live, generated))
                except Exception as error:
                    # This strategy's bar is lost; the others', and its next bars, go on.
                    loops.failed(loops.STRATEGY_RUNNER, error, scope=f"strategy-{strategy_id}")
                    self._realign(live, bar.symbol)
        return sent

    @staticmethod
    def _realign(live: LiveStrategy, symbol: str) -> None:
        """After a failure the generator may believe in a target nothing trades to: back to what is held."""
        try:
            live.generator.set_target(symbol, held_targets(live.strategy.pk, [symbol])[symbol])
        except Exception:
            logger.exception("could not realign strategy %s on %s with its position", live.strategy.pk, symbol)

    def _trade_to_target(self, live: LiveStrategy, generated: GeneratedSignal) -> list[TradingSignal]:
        """Close a position held on the other side (sized to it), then enter the target's side (running only)."""
        strategy, symbol = live.strategy, generated.symbol
        held = held_targets(strategy.pk, [symbol])[symbol]
        want = generated.target
        enters = want not in (Target.FLAT, held) and strategy.status == Strategy.Status.RUNNING
        sent: list[TradingSignal] = []
        after = held  # what the strategy will hold once what is sent has traded
        if held not in (Target.FLAT, want):
            closing = self._send(strategy, signal_data(generated, closing=held, entry_follows=enters))
            sent.append(closing)
            if closing.status == TradingSignal.Status.REJECTED:
                live.generator.set_target(symbol, held)  # nothing will trade
                return sent
            after = Target.FLAT
        if enters:
            entry = self._send(strategy, signal_data(generated))
            sent.append(entry)
            if entry.status != TradingSignal.Status.REJECTED:
                return sent
        # Refused, or a paused strategy that does not enter: the generator's belief is what will be held.
        live.generator.set_target(symbol, after)
        return sent

    def _send(self, strategy: Strategy, data: SignalData) -> TradingSignal:
        signal, _created = signal_receive(producer=strategy.owner, strategy=strategy, data=data)
        self.signals_sent += 1
        return signal


_runner: StrategyRunner | None = None
_runner_manager: MarketDataManager | None = None


def strategy_runner() -> StrategyRunner | None:
    """This process's runner, when a feed runs here."""
    return _runner


def strategy_runner_start(manager: MarketDataManager) -> None:
    """Attach the generators to this process's closed bars (MARKET_DATA_STREAM_SUBSCRIBERS): one runner per
    process and manager, for as long as the process lives (as the stop monitor)."""
    global _runner, _runner_manager
    if _runner is not None and _runner_manager is manager:
        return
    if _runner is not None:
        _runner.stop()
    runner = StrategyRunner()
    manager.subscribe_bars(runner.on_bars)

    def strategy_changed(message: dict[str, Any]) -> None:
        if message["type"].startswith("strategy."):
            runner.mark_dirty()

    bus.subscribe([bus.ALL_EVENTS], strategy_changed)
    runner.start()
    _runner, _runner_manager = runner, manager
