"""The broker interface: every broker adapter (paper, Interactive Brokers) speaks it.

Calls are synchronous: they run inside Celery tasks and inside the service's
transaction, keyed by our client order id so that asking twice is harmless.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from trading.core.orders import OrderType, Side


class BrokerErrorCategory(StrEnum):
    CONNECTION = "connection"
    AUTHENTICATION = "authentication"
    RATE_LIMIT = "rate_limit"
    REJECTION = "rejection"
    UNKNOWN = "unknown"


RETRYABLE = frozenset({BrokerErrorCategory.CONNECTION, BrokerErrorCategory.RATE_LIMIT})


class BrokerError(Exception):
    def __init__(self, category: BrokerErrorCategory, code: str, message: str) -> None:
        super().__init__(message)
        self.category = category
        self.code = code
        self.message = message

    @property
    def is_retryable(self) -> bool:
        return self.category in RETRYABLE


@dataclass(frozen=True)
class BrokerOrderRequest:
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str = "DAY"
    trail_amount: Decimal | None = None
    trail_percent: Decimal | None = None


@dataclass(frozen=True)
class BrokerFill:
    exec_id: str
    client_order_id: str
    quantity: Decimal
    price: Decimal
    commission: Decimal
    executed_at: datetime


@dataclass(frozen=True)
class BrokerOrderState:
    client_order_id: str
    broker_order_id: str
    accepted: bool
    is_open: bool
    filled_quantity: Decimal
    reject_code: str = ""
    reject_message: str = ""


@dataclass(frozen=True)
class BrokerPosition:
    symbol: str
    quantity: Decimal
    average_cost: Decimal


@dataclass(frozen=True)
class PlaceResult:
    state: BrokerOrderState
    fills: tuple[BrokerFill, ...] = ()
    already_held: bool = False


class Broker(ABC):
    name: str

    @abstractmethod
    def place_order(self, request: BrokerOrderRequest, *, now: datetime) -> PlaceResult:
        """Send an order; placing a client order id the broker already holds returns its state, no twin."""

    @abstractmethod
    def cancel_order(self, client_order_id: str, *, now: datetime) -> BrokerOrderState:
        """Cancel what is left of an order."""

    @abstractmethod
    def modify_order(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        now: datetime,
    ) -> BrokerOrderState:
        """Change a working order's quantity or prices; refused (BrokerError REJECTION) once it is done."""

    @abstractmethod
    def find_order(self, client_order_id: str) -> BrokerOrderState | None:
        """The broker's view of one of our orders, or None when it never received it."""

    @abstractmethod
    def fills_for(self, client_order_id: str) -> list[BrokerFill]:
        """Every fill the broker made for one of our orders."""

    def fills_for_orders(self, client_order_ids: list[str]) -> dict[str, list[BrokerFill]]:
        """Every fill the broker made for each of these orders (those with none are left out)."""
        found = {client_order_id: self.fills_for(client_order_id) for client_order_id in client_order_ids}
        return {client_order_id: fills for client_order_id, fills in found.items() if fills}

    @abstractmethod
    def open_orders(self) -> list[BrokerOrderState]:
        """Every order the broker holds open, ours or not."""

    @abstractmethod
    def positions(self) -> list[BrokerPosition]:
        """The broker's net position per symbol."""

    @property
    def venue(self) -> "SimulatedVenue | None":
        """Itself when the broker is its own venue (fed by the market data stream), else None."""
        return None

    @classmethod
    def sessions_close(cls) -> None:
        """Release every connection this process holds to the broker (a worker shutting down)."""
        return  # most brokers hold no connection: nothing to close


class SimulatedVenue(Protocol):
    """A broker that is its own venue (the paper broker): the market data stream fills its resting orders
    and its clock expires DAY orders. A real broker fills and expires orders itself and reports them."""

    def resting_triggered(self, prices: dict[str, Decimal]) -> list[str]:
        """Client order ids of resting orders these prices reach, oldest first."""

    def trigger(
        self, client_order_id: str, price: Decimal, *, now: datetime, available: Decimal | None = None
    ) -> list[BrokerFill]:
        """Fill a triggered order at this price, within the volume available (None: no liquidity limit)."""

    def volume_available(self, symbol: str, price: Decimal) -> Decimal | None:
        """Shares a feed interval trades in the symbol when the tape reports none; None: liquidity is unlimited."""

    def participation_used(self, quantity: Decimal) -> Decimal:
        """How much of the available volume a fill of this quantity takes up."""

    def day_orders_due(self, now: datetime) -> list[str]:
        """Client order ids of DAY orders whose session has closed."""

    def expire(self, client_order_id: str, *, now: datetime) -> bool:
        """Close a DAY order at the venue; False when it was not open there."""


def broker_class() -> type[Broker]:
    """The configured broker (settings.BROKER_BACKEND)."""
    return import_string(settings.BROKER_BACKEND)


def broker_get() -> Broker:
    return broker_class()()
