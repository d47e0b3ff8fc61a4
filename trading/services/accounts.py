"""Opening trading accounts: the opening cash is the first line of the account's event log."""

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from trading.events.accounts import account_cash_adjusted_event, account_opened_event, account_updated_event
from trading.models import Account
from trading.services.locks import account_lock


def account_open(*, owner: AbstractBaseUser, name: str, cash: Decimal, broker: str = "paper", actor: str) -> Account:
    """Open an account with its starting cash, recorded (replay starts from it)."""
    with transaction.atomic():
        account = Account.objects.create(owner=owner, name=name, cash=cash, broker=broker)
        account_opened_event(account=account, actor=actor)
    return account


ACCOUNT_EDITABLE = ("name", "broker", "currency", "cash")


def account_update(*, account_id: int, changes: dict[str, Any], actor: str) -> Account:
    """Change an account by hand (the admin): under its lock, each change recorded with its before and after.

    A new cash balance is an ``account.cash_adjusted`` event carrying the new cash, which replay starts
    from as it does from the opening; other fields are ``account.updated``.
    """
    unknown = set(changes) - set(ACCOUNT_EDITABLE)
    if unknown:
        raise ValueError(f"Accounts do not take {', '.join(sorted(unknown))} by hand.")
    with transaction.atomic():
        account = account_lock(account_id)
        diff = {
            name: {"before": getattr(account, name), "after": value}
            for name, value in changes.items()
            if getattr(account, name) != value
        }
        if not diff:
            return account
        for name, value in changes.items():
            setattr(account, name, value)
        account.full_clean()
        account.save(update_fields=[*diff, "updated_at"])
        cash = diff.pop("cash", None)
        if cash is not None:
            account_cash_adjusted_event(account=account, change=cash, actor=actor)
        if diff:
            account_updated_event(account=account, changes=diff, actor=actor)
    return account
