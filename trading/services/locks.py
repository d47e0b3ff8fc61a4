"""Row locks, named once. Lock order, everywhere: the account row first, then the order row."""

import logging

from trading.models import Account, Order, Position

logger = logging.getLogger(__name__)


def account_lock(account_id: int) -> Account:
    """Lock an account row: whoever holds it may change the account's book (orders, fills, cash, state).

    FOR NO KEY UPDATE, not FOR UPDATE: the rows other transactions insert that point at
    the account (events, orders, executions) check their foreign key with FOR KEY SHARE,
    which FOR UPDATE would block until this transaction ends.
    """
    return Account.objects.select_for_update(no_key=True).get(pk=account_id)


def account_and_order_lock(
    order_id: int, account_id: int | None = None, *, account: Account | None = None
) -> tuple[Account, Order]:
    """Lock the order's account (unless the caller passes the account it has locked), then the order."""
    if account is None:
        if account_id is None:
            account_id = Order.objects.values_list("account_id", flat=True).get(pk=order_id)
        account = account_lock(account_id)
    order = (
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("instrument", "strategy", "signal", "parent")
        .get(pk=order_id)
    )
    order.account = account
    return account, order


def order_lock(order_id: int) -> Order:
    """Lock one order row alone (its account row stays free for other orders' fills and intake)."""
    return (
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account", "instrument", "strategy", "signal", "parent")
        .get(pk=order_id)
    )


def order_relock(sent: Order, account: Account) -> Order:
    """Lock an order read earlier, afresh with its signal; its instrument, strategy and parent have not changed."""
    order = Order.objects.select_for_update(of=("self",), no_key=True).select_related("signal").get(pk=sent.pk)
    order.account, order.instrument, order.strategy, order.parent = account, sent.instrument, sent.strategy, sent.parent
    return order


def position_lock(account: Account, order: Order) -> Position:
    position, _ = Position.objects.select_for_update(no_key=True).get_or_create(
        account=account, strategy=order.strategy, instrument=order.instrument
    )
    return position
