"""The Interactive Brokers adapter: TWS / IB Gateway through ib_async (ib_insync where only that is installed).

Threading. ib_async is asyncio code; our callers (Celery tasks, services) are
synchronous. One ``IB`` per process lives on its own event loop in a daemon
thread; every call is a coroutine handed over with
``asyncio.run_coroutine_threadsafe(...).result(timeout)``. The connection is
made lazily by the first call and remade on demand after it drops. Instances of
``InteractiveBrokersBroker`` are cheap (``broker_get()`` makes one per call) and
share that one session, keyed by (host, port, client id).

Identity. Our client order id travels as the IB ``orderRef``; ``place_order``
first looks for a trade or execution carrying it (open and completed trades plus
executions since connect, which TWS replays on every connect) and returns that
with ``already_held=True`` instead of placing a twin. ``broker_order_id`` is
``"<clientId>-<orderId>"``, stable for the order's life and across reconnects.

Fills. An execution becomes a ``BrokerFill`` once its commission report arrives
(``execDetailsEvent`` then ``commissionReportEvent``). Fills are kept per
process by exec id, returned by ``fills_since`` and handed to ``on_fill`` on a
separate dispatcher thread, never on the IB loop, so a slow callback (a database
transaction) cannot stall the socket. Fills missed while disconnected arrive
with the executions TWS replays on reconnect and are dispatched then.

Errors (IB code -> our category):

=========================================  ===============  ==========================
IB codes                                   category         surfaced as
=========================================  ===============  ==========================
refused socket, dropped socket, timeouts   CONNECTION       BrokerError, retryable
326 client id in use, 502 cannot connect,  CONNECTION       BrokerError, retryable
504 not connected, 1100 connectivity lost,
2110 TWS-server connectivity broken
100 max message rate exceeded              RATE_LIMIT       BrokerError, retryable
321 read-only API / request not allowed,   AUTHENTICATION   BrokerError, not retryable
10141 paper-trading disclaimer pending,
10197 competing live session
201 order rejected and any other order     REJECTION        BrokerOrderState(accepted=False,
error that ends the order unfilled                          reject_code="broker_rejected")
202 order canceled                         (none)           state with is_open=False
2100-2199 and ib_async's warning codes     (none)           logged only
anything else                              UNKNOWN          BrokerError, not retryable
=========================================  ===============  ==========================

After a drop is noticed the next call raises ``BrokerError(CONNECTION,
"broker_disconnected", ...)`` once (what was in flight is unknown; the caller
retries), and the call after that reconnects.

Settings (read with defaults, so they work before settings.py names them):
``IB_HOST`` (127.0.0.1), ``IB_PORT`` (7497), ``IB_CLIENT_ID`` (17),
``IB_ACCOUNT`` (empty: the single managed account), ``IB_TIMEOUT_SECONDS`` (10).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.conf import settings

from trading.brokers.base import (
    Broker,
    BrokerError,
    BrokerErrorCategory,
    BrokerFill,
    BrokerOrderRequest,
    BrokerOrderState,
    BrokerPosition,
    PlaceResult,
)
from trading.core.orders import OrderType

try:
    import ib_async as ibl
except ImportError:  # pragma: no cover - older installs
    import ib_insync as ibl  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

T = TypeVar("T")

CONNECTION_CODES = frozenset({326, 502, 504, 1100, 2110})
RATE_LIMIT_CODES = frozenset({100})
AUTHENTICATION_CODES = frozenset({321, 10141, 10197})
CANCEL_CODES = frozenset({161, 202, 10147, 10148, 10149})  # about a cancel, never a rejection
WARNING_CODES = frozenset({105, 110, 165, 329, 399, 404, 434, 492, 10167})
CODE_NAMES = {
    BrokerErrorCategory.CONNECTION: "broker_disconnected",
    BrokerErrorCategory.RATE_LIMIT: "broker_rate_limited",
    BrokerErrorCategory.AUTHENTICATION: "broker_not_authorized",
    BrokerErrorCategory.REJECTION: "broker_rejected",
    BrokerErrorCategory.UNKNOWN: "broker_error",
}
PENDING_STATUSES = frozenset({"PendingSubmit", "ApiPending"})
UNFILLED_END_STATUSES = frozenset({"Cancelled", "ApiCancelled", "Inactive"})
LAST_PRICE_TICKS = frozenset({4, 68})  # last, delayed last

FillCallback = Callable[[BrokerFill], None]
PriceCallback = Callable[[str, Decimal, datetime], None]


def error_category(code: int) -> BrokerErrorCategory | None:
    """Our category for an IB error code; None for warnings, cancels and plain order rejections."""
    if code in WARNING_CODES or (2100 <= code < 2200 and code != 2110):
        return None
    if code in CONNECTION_CODES:
        return BrokerErrorCategory.CONNECTION
    if code in RATE_LIMIT_CODES:
        return BrokerErrorCategory.RATE_LIMIT
    if code in AUTHENTICATION_CODES:
        return BrokerErrorCategory.AUTHENTICATION
    return None


def _decimal(value: Any) -> Decimal:
    """IB hands us floats; go through str so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        return value
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return Decimal(0)
    return Decimal(str(value))


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class IBConfig:
    host: str
    port: int
    client_id: int
    account: str
    timeout: float

    @classmethod
    def from_settings(cls) -> IBConfig:
        return cls(
            host=getattr(settings, "IB_HOST", "127.0.0.1"),
            port=int(getattr(settings, "IB_PORT", 7497)),
            client_id=int(getattr(settings, "IB_CLIENT_ID", 17)),
            account=getattr(settings, "IB_ACCOUNT", "") or "",
            timeout=float(getattr(settings, "IB_TIMEOUT_SECONDS", 10)),
        )


