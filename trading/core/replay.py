"""Event replay: an account's orders, positions and cash rebuilt from its event log alone.

The design's "event persistence and replay": if the log is complete, folding it gives
back exactly what the tables hold. Each order's last event carries its whole state
(status, quantities, average fill price, prices); positions are the fills replayed
through the same P&L core that books them (``apply_fill``); cash is the opening
balance moved by every fill (``cash_delta``).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from trading.core.orders import Side
from trading.core.positions import PositionState, apply_fill, cash_delta

ORDER_FIELDS = ("status", "quantity", "filled_quantity", "average_fill_price", "price", "stop_price")
POSITION_FIELDS = ("quantity", "average_price", "realized_pnl", "commissions")


@dataclass(frozen=True)
class LoggedEvent:
    """What replay reads of one event: its type, the order and strategy it names, its payload."""

    type: str
    order_id: int | None
    strategy_id: int | None
    payload: Mapping[str, Any]


@dataclass
class ReplayedBook:
    cash: Decimal | None = None  # None: the log never recorded the account's opening
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    positions: dict[tuple[int | None, str], PositionState] = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    """One value the tables hold that the log does not give back."""

    table: str
    key: str
    field: str
    replayed: Any
    stored: Any

    def __str__(self) -> str:
        return f"{self.table} {self.key} {self.field}: log {self.replayed}, table {self.stored}"


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def replay(events: Iterable[LoggedEvent], *, opened: str, fill: str) -> ReplayedBook:
    """Fold an account's events, oldest first. ``opened`` and ``fill`` name the event types of the account's
    opening (its first cash) and of a fill."""
    book = ReplayedBook()
    for event in events:
        payload = event.payload
        if event.type == opened:
            book.cash = _decimal(payload["cash"])
        elif event.type == fill:
            side, quantity, price = Side(payload["side"]), _decimal(payload["quantity"]), _decimal(payload["price"])
            commission = _decimal(payload.get("commission")) or Decimal(0)
            key = (event.strategy_id, payload["symbol"])
            book.positions[key] = apply_fill(
                book.positions.get(key, PositionState()),
                side=side,
                quantity=quantity,
                price=price,
                commission=commission,
            )
            if book.cash is not None:
                book.cash += cash_delta(side=side, quantity=quantity, price=price, commission=commission)
        elif event.order_id is not None and "client_order_id" in payload:
            # Every move of an order records its whole state after the move: the last one is the order now.
            book.orders[event.order_id] = {name: payload.get(name) for name in ORDER_FIELDS}
    return book


def differences(
    book: ReplayedBook,
    *,
    cash: Decimal,
    orders: Mapping[int, Mapping[str, Any]],
    positions: Mapping[tuple[int | None, str], Mapping[str, Any]],
) -> list[Difference]:
    """Every value of the tables (cash, each order, each position) the replayed book disagrees with."""
    found = []
    if book.cash is None or book.cash != cash:
        found.append(Difference("account", "cash", "cash", book.cash, cash))
    for order_id in sorted(set(orders) | set(book.orders)):
        stored, replayed = orders.get(order_id), book.orders.get(order_id)
        if stored is None or replayed is None:
            found.append(Difference("order", str(order_id), "exists", replayed is not None, stored is not None))
            continue
        for name in ORDER_FIELDS:
            left, right = replayed.get(name), stored.get(name)
            if name != "status":
                left, right = _decimal(left), _decimal(right)
            if left != right:
                found.append(Difference("order", str(order_id), name, left, right))
    for key in sorted(set(positions) | set(book.positions), key=lambda k: (k[0] or 0, k[1])):
        replayed_state = book.positions.get(key, PositionState())
        stored = positions.get(key)
        replayed = {name: getattr(replayed_state, name) for name in POSITION_FIELDS}
        for name in POSITION_FIELDS:
            right = _decimal(stored[name]) if stored is not None else Decimal(0)
            if name == "average_price" and replayed["quantity"] == 0 and (stored is None or stored["quantity"] == 0):
                continue  # a flat position's average price means nothing
            if replayed[name] != right:
                found.append(Difference("position", f"strategy {key[0]} {key[1]}", name, replayed[name], right))
    return found
