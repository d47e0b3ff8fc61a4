"""Every integration test ends by replaying each account from its event log: zero differences with the tables."""

import pytest

from trading.audit import audit_seal_all, audit_verify
from trading.events import EventType
from trading.models import Account, Event
from trading.replay import account_replay


@pytest.fixture(autouse=True)
def event_log_replays_every_account(transactional_db):
    """After the test (and after its worker went idle), the log alone gives back every order, position and cash."""
    yield
    opened = Event.objects.filter(type=EventType.ACCOUNT_OPENED).values_list("account_id", flat=True)
    for account in Account.objects.filter(pk__in=opened):
        problems = account_replay(account=account)
        assert not problems, f"account {account.pk} differs from its event log:\n" + "\n".join(map(str, problems))
    # Whatever the test did, from however many processes, the audit trail seals into one intact chain.
    audit_seal_all()
    report = audit_verify()
    assert report.ok and report.unsealed == 0, report
