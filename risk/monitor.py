"""The live stop monitor: the pure StopMonitor fed from the market-data stream.

Levels are loaded from the database when the book changes (a ``position.updated``
event in this process) and at most every ``refresh_seconds`` otherwise (fills
booked by workers in other processes): never a query per tick. A breach calls
``risk.services.stop_breach_close`` on the same tick.
"""

import logging
import threading
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from risk.core.stops import StopBreach, StopMonitor, StopSpec, levels_for
from risk.models import RiskParameters, StopTrigger
from risk.services import stop_breach_close
from strategies.selectors import signal_levels_latest
from trading import bus, loops
from trading.events import EventType
from trading.marketdata.manager import MarketDataManager
from trading.models import Position

logger = logging.getLogger(__name__)


def stop_specs_load() -> list[StopSpec]:
    """One spec per open position: the latest signal's explicit levels, else the parameters' percentages."""
    positions = list(
        Position.objects.exclude(quantity=0)
        .filter(opened_at__isnull=False)
        .values_list("pk", "account_id", "strategy_id", "instrument__symbol", "quantity", "average_price", "opened_at")
    )
    by_account = {p.account_id: p for p in RiskParameters.objects.filter(account__isnull=False)}
    by_strategy = {p.strategy_id: p for p in RiskParameters.objects.filter(strategy__isnull=False)}
    fired = set(StopTrigger.objects.values_list("position_id", "position_opened_at"))
    explicit = signal_levels_latest(strategy_ids={p[2] for p in positions if p[2] is not None})
    specs = []
    for pk, account_id, strategy_id, symbol, quantity, average, opened_at in positions:
        if (pk, opened_at) in fired:
            continue
        parameters = by_strategy.get(strategy_id) or by_account.get(account_id) or RiskParameters()
        stop_loss, take_profit = explicit.get((strategy_id, symbol), (None, None))
        stop_loss, take_profit = levels_for(
            quantity=quantity,
            average_price=average,
            stop_loss_fraction=parameters.stop_loss_percentage,
            take_profit_fraction=parameters.take_profit_percentage,
            stop_loss=stop_loss,
            take_profit=take_profit,
        )
        specs.append(
            StopSpec(
                key=pk,
                symbol=symbol,
                quantity=quantity,
                opened_at=opened_at,
                stop_loss=stop_loss,
                take_profit=take_profit,
                trailing_fraction=parameters.trailing_stop_percentage or None,
            )
        )
    return specs


class StopMonitorRunner:
    """Handler for ``market_data().subscribe_all``: ``runner(PriceUpdate(symbol, price, size, at))``."""

    def __init__(self, *, refresh_seconds: float = 1.0) -> None:
        self.monitor = StopMonitor()
        self.refresh_seconds = refresh_seconds
        self._loaded_at = -float("inf")
        self._dirty = True
        self._lock = threading.Lock()
        self.breaches: int = 0

    def mark_dirty(self, _event: dict[str, Any] | None = None) -> None:
        self._dirty = True

    def refresh(self, *, force: bool = False) -> None:
        if not force and not self._dirty and time.monotonic() - self._loaded_at < self.refresh_seconds:
            return
        self._dirty = False
        self._loaded_at = time.monotonic()
        self.monitor.replace_all(stop_specs_load())

    def __call__(self, update: Any) -> list[StopBreach]:
        return self.on_price(update.symbol, update.price, update.at)

    def on_price(self, symbol: str, price: Decimal, at: datetime | None = None) -> list[StopBreach]:
        """Check one tick; a failure (loading levels, closing a position) is recorded and survived."""
        at = at or timezone.now()
        try:
            with self._lock:
                self.refresh()
                breaches = self.monitor.on_price(symbol, price, at)
        except Exception as error:
            # Levels could not be loaded: the next reload (refresh_seconds on) tries again.
            loops.failed(loops.STOP_MONITOR, error, scope="levels")
            return []
        if self._failing:
            loops.succeeded(loops.STOP_MONITOR, scope="levels")
        for breach in breaches:
            self.breaches += 1
            self._act(breach)
        return breaches

    @property
    def _failing(self) -> bool:
        return loops.is_failing(loops.STOP_MONITOR)

    def heartbeat(self) -> None:
        """Beat from the feed's flushes: the monitor runs on the feed's thread, on every tick."""
        loops.beat(loops.STOP_MONITOR)

    @staticmethod
    def _act(breach: StopBreach) -> None:
        scope = f"position-{breach.key}"
        with loops.iteration(loops.STOP_MONITOR, scope=scope, kind=breach.kind, position_id=breach.key):
            # On failure the marker row was not written, so the next reload re-arms the position and it fires again.
            stop_breach_close(
                position_id=breach.key,
                opened_at=breach.opened_at,
                kind=breach.kind,
                trigger_price=breach.trigger_price,
                price=breach.price,
                now=breach.at,
            )


_runner: StopMonitorRunner | None = None
_runner_manager: MarketDataManager | None = None


def stop_monitor_start(manager: MarketDataManager) -> None:
    """Attach the stop monitor to this process's price stream (MARKET_DATA_STREAM_SUBSCRIBERS): every tick,
    and every flush for its heartbeat. One monitor per process, for as long as it lives."""
    global _runner, _runner_manager
    if _runner is not None and _runner_manager is manager:
        return
    runner = StopMonitorRunner()
    manager.subscribe_all(runner)
    manager.subscribe_flush(runner.heartbeat)
    bus.subscribe([EventType.POSITION_UPDATED], runner.mark_dirty)
    _runner, _runner_manager = runner, manager
