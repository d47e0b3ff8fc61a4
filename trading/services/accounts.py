"""Opening trading accounts: the opening cash is the first line of the account's event log."""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from trading.events import EventType, event_record
from trading.models import Account


def account_open(*, owner: AbstractBaseUser, name: str, cash: Decimal, broker: str = "paper", actor: str) -> Account:
    """Open an account with its starting cash, recorded (replay starts from it)."""
    with transaction.atomic():
        account = Account.objects.create(owner=owner, name=name, cash=cash, broker=broker)
        event_record(
            type=EventType.ACCOUNT_OPENED,
            account=account,
            actor=actor,
            payload={"name": name, "cash": cash, "broker": broker},
        )
    return account
