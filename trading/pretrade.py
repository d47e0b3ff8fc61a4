"""The pre-trade risk gate: the port trading asks before it creates an order that opens exposure.

Trading owns orders and sits below risk, so it does not import the risk engine;
it asks whatever ``settings.PRE_TRADE_GATE`` names (``risk.pretrade.order_verdict``)
the way Django asks its session backend: one interface, chosen in settings. The
gate reads the book trading built (``trading.selectors.book_read``) and its own
limits and states, and answers a verdict; it writes nothing.
"""

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from trading.core.verdicts import Violation
    from trading.models import Account, Instrument
    from trading.selectors import Book
    from trading.services.placement import OrderRequest


class Verdict(Protocol):
    """What the gate answers: whether the order may go, at which quantity, and why not."""

    is_valid: bool
    violations: "Sequence[Violation]"
    approved_quantity: Decimal | None
    risk_score: Decimal
    recommended_adjustments: Mapping[str, str]


class PreTradeGate(Protocol):
    def __call__(
        self,
        *,
        account: "Account",
        request: "OrderRequest",
        instrument: "Instrument",
        book: "Book",
        now: datetime,
    ) -> Verdict: ...


def pretrade_gate() -> PreTradeGate:
    """The configured gate (settings.PRE_TRADE_GATE)."""
    return _gate(settings.PRE_TRADE_GATE)


@functools.cache
def _gate(path: str) -> PreTradeGate:
    return import_string(path)