@dataclass(frozen=True)
class _OrderError:
    code: int
    message: str


def _ib_order(request: BrokerOrderRequest, account: str) -> Any:
    action = str(request.side)
    quantity = float(request.quantity)
    extra = {"orderRef": request.client_order_id, "tif": request.time_in_force, "account": account}
    if request.order_type == OrderType.MARKET:
        return ibl.MarketOrder(action, quantity, **extra)
    if request.order_type == OrderType.LIMIT:
        return ibl.LimitOrder(action, quantity, float(request.limit_price), **extra)
    if request.order_type == OrderType.STOP:
        return ibl.StopOrder(action, quantity, float(request.stop_price), **extra)
    if request.order_type == OrderType.TRAILING_STOP:
        # IB trails by an amount (auxPrice) or a percent (trailingPercent, in percent like ours).
        trail = (
            {"auxPrice": float(request.trail_amount)}
            if request.trail_amount is not None
            else {"trailingPercent": float(request.trail_percent)}
        )
        return ibl.Order(action=action, totalQuantity=quantity, orderType="TRAIL", **trail, **extra)
    return ibl.StopLimitOrder(action, quantity, float(request.limit_price), float(request.stop_price), **extra)


class IBSession:
    """One ib_async connection on its own loop and thread; all IB state is touched on that loop only."""

    def __init__(self, config: IBConfig) -> None:
        self.config = config
        self.on_fill: FillCallback | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ib-async", daemon=True)
        self._thread.start()
        self._dispatcher = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ib-dispatch")
        self._fills: dict[str, BrokerFill] = {}
        self._order_errors: dict[int, _OrderError] = {}
        self._discarded: set[int] = set()  # order ids a retryable error made us give up on
        self._known: dict[str, BrokerOrderState] = {}  # last state per client order id, survives reconnects
        self._updates: dict[int, int] = {}  # order id -> openOrder/orderStatus messages seen
        self._price_callbacks: dict[str, list[PriceCallback]] = {}
        self._tickers: dict[str, Any] = {}
        self._lost: str | None = None
        self._closing = False
        self._connect_errors: list[_OrderError] = []
        self.ib: Any = self.run(self._create(), timeout=10)

    # -- plumbing ---------------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the IB loop and wait for it from this (synchronous) thread."""
        limit = (timeout if timeout is not None else self.config.timeout) * 3 + 5  # the coroutine times itself
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(limit)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise self._connection_error(f"Interactive Brokers did not answer within {limit:g} s.") from None

    async def _create(self) -> Any:
        ib = ibl.IB()
        self._changed = asyncio.Event()
        self._connect_lock = asyncio.Lock()
        ib.errorEvent += self._on_error
        ib.orderStatusEvent += self._on_status
        ib.openOrderEvent += self._on_status
        ib.commissionReportEvent += self._on_commission
        ib.disconnectedEvent += self._on_disconnected
        ib.pendingTickersEvent += self._on_tickers
        return ib

    def close(self) -> None:
        async def disconnect() -> None:
            self._closing = True
            self.ib.disconnect()

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(disconnect(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._dispatcher.shutdown(wait=True)

    def _connection_error(self, sentence: str) -> BrokerError:
        return BrokerError(BrokerErrorCategory.CONNECTION, "broker_disconnected", sentence)

    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def _bump(self) -> None:
        """Wake every waiter: something about orders or the connection changed."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, ready: Callable[[], T | None], what: str) -> T:
        deadline = self._loop.time() + self.config.timeout
        while True:
            value = ready()
            if value:
                return value
            if not self.ib.isConnected():
                self._lost = None  # this call reports the drop
                raise self._connection_error(
                    f"The connection to Interactive Brokers at {self._where()} dropped; could not {what}."
                )
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                raise self._connection_error(
                    f"Interactive Brokers did not {what} within {self.config.timeout:g} s; it may still arrive."
                )
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    # -- connection ----------------------------------------------------------------

    async def connected(self) -> Any:
        if self._lost is not None:
            reason, self._lost = self._lost, None
            raise self._connection_error(reason)
        if self.ib.isConnected():
            return self.ib
        async with self._connect_lock:
            if self.ib.isConnected():
                return self.ib
            self._connect_errors = []
            self._closing = False
            try:
                await self.ib.connectAsync(
                    self.config.host,
                    self.config.port,
                    clientId=self.config.client_id,
                    timeout=self.config.timeout,
                    account=self.config.account,
                )
            except ConnectionRefusedError:
                raise self._connection_error(
                    f"Interactive Brokers refused the connection at {self._where()}; is TWS or IB Gateway running "
                    "with the API enabled?"
                ) from None
            except (TimeoutError, ConnectionError, OSError) as error:
                raise self._connect_failure(error) from None
            logger.info("Connected to Interactive Brokers at %s as client %s", self._where(), self.config.client_id)
            self._after_connect()
            return self.ib

    def _connect_failure(self, error: BaseException) -> BrokerError:
        for seen in reversed(self._connect_errors):
            category = error_category(seen.code)
            if category is not None:
                return BrokerError(
                    category, CODE_NAMES[category], f"Interactive Brokers: {seen.message} ({seen.code})."
                )
        detail = str(error) or type(error).__name__
        return self._connection_error(f"Could not connect to Interactive Brokers at {self._where()}: {detail}.")

    def _after_connect(self) -> None:
        # Executions replayed on connect: deliver those that completed while we were away.
        for fill in self.ib.fills():
            if fill.commissionReport.execId:
                self._fill_record(fill)
        for symbol in list(self._tickers):
            self._tickers.pop(symbol)
            self._loop.create_task(self._resubscribe(symbol))

    async def _resubscribe(self, symbol: str) -> None:
        try:
            await self._subscribe(symbol)
        except Exception:
            logger.exception("Could not resubscribe to %s prices after reconnecting", symbol)

    # -- events (on the IB loop) ----------------------------------------------------------

    def _on_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        if not self.ib.isConnected():
            self._connect_errors.append(_OrderError(code, message))
        if req_id > 0 and code not in WARNING_CODES and not 2100 <= code < 2200:
            self._order_errors[req_id] = _OrderError(code, message)
        self._bump()

    def _on_status(self, trade: Any) -> None:
        self._updates[trade.order.orderId] = self._updates.get(trade.order.orderId, 0) + 1
        if trade.order.orderRef:
            self._known[trade.order.orderRef] = self._trade_state(trade)
        self._bump()

    def _on_commission(self, trade: Any, fill: Any, report: Any) -> None:
        self._fill_record(fill)
        self._bump()

    def _on_disconnected(self) -> None:
        if not self._closing:
            self._lost = f"The connection to Interactive Brokers at {self._where()} dropped; the call may be retried."
            logger.warning("Interactive Brokers connection at %s dropped", self._where())
        self._bump()

    def _on_tickers(self, tickers: Iterable[Any]) -> None:
        for ticker in tickers:
            symbol = ticker.contract.symbol
            for tick in ticker.ticks:
                if tick.tickType in LAST_PRICE_TICKS and tick.price > 0:
                    price, moment = _decimal(tick.price), _aware(tick.time)
                    for callback in self._price_callbacks.get(symbol, ()):
                        self._dispatch(callback, symbol, price, moment)

    def _dispatch(self, callback: Callable[..., None], *args: Any) -> None:
        def call() -> None:
            try:
                callback(*args)
            except Exception:
                logger.exception("Interactive Brokers callback %r failed", callback)

        self._dispatcher.submit(call)

    def _fill_record(self, fill: Any) -> None:
        execution = fill.execution
        if execution.execId in self._fills or not execution.orderRef:
            return
        broker_fill = BrokerFill(
            exec_id=execution.execId,
            client_order_id=execution.orderRef,
            quantity=_decimal(execution.shares),
            price=_decimal(execution.price),
            commission=_decimal(fill.commissionReport.commission),
            executed_at=_aware(execution.time or fill.time),
        )
        self._fills[execution.execId] = broker_fill
        if self.on_fill is not None:
            self._dispatch(self.on_fill, broker_fill)

    # -- order state ------------------------------------------------------------------

    def _trade_state(self, trade: Any) -> BrokerOrderState:
        order, status = trade.order, trade.orderStatus
        from_fills = sum((_decimal(f.execution.shares) for f in trade.fills), Decimal(0))
        filled = max(_decimal(status.filled), from_fills)
        error = self._order_errors.get(order.orderId)
        rejected = (
            status.status in UNFILLED_END_STATUSES
            and filled == 0
            and error is not None
            and error.code not in CANCEL_CODES
        )
        return BrokerOrderState(
            client_order_id=order.orderRef,
            broker_order_id=f"{order.clientId or self.config.client_id}-{order.orderId}",
            accepted=not rejected,
            is_open=trade.isActive(),
            filled_quantity=filled,
            reject_code="broker_rejected" if rejected else "",
            reject_message=f"{error.message} (IB error {error.code})" if rejected and error else "",
        )

    def _trade_for(self, client_order_id: str) -> Any:
        trades = [
            t
            for t in self.ib.trades()
            if t.order.orderRef == client_order_id and t.order.orderId not in self._discarded
        ]
        return trades[-1] if trades else None

    def _fills_for(self, client_order_id: str) -> tuple[BrokerFill, ...]:
        return tuple(f for f in self._fills.values() if f.client_order_id == client_order_id)

    def state_for(self, client_order_id: str) -> BrokerOrderState | None:
        trade = self._trade_for(client_order_id)
        if trade is not None:
            return self._trade_state(trade)
        known = self._known.get(client_order_id)
        fills = self._fills_for(client_order_id)
        if known is not None:
            filled = max(known.filled_quantity, sum((f.quantity for f in fills), Decimal(0)))
            # Not among the open orders TWS replayed on connect, so no longer open.
            return BrokerOrderState(
                client_order_id=client_order_id,
                broker_order_id=known.broker_order_id,
                accepted=known.accepted,
                is_open=False,
                filled_quantity=filled,
                reject_code=known.reject_code,
                reject_message=known.reject_message,
            )
        if fills:
            return BrokerOrderState(
                client_order_id=client_order_id,
                broker_order_id="",
                accepted=True,
                is_open=False,
                filled_quantity=sum((f.quantity for f in fills), Decimal(0)),
            )
        return None

    def _raise_for_order_error(self, trade: Any) -> None:
        error = self._order_errors.get(trade.order.orderId)
        category = error_category(error.code) if error else None
        if error is None or category is None:
            return
        self._discarded.add(trade.order.orderId)
        self._known.pop(trade.order.orderRef, None)
        raise BrokerError(category, CODE_NAMES[category], f"Interactive Brokers: {error.message} ({error.code}).")

    # -- operations (coroutines on the IB loop) ----------------------------------------------

    async def place(self, request: BrokerOrderRequest) -> PlaceResult:
        ib = await self.connected()
        held = self.state_for(request.client_order_id)
        if held is not None:
            return PlaceResult(state=held, fills=self._fills_for(request.client_order_id), already_held=True)
        contract = ibl.Stock(request.symbol, "SMART", "USD")
        try:
            trade = ib.placeOrder(contract, _ib_order(request, self.config.account))
        except ConnectionError:
            raise self._connection_error(
                f"The connection to Interactive Brokers at {self._where()} dropped before the order was sent."
            ) from None

        def acknowledged() -> bool:
            self._raise_for_order_error(trade)
            return trade.orderStatus.status not in PENDING_STATUSES

        await self._wait_until(acknowledged, "acknowledge the order")
        state = self._trade_state(trade)
        self._known[request.client_order_id] = state
        return PlaceResult(state=state, fills=self._fills_for(request.client_order_id))

    async def cancel(self, client_order_id: str) -> BrokerOrderState:
        ib = await self.connected()
        trade = self._trade_for(client_order_id)
        if trade is None:
            state = self.state_for(client_order_id)
            if state is None:
                raise BrokerError(
                    BrokerErrorCategory.REJECTION,
                    "unknown_order",
                    f"Interactive Brokers holds no order {client_order_id}.",
                )
            return state
        if trade.isActive():
            try:
                ib.cancelOrder(trade.order)
            except ConnectionError:
                raise self._connection_error(
                    f"The connection to Interactive Brokers at {self._where()} dropped before the cancel was sent."
                ) from None

            def ended() -> bool:
                self._raise_for_order_error(trade)
                return trade.isDone()

            await self._wait_until(ended, "confirm the cancel")
        return self._trade_state(trade)

    async def modify(
        self,
        client_order_id: str,
        quantity: Decimal | None,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> BrokerOrderState:
        ib = await self.connected()
        trade = self._trade_for(client_order_id)
        if trade is None or not trade.isActive():
            raise BrokerError(
                BrokerErrorCategory.REJECTION, "order_not_working", f"Order {client_order_id} is not working."
            )
        filled = self._trade_state(trade).filled_quantity
        if quantity is not None and quantity <= filled:
            raise BrokerError(
                BrokerErrorCategory.REJECTION,
                "quantity_below_filled",
                f"{filled} of {client_order_id} are filled already.",
            )
        order = trade.order
        if quantity is not None:
            order.totalQuantity = float(quantity)
        if limit_price is not None:
            order.lmtPrice = float(limit_price)
        if stop_price is not None:
            order.auxPrice = float(stop_price)
        updates_before = self._updates.get(order.orderId, 0)
        try:
            ib.placeOrder(trade.contract, order)  # same order id: a modification
        except ConnectionError:
            raise self._connection_error(
                f"The connection to Interactive Brokers at {self._where()} dropped before the change was sent."
            ) from None

        def confirmed() -> bool:
            self._raise_for_order_error(trade)
            return self._updates.get(order.orderId, 0) > updates_before

        await self._wait_until(confirmed, "confirm the change")
        return self._trade_state(trade)

    async def fills_for(self, client_order_id: str) -> list[BrokerFill]:
        await self.connected()
        return list(self._fills_for(client_order_id))

    async def is_connected(self) -> bool:
        return bool(self.ib.isConnected())

    async def find(self, client_order_id: str) -> BrokerOrderState | None:
        await self.connected()
        return self.state_for(client_order_id)

    async def open_orders(self) -> list[BrokerOrderState]:
        ib = await self.connected()
        return [self._trade_state(t) for t in ib.openTrades()]

    async def fills_since(self, since: datetime) -> list[BrokerFill]:
        await self.connected()
        return sorted((f for f in self._fills.values() if f.executed_at >= since), key=lambda f: f.executed_at)

    async def positions(self) -> list[BrokerPosition]:
        ib = await self.connected()
        return [
            BrokerPosition(symbol=p.contract.symbol, quantity=_decimal(p.position), average_cost=_decimal(p.avgCost))
            for p in ib.positions(self.config.account)
            if p.position
        ]

    async def account_values(self) -> dict[str, Decimal]:
        ib = await self.connected()
        values: dict[str, Decimal] = {}
        for item in ib.accountValues(self.config.account):
            key = item.tag if item.currency in ("", "USD") else f"{item.tag}:{item.currency}"
            try:
                values[key] = Decimal(item.value)
            except InvalidOperation:
                continue  # text values such as AccountType
        return values

    async def subscribe_prices(self, symbols: Iterable[str], callback: PriceCallback) -> None:
        await self.connected()
        for symbol in symbols:
            self._price_callbacks.setdefault(symbol, []).append(callback)
            if symbol not in self._tickers:
                await self._subscribe(symbol)

    async def _subscribe(self, symbol: str) -> None:
        contract = ibl.Stock(symbol, "SMART", "USD")
        qualified = await asyncio.wait_for(self.ib.qualifyContractsAsync(contract), self.config.timeout)
        if not qualified or qualified[0] is None:
            raise BrokerError(
                BrokerErrorCategory.REJECTION, "unknown_symbol", f"Interactive Brokers knows no stock {symbol}."
            )
        self._tickers[symbol] = self.ib.reqMktData(qualified[0])


_sessions: dict[IBConfig, IBSession] = {}
_sessions_lock = threading.Lock()


def ib_session(config: IBConfig | None = None) -> IBSession:
    """The process's session for these settings, started on first use."""
    config = config or IBConfig.from_settings()
    with _sessions_lock:
        session = _sessions.get(config)
        if session is None:
            session = _sessions[config] = IBSession(config)
        return session


def ib_sessions_close() -> None:
    """Disconnect and stop every session (tests, worker shutdown)."""
    with _sessions_lock:
        sessions = list(_sessions.values())
        _sessions.clear()
    for session in sessions:
        session.close()


class InteractiveBrokersBroker(Broker):
    name = "interactive_brokers"

    def __init__(self, config: IBConfig | None = None) -> None:
        self.session = ib_session(config)

    @classmethod
    def sessions_close(cls) -> None:
        ib_sessions_close()

    @property
    def on_fill(self) -> FillCallback | None:
        """Called with each new fill, on a dispatcher thread; shared by every instance in the process."""
        return self.session.on_fill

    @on_fill.setter
    def on_fill(self, callback: FillCallback | None) -> None:
        self.session.on_fill = callback

    def place_order(self, request: BrokerOrderRequest, *, now: datetime) -> PlaceResult:
        return self.session.run(self.session.place(request))

    def cancel_order(self, client_order_id: str, *, now: datetime) -> BrokerOrderState:
        return self.session.run(self.session.cancel(client_order_id))

    def modify_order(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        now: datetime,
    ) -> BrokerOrderState:
        return self.session.run(self.session.modify(client_order_id, quantity, limit_price, stop_price))

    def find_order(self, client_order_id: str) -> BrokerOrderState | None:
        return self.session.run(self.session.find(client_order_id))

    def fills_for(self, client_order_id: str) -> list[BrokerFill]:
        return self.session.run(self.session.fills_for(client_order_id))

    def is_connected(self) -> bool:
        return self.session.run(self.session.is_connected())

    def open_orders(self) -> list[BrokerOrderState]:
        """Every open order this client id sees (ours carry a client order id; others have it empty)."""
        return self.session.run(self.session.open_orders())

    def fills_since(self, since: datetime) -> list[BrokerFill]:
        return self.session.run(self.session.fills_since(since))

    def positions(self) -> list[BrokerPosition]:
        return self.session.run(self.session.positions())

    def account_values(self) -> dict[str, Decimal]:
        return self.session.run(self.session.account_values())

    def subscribe_prices(self, symbols: Iterable[str], callback: PriceCallback) -> None:
        """Call callback(symbol, last price, time) on each last-price tick, on a dispatcher thread."""
        self.session.run(self.session.subscribe_prices(list(symbols), callback))
