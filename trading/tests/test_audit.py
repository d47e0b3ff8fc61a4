"""The audit trail: events sealed into a SHA-256 hash chain that names its first broken link."""

import hashlib
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from accounts.origin import Channel, Origin, origin_set
from trading.audit import GENESIS, audit_seal, audit_seal_all, audit_verify, event_digest
from trading.events import EventType, event_record
from trading.models import Event, EventChainHead

pytestmark = pytest.mark.django_db


def _record(n: int) -> list[Event]:
    return [
        event_record(type=EventType.ACCOUNT_UPDATED, actor="ops", payload={"n": i, "cash": Decimal("1.50")})
        for i in range(n)
    ]


def _tamper(sql: str, params: list) -> None:
    """What someone with database access does; on PostgreSQL, past the append-only trigger first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off, as a superuser can
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def test_sealing_chains_each_event_to_the_one_before():
    events = _record(3)

    assert audit_seal() == 3

    rows = list(Event.objects.filter(pk__in=[e.pk for e in events]).order_by("chain_seq"))
    head = EventChainHead.objects.get()
    assert [row.chain_prev for row in rows] == [GENESIS, rows[0].chain_hash, rows[1].chain_hash]
    assert head.seq == rows[-1].chain_seq and head.hash == rows[-1].chain_hash
    assert audit_seal() == 0  # nothing left


def test_the_hash_is_sha256_over_the_canonical_json_of_the_fields_and_the_previous_hash():
    (event,) = _record(1)
    audit_seal()
    event.refresh_from_db()

    canonical = json.dumps(
        {
            "id": event.pk,
            "type": "account.updated",
            "severity": "INFO",
            "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
            "account_id": None,
            "strategy_id": None,
            "order_id": None,
            "signal_id": None,
            "actor": "ops",
            "channel": "engine",
            "source_ip": None,
            "api_key_prefix": "",
            "payload": {"cash": "1.50", "n": 0},
            "seq": event.chain_seq,
            "prev": event.chain_prev,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    assert event.chain_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_an_intact_chain_verifies_and_the_command_says_so(capsys):
    _record(4)
    audit_seal_all()
    _record(1)  # not sealed yet: counted, not checked

    report = audit_verify()
    call_command("audit_verify")

    assert report.ok and report.checked == 4 and report.unsealed == 1
    assert "audit trail intact: 4 records" in capsys.readouterr().out


def test_a_row_edited_in_the_database_is_named():
    events = _record(5)
    audit_seal()
    edited = events[2]

    _tamper("UPDATE trading_event SET payload = %s WHERE id = %s", ['{"n": 2, "cash": "1000000"}', edited.pk])

    report = audit_verify()
    assert report.broken is not None and report.broken.event_id == edited.pk
    assert "altered" in report.broken.reason and report.checked == 2
    with pytest.raises(CommandError, match=rf"event #{edited.pk} \(seq \d+\): its content does not match"):
        call_command("audit_verify")


def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next_link():
    events = _record(4)
    audit_seal()
    edited = Event.objects.get(pk=events[1].pk)
    forged = {**{f: getattr(edited, f) for f in ("id", "type", "severity", "occurred_at", "actor", "channel")}}
    forged.update(
        account_id=None,
        strategy_id=None,
        order_id=None,
        signal_id=None,
        source_ip=None,
        api_key_prefix="",
        actor="someone-else",
        payload={"n": 1, "cash": "1.50"},
    )
    new_hash = event_digest(forged, seq=edited.chain_seq, prev=edited.chain_prev)

    _tamper("UPDATE trading_event SET actor = %s, chain_hash = %s WHERE id = %s", ["someone-else", new_hash, edited.pk])

    report = audit_verify()
    assert report.broken.event_id == events[2].pk and "previous record" in report.broken.reason


def test_a_deleted_row_is_named():
    events = _record(5)
    audit_seal()

    _tamper("DELETE FROM trading_event WHERE id = %s", [events[1].pk])

    report = audit_verify()
    assert report.broken.event_id == events[2].pk and "missing: deleted" in report.broken.reason
    with pytest.raises(CommandError, match="missing"):
        call_command("audit_verify")


def test_deleting_the_newest_rows_is_caught_by_the_head():
    events = _record(3)
    audit_seal()

    _tamper("DELETE FROM trading_event WHERE id = %s", [events[-1].pk])

    report = audit_verify()
    assert report.broken is not None and "newest records were deleted" in report.broken.reason


def test_events_sealed_later_continue_the_chain_and_verify_seals_on_request(capsys):
    _record(2)
    audit_seal()
    _record(2)

    call_command("audit_verify", "--seal")

    assert "audit trail intact: 4 records" in capsys.readouterr().out
    assert audit_verify().unsealed == 0


def test_events_record_how_and_from_where():
    with origin_set(Origin(channel=Channel.KEY, ip="203.0.113.9", user="trader", api_key_prefix="ab12cd34")):
        (event,) = _record(1)
    event.refresh_from_db()

    assert (event.channel, event.source_ip, event.api_key_prefix) == ("key", "203.0.113.9", "ab12cd34")
    assert event.actor == "ops"  # the service's actor wins; the origin's user fills in when none is given
    with origin_set(Origin(channel=Channel.COMMAND, user="root@host")):
        unnamed = event_record(type=EventType.ACCOUNT_UPDATED)
    assert unnamed.actor == "root@host" and unnamed.channel == "command"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_postgresql_refuses_to_change_a_sealed_event_or_delete_any():
    sealed, unsealed = _record(2)
    audit_seal(limit=1)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=sealed.pk).update(actor="someone-else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=unsealed.pk).delete()
    Event.objects.filter(pk=unsealed.pk).update(actor="ops2")  # not sealed yet: the sealer stamps these


def test_the_sealer_runs_on_the_beat_schedule_and_beats_its_heartbeat(settings):
    from quantumleap.housekeeping import Housekeeping
    from trading import loops

    _record(2)
    Housekeeping({"audit-seal": settings.CELERY_BEAT_SCHEDULE["audit-seal"]}).run_due()

    assert audit_verify().checked == 2 and audit_verify().unsealed == 0
    states = {loop["name"]: loop["state"] for loop in loops.loops_status()}
    assert states["audit-seal"] == "ok"
