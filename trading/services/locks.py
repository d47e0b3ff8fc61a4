"""Row locks, named once. Lock order, everywhere: the account row first, then the order row."""

from django.db.models import QuerySet

from trading.models import Account, Order, Position

# What every locked order is read with (its account is the one the caller locked, set on it afterwards).
ORDER_RELATED = ("instrument", "strategy", "signal", "parent")


def orders_for_update() -> QuerySet[Order]:
    """Order rows locked for an update: FOR NO KEY UPDATE of the order rows alone (not the joined ones,
    which PostgreSQL cannot lock through a nullable join), with the relations a move needs."""
    return Order.objects.select_for_update(of=("self",), no_key=True).select_related(*ORDER_RELATED)


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
    order = orders_for_update().get(pk=order_id)
    order.account = account
    return account, order


def order_lock(order_id: int) -> Order:
    """Lock one order row alone (its account row stays free for other orders' fills and intake)."""
    return orders_for_update().select_related("account").get(pk=order_id)


def order_relock(sent: Order, account: Account) -> Order:
    """Lock an order read earlier, afresh with its signal; its instrument, strategy and parent have not changed."""
    order = Order.objects.select_for_update(of=("self",), no_key=True).select_related("signal").get(pk=sent.pk)
    order.account, order.instrument, order.strategy, order.parent = account, sent.instrument, sent.strategy, sent.parent
    return order


def position_lock(account: Account, order: Order) -> Position:
    """Lock (or create) the position an order's fills move: its strategy's, in its instrument."""
    position, _ = Position.objects.select_for_update(no_key=True).get_or_create(
        account=account, strategy=order.strategy, instrument=order.instrument
    )
    return position


def position_lock_by_id(position_id: int) -> Position:
    return (
        Position.objects.select_for_update(of=("self",), no_key=True)
        .select_related("instrument", "strategy")
        .get(pk=position_id)
    )
