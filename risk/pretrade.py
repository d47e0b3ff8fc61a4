"""The pre-trade risk gate trading asks before it creates an order that may open exposure.

``settings.PRE_TRADE_GATE`` names ``order_verdict``: trading calls it from
``trading.services.placement.order_place`` under the account's row lock, with the
book it read. It reads the risk parameters, states and kill switches and runs the
pure rules (``risk.core.rules``); it writes nothing (the portfolio monitor enforces
loss limits, never the intake).
"""

from datetime import datetime

from risk.core.rules import RiskValidation
from risk.selectors import order_validate
from trading.models import Account, Instrument
from trading.selectors import Book
from trading.services.placement import OrderRequest


def order_verdict(
    *, account: Account, request: OrderRequest, instrument: Instrument, book: Book, now: datetime
) -> RiskValidation:
    """RiskEngine.validate_order for an order trading is about to create."""
    return order_validate(
        account=account,
        strategy=request.strategy,
        symbol=instrument.symbol,
        side=request.side,
        order_type=request.order_type,
        quantity=request.quantity,
        reference_price=request.reference_price,
        lot_size=instrument.lot_size,
        now=now,
        limit_price=request.price,
        instrument=instrument,
        book=book,
    )
