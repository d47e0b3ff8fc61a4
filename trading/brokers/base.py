"""The broker interface: every broker adapter (paper, Interactive Brokers) speaks it.

Calls are synchronous: they run inside Celery tasks and inside the service's
transaction, keyed by our client order id so that asking twice is harmless.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

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


def broker_get() -> Broker:
    return import_string(settings.BROKER_BACKEND)()
