"""Event replay against the tables (manage.py events_replay): the audit trail proves itself complete."""

from trading.core.replay import Difference, LoggedEvent, differences, replay
from trading.events import EventType
from trading.models import Account, Event, Order, Position


def account_replay(*, account: Account) -> list[Difference]:
    """Rebuild the account's orders, positions and cash from its events alone; every difference with the tables."""
    # A cash adjustment by hand sets the cash as the opening does.
    events = (
        LoggedEvent(
            EventType.ACCOUNT_OPENED if type == EventType.ACCOUNT_CASH_ADJUSTED else type,
            order_id,
            strategy_id,
            payload,
        )
        for type, order_id, strategy_id, payload in Event.objects.filter(account=account)
        .order_by("pk")
        .values_list("type", "order_id", "strategy_id", "payload")
        .iterator(chunk_size=2000)
    )
    book = replay(events, opened=EventType.ACCOUNT_OPENED, fill=EventType.EXECUTION_CREATED)
    orders = {
        row["pk"]: row
        for row in Order.objects.filter(account=account).values(
            "pk", "status", "quantity", "filled_quantity", "average_fill_price", "price", "stop_price"
        )
    }
    positions = {
        (row["strategy_id"], row["instrument__symbol"]): row
        for row in Position.objects.filter(account=account).values(
            "strategy_id", "instrument__symbol", "quantity", "average_price", "realized_pnl", "commissions"
        )
    }
    account.refresh_from_db(fields=["cash"])
    return differences(book, cash=account.cash, orders=orders, positions=positions)
