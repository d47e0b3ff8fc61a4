"""A fake TWS / IB Gateway: enough of the TWS socket protocol for the real ib_async client.

It speaks server version 176 as written down in shared/notes/ib-tws-protocol.md:
the handshake, managedAccounts + nextValidId, answers to the startup requests,
placeOrder -> OPEN_ORDER / ORDER_STATUS / EXECUTION_DATA / COMMISSION_REPORT,
cancels, positions, account values and price ticks. Knobs let a test reject the
next order, drop the connection, delay acknowledgements and fill resting orders.

The server runs on its own event loop in its own thread, so synchronous code
(and a client on another loop) can talk to it. Every message it receives is
kept in ``received`` as a list of string fields.
"""

from __future__ import annotations

import asyncio
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

SERVER_VERSION = 176
ACCOUNT = "DU123456"

# Incoming message ids (client -> server).
REQ_MKT_DATA, CANCEL_MKT_DATA, PLACE_ORDER, CANCEL_ORDER, REQ_OPEN_ORDERS = 1, 2, 3, 4, 5
REQ_ACCOUNT_UPDATES, REQ_EXECUTIONS, REQ_IDS, REQ_CONTRACT_DATA, REQ_CURRENT_TIME = 6, 7, 8, 9, 49
REQ_POSITIONS, START_API, REQ_ACCOUNT_UPDATES_MULTI, REQ_COMPLETED_ORDERS = 61, 71, 76, 99

RESTING_TYPES = frozenset({"LMT", "STP", "STP LMT"})


def _frame(fields: list[Any]) -> bytes:
    payload = b"".join(str(f).encode() + b"\0" for f in fields)
    return struct.pack(">I", len(payload)) + payload


def _con_id(symbol: str) -> int:
    return 1000 + sum(symbol.encode())


def _num(value: Decimal | float | int | str) -> str:
    return str(value)


@dataclass
class FakeOrder:
    order_id: int
    client_id: int
    perm_id: int
    symbol: str
    action: str
    quantity: Decimal
    order_type: str
    limit_price: str
    aux_price: str
    tif: str
    account: str
    order_ref: str
    status: str = "Submitted"
    filled: Decimal = Decimal(0)
    average_price: Decimal = Decimal(0)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def con_id(self) -> int:
        return _con_id(self.symbol)


@dataclass
class FakeExecution:
    order: FakeOrder
    exec_id: str
    shares: Decimal
    price: Decimal
    commission: Decimal
    time: str


@dataclass
class _Session:
    writer: asyncio.StreamWriter
    client_id: int = -1
    market_data: dict[int, str] = field(default_factory=dict)

    def send(self, *fields: Any) -> None:
        if not self.writer.is_closing():
            self.writer.write(_frame(list(fields)))


