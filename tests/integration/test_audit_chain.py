"""The audit trail's sealer on PostgreSQL: never waits for an account's lock, and concurrent sealers make one chain."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from trading.audit import audit_seal, audit_seal_all, audit_verify
from trading.events import EventType, event_record
from trading.models import Event
from trading.services import account_lock

pytestmark = pytest.mark.realstack


def _in_thread(function):
    """Run in a thread with its own connection (closed after)."""

    def run(*args):
        try:
            return function(*args)
        finally:
            connection.close()

    return run


def test_sealing_does_not_wait_for_a_transaction_holding_an_account_lock(demo_committed):
    locked, release = threading.Event(), threading.Event()

    @_in_thread
    def trading_transaction():
        with transaction.atomic():
            account_lock(demo_committed.account.pk)
            event = event_record(type=EventType.ACCOUNT_UPDATED, account=demo_committed.account, actor="slow")
            locked.set()
            release.wait(30)
        return event.pk

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(trading_transaction)
        assert locked.wait(30)
        try:
            sealer = ThreadPoolExecutor(1)
            sealed = sealer.submit(_in_thread(audit_seal_all)).result(timeout=10)  # would hang if it waited
            sealer.shutdown()
        finally:
            release.set()
        event_id = pending.result(30)

    assert sealed > 0 and Event.objects.get(pk=event_id).chain_seq is None  # uncommitted then: next round
    audit_seal_all()
    assert Event.objects.get(pk=event_id).chain_seq is not None and audit_verify().ok


def test_concurrent_writers_and_sealers_make_one_intact_chain(demo_committed):
    stop = threading.Event()

    @_in_thread
    def writer(n):
        for i in range(40):
            with transaction.atomic():
                account_lock(demo_committed.account.pk)
                event_record(type=EventType.ACCOUNT_UPDATED, account=demo_committed.account, payload={"w": n, "i": i})

    @_in_thread
    def sealer(_):
        while not stop.is_set():
            audit_seal(limit=25)

    with ThreadPoolExecutor(6) as pool:
        sealers = [pool.submit(sealer, n) for n in range(2)]
        writers = [pool.submit(writer, n) for n in range(4)]
        for future in writers:
            future.result(120)
        stop.set()
        for future in sealers:
            future.result(30)

    audit_seal_all()
    report = audit_verify()
    assert report.ok and report.unsealed == 0
    assert report.checked == Event.objects.count()