class FakeTWS:
    """An asyncio TCP server on 127.0.0.1 that answers like TWS (server version 176)."""

    def __init__(self, account: str = ACCOUNT) -> None:
        self.account = account
        self.received: list[list[str]] = []
        self.fill_prices: dict[str, Decimal] = {}
        self.default_fill_price = Decimal("100")
        self.commission = Decimal("1.25")
        self.orders: dict[int, FakeOrder] = {}
        self.executions: list[FakeExecution] = []
        self.positions: list[tuple[str, Decimal, Decimal]] = []
        self.account_values: dict[str, str] = {"NetLiquidation": "100000.00", "TotalCashValue": "100000.00"}
        self.connections = 0
        self._sessions: list[_Session] = []
        self._next_order_id = 1
        self._next_perm_id = 900_001
        self._next_exec = 1
        self._reject: tuple[int, str] | None = None
        self._ack_delay = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> int:
        """Start listening on an ephemeral port of 127.0.0.1 and return the port."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-tws", daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._handle, "127.0.0.1", 0))
        return self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._loop is None:
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._loop.close()
        self._loop = None

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for session in list(self._sessions):
            session.writer.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _call(self, coro: Any, timeout: float = 5.0) -> Any:
        assert self._loop is not None, "FakeTWS is not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # -- knobs -------------------------------------------------------------------

    def reject_next(self, code: int = 201, message: str = "Order rejected - reason:Not enough buying power") -> None:
        """Answer the next placeOrder with this error instead of accepting it."""
        with self._lock:
            self._reject = (code, message)

    def delay_acks(self, seconds: float) -> None:
        """Wait this long before answering each later placeOrder."""
        with self._lock:
            self._ack_delay = seconds

    def set_fill_price(self, symbol: str, price: Decimal) -> None:
        with self._lock:
            self.fill_prices[symbol] = Decimal(price)

    def set_positions(self, positions: list[tuple[str, Decimal, Decimal]]) -> None:
        """(symbol, quantity, average cost) rows for the next reqPositions."""
        with self._lock:
            self.positions = list(positions)

    def set_account_values(self, values: dict[str, Any]) -> None:
        """USD account values (key -> value) for the next account update requests."""
        with self._lock:
            self.account_values = {key: str(value) for key, value in values.items()}

    def drop_connection(self) -> None:
        """Close every client socket now, as a crashed or restarted TWS would."""
        self._call(self._drop())

    async def _drop(self) -> None:
        for session in list(self._sessions):
            session.writer.close()
        self._sessions.clear()

    def fill(self, order_id: int, price: Decimal, quantity: Decimal | None = None) -> None:
        """Fill a resting order (all that is left unless quantity says otherwise)."""
        self._call(self._fill_now(order_id, Decimal(price), quantity))

    async def _fill_now(self, order_id: int, price: Decimal, quantity: Decimal | None) -> None:
        order = self.orders[order_id]
        self._execute(order, price, quantity if quantity is not None else order.remaining)

    def tick(self, symbol: str, price: Decimal, tick_type: int = 4) -> int:
        """Send a TICK_PRICE to every market data subscription for symbol; returns how many got it."""
        return self._call(self._tick(symbol, Decimal(price), tick_type))

    async def _tick(self, symbol: str, price: Decimal, tick_type: int) -> int:
        sent = 0
        for session in self._sessions:
            for req_id, subscribed in session.market_data.items():
                if subscribed == symbol:
                    session.send(1, 6, req_id, tick_type, _num(price), 100, 0)
                    sent += 1
        return sent

    # -- assertions helpers ------------------------------------------------------

    def messages(self, msg_id: int) -> list[list[str]]:
        """Received messages with this message id."""
        return [fields for fields in list(self.received) if fields and fields[0] == str(msg_id)]

    def placed(self) -> list[list[str]]:
        return self.messages(PLACE_ORDER)

    def order_by_ref(self, order_ref: str) -> FakeOrder | None:
        return next((o for o in self.orders.values() if o.order_ref == order_ref), None)

    # -- protocol ------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(writer)
        self._sessions.append(session)
        self.connections += 1
        try:
            prefix = await reader.readexactly(4)
            if prefix != b"API\0":
                return
            await self._read_fields(reader)  # "v157..178"
            now = datetime.now(UTC).strftime("%Y%m%d %H:%M:%S UTC")
            session.send(SERVER_VERSION, now)
            while True:
                fields = await self._read_fields(reader)
                self.received.append(fields)
                await self._dispatch(session, fields)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            if session in self._sessions:
                self._sessions.remove(session)
            writer.close()

    @staticmethod
    async def _read_fields(reader: asyncio.StreamReader) -> list[str]:
        size = struct.unpack(">I", await reader.readexactly(4))[0]
        payload = await reader.readexactly(size)
        fields = payload.decode(errors="backslashreplace").split("\0")
        fields.pop()
        return fields

    async def _dispatch(self, session: _Session, fields: list[str]) -> None:
        msg_id = int(fields[0])
        if msg_id == START_API:
            session.client_id = int(fields[2])
            session.send(15, 1, self.account)
            session.send(9, 1, self._next_order_id)
        elif msg_id == REQ_IDS:
            session.send(9, 1, self._next_order_id)
        elif msg_id == REQ_CURRENT_TIME:
            session.send(49, 1, int(time.time()))
        elif msg_id == REQ_POSITIONS:
            for symbol, quantity, average_cost in self.positions:
                session.send(
                    61, 3, self.account, _con_id(symbol), symbol, "STK", "", 0, "", "", "SMART", "USD", symbol, symbol,
                    _num(quantity), _num(average_cost),
                )  # fmt: skip
            session.send(62, 1)
        elif msg_id == REQ_OPEN_ORDERS:
            for order in self.orders.values():
                if order.client_id == session.client_id and order.status in {"Submitted", "PreSubmitted"}:
                    self._send_open_order(session, order)
                    self._send_status(session, order)
            session.send(53, 1)
        elif msg_id == REQ_COMPLETED_ORDERS:
            session.send(102)
        elif msg_id == REQ_ACCOUNT_UPDATES:
            if fields[2] in {"1", "True"}:
                for key, value in self.account_values.items():
                    session.send(6, 2, key, value, "USD", self.account)
                session.send(54, 1, self.account)
        elif msg_id == REQ_ACCOUNT_UPDATES_MULTI:
            req_id = fields[2]
            for key, value in self.account_values.items():
                session.send(73, 1, req_id, self.account, "", key, value, "USD")
            session.send(74, 1, req_id)
        elif msg_id == REQ_EXECUTIONS:
            req_id = int(fields[2])
            for execution in self.executions:
                if execution.order.client_id == session.client_id:
                    self._send_execution(session, execution, req_id)
                    self._send_commission(session, execution)
            session.send(55, 1, req_id)
        elif msg_id == REQ_CONTRACT_DATA:
            req_id, symbol = fields[2], fields[4]
            details: list[Any] = [""] * 40
            details[0:14] = [
                10,
                req_id,
                symbol,
                "STK",
                "",
                0,
                "",
                "SMART",
                "USD",
                symbol,
                "NMS",
                symbol,
                _con_id(symbol),
                "0.01",
            ]
            details[14] = ""  # multiplier
            details[20] = "NASDAQ"  # primaryExchange
            details[30] = 0  # no security ids
            session.send(*details)
            session.send(52, 1, req_id)
        elif msg_id == REQ_MKT_DATA:
            session.market_data[int(fields[2])] = fields[4]
        elif msg_id == CANCEL_MKT_DATA:
            session.market_data.pop(int(fields[2]), None)
        elif msg_id == PLACE_ORDER:
            delay = self._ack_delay
            if delay:
                asyncio.get_running_loop().call_later(delay, self._place, session, fields)
            else:
                self._place(session, fields)
        elif msg_id == CANCEL_ORDER:
            self._cancel(session, int(fields[2]))
        # Anything else (reqMarketDataType, ...) is ignored, as the note says TWS may be.

    def _place(self, session: _Session, fields: list[str]) -> None:
        order_id = int(fields[1])
        self._next_order_id = max(self._next_order_id, order_id + 1)
        with self._lock:
            reject, self._reject = self._reject, None
        if reject is not None:
            code, message = reject
            session.send(4, 2, order_id, code, message, "")
            return
        held = self.orders.get(order_id)
        if held is not None and held.status in {"Submitted", "PreSubmitted"}:
            held.quantity, held.limit_price, held.aux_price = Decimal(fields[17]), fields[19], fields[20]
            self._send_open_order(session, held)
            self._send_status(session, held)
            return
        order = FakeOrder(
            order_id=order_id,
            client_id=session.client_id,
            perm_id=self._next_perm_id,
            symbol=fields[3],
            action=fields[16],
            quantity=Decimal(fields[17]),
            order_type=fields[18],
            limit_price=fields[19],
            aux_price=fields[20],
            tif=fields[21],
            account=fields[23] or self.account,
            order_ref=fields[26],
        )
        self._next_perm_id += 1
        self.orders[order_id] = order
        self._send_open_order(session, order)
        self._send_status(session, order)
        if order.order_type not in RESTING_TYPES:
            price = self.fill_prices.get(order.symbol, self.default_fill_price)
            self._execute(order, price, order.quantity)

    def _execute(self, order: FakeOrder, price: Decimal, quantity: Decimal) -> None:
        previous_value = order.average_price * order.filled
        order.filled += quantity
        order.average_price = (previous_value + price * quantity) / order.filled
        if order.remaining <= 0:
            order.status = "Filled"
        execution = FakeExecution(
            order=order,
            exec_id=f"0000e0d5.{self._next_exec:08d}.01.01",
            shares=quantity,
            price=price,
            commission=self.commission,
            time=datetime.now(UTC).strftime("%Y%m%d %H:%M:%S UTC"),
        )
        self._next_exec += 1
        self.executions.append(execution)
        session = self._session_for(order.client_id)
        if session is None:
            return  # delivered by reqExecutions after the client reconnects
        self._send_execution(session, execution, -1)
        self._send_open_order(session, order)
        self._send_status(session, order, last_price=price)
        self._send_commission(session, execution)

    def _cancel(self, session: _Session, order_id: int) -> None:
        order = self.orders.get(order_id)
        if order is None or order.status not in {"Submitted", "PreSubmitted"}:
            session.send(4, 2, order_id, 161, "Cancel attempted when order is not in a cancellable state.", "")
            return
        order.status = "Cancelled"
        self._send_status(session, order)
        session.send(4, 2, order_id, 202, "Order Canceled - reason:", "")

    def _session_for(self, client_id: int) -> _Session | None:
        return next((s for s in self._sessions if s.client_id == client_id), None)

    # -- outgoing messages ---------------------------------------------------------

    def _contract_fields(self, order: FakeOrder) -> list[Any]:
        return [order.con_id, order.symbol, "STK", "", 0, "", "", "SMART", "USD", order.symbol, order.symbol]

    def _send_open_order(self, session: _Session, order: FakeOrder) -> None:
        fields: list[Any] = [""] * 128
        fields[0], fields[1] = 5, order.order_id
        fields[2:13] = self._contract_fields(order)
        fields[13:19] = [
            order.action, _num(order.quantity), order.order_type, order.limit_price, order.aux_price, order.tif,
        ]  # fmt: skip
        fields[19:26] = ["", order.account, "O", 0, order.order_ref, order.client_id, order.perm_id]
        fields[26:30] = [0, 0, 0, ""]
        fields[71:74] = [0, 0, 0]  # combo legs, order combo legs, smart combo routing params
        fields[82] = 0  # no delta neutral contract
        fields[84:87] = [0, 0, order.status]  # solicited, whatIf, status
        fields[103] = 0  # no conditions
        session.send(*fields)

    def _send_status(self, session: _Session, order: FakeOrder, last_price: Decimal | None = None) -> None:
        session.send(
            3, order.order_id, order.status, _num(order.filled), _num(order.remaining), _num(order.average_price),
            order.perm_id, 0, _num(last_price or 0), order.client_id, "", 0,
        )  # fmt: skip

    def _send_execution(self, session: _Session, execution: FakeExecution, req_id: int) -> None:
        order = execution.order
        side = "BOT" if order.action == "BUY" else "SLD"
        session.send(
            11, req_id, order.order_id, *self._contract_fields(order),
            execution.exec_id, execution.time, order.account, "ISLAND", side, _num(execution.shares),
            _num(execution.price), order.perm_id, order.client_id, 0, _num(order.filled),
            _num(order.average_price), order.order_ref, "", "", "", 1,
        )  # fmt: skip

    def _send_commission(self, session: _Session, execution: FakeExecution) -> None:
        session.send(59, 1, execution.exec_id, _num(execution.commission), "USD", "", "", "")
