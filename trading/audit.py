"""The tamper-evident audit trail: the event log, sealed into a SHA-256 hash chain.

Every change the engine records is an ``Event`` (``trading.events``), with who (``actor``, the API
key's prefix), how (``channel``), from where (``source_ip``) and when. Events are sealed shortly
after they commit, in the order they are sealed: each sealed event gets the next sequence number,
the previous event's hash (``chain_prev``) and its own hash::

    chain_hash = sha256(canonical JSON of the event's fields, its sequence number and chain_prev)

The canonical JSON has sorted keys, no spaces, UTF-8, times in ISO 8601 UTC with microseconds;
the first event's ``chain_prev`` is 64 zeros. ``EventChainHead`` holds the last sequence number and
hash. Changing any sealed field, deleting an event or deleting the newest ones breaks the chain,
and ``audit_verify`` names the first broken link. (On PostgreSQL a trigger also refuses to change a
sealed event or delete any; someone able to bypass it and rewrite every later hash and the head is
caught only by comparing the head with a copy kept elsewhere.)

Why after commit, by one sealer, and not as each event is written: chaining is a global order, and
a writer holding the chain's lock until its commit would serialize every account's transactions
(they run in parallel under their own account locks) and could deadlock with them. The sealer runs
in its own short transaction: it locks only the head row, then reads and stamps committed events,
which no trading transaction locks. Signal intake pays nothing; an event is unsealed for at most
``AUDIT_SEAL_INTERVAL_SECONDS`` (5) plus the sealing itself.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from trading.models import Event, EventChainHead

GENESIS = "0" * 64
SEALED_FIELDS = (
    "id",
    "type",
    "severity",
    "occurred_at",
    "account_id",
    "strategy_id",
    "order_id",
    "signal_id",
    "actor",
    "channel",
    "source_ip",
    "api_key_prefix",
    "payload",
)
SEAL_BATCH = 2000
# One statement run for each row (psycopg pipelines them): bulk_update's CASE per row grows quadratically.
SEAL_SQL = "UPDATE trading_event SET chain_seq = %s, chain_prev = %s, chain_hash = %s WHERE id = %s"


def _stamp(sealed: list[tuple[int, str, str, int]]) -> None:
    """Write each event's (seq, prev, hash)."""
    with connection.cursor() as cursor:
        cursor.executemany(SEAL_SQL, sealed)


HEAD_PK = 1


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_digest(fields: dict[str, Any], *, seq: int, prev: str) -> str:
    """The hash of one event: SHA-256 over the canonical JSON of its sealed fields, seq and prev."""
    record = {name: fields[name] for name in SEALED_FIELDS}
    record["occurred_at"] = _canonical_time(record["occurred_at"])
    record["seq"] = seq
    record["prev"] = prev
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_seal(*, limit: int = SEAL_BATCH) -> int:
    """Seal the committed events not sealed yet, oldest first (at most ``limit``); returns how many."""
    if not Event.objects.filter(chain_seq__isnull=True).exists():
        return 0  # nothing to do: no lock taken (on SQLite, a write transaction would lock the database)
    with transaction.atomic():
        # The head row is the chain's lock: one sealer at a time, never held with an account's lock.
        head, _ = EventChainHead.objects.select_for_update().get_or_create(pk=HEAD_PK)
        rows = list(Event.objects.filter(chain_seq__isnull=True).order_by("pk").values(*SEALED_FIELDS)[:limit])
        if not rows:
            return 0
        seq, prev = head.seq, head.hash
        sealed = []
        for fields in rows:
            seq += 1
            digest = event_digest(fields, seq=seq, prev=prev)
            sealed.append((seq, prev, digest, fields["id"]))
            prev = digest
        _stamp(sealed)
        head.seq, head.hash, head.sealed_at = seq, prev, timezone.now()
        head.save(update_fields=["seq", "hash", "sealed_at"])
    return len(rows)


def audit_seal_all() -> int:
    """Seal everything committed so far, batch after batch."""
    total = 0
    while sealed := audit_seal():
        total += sealed
    return total


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event #{self.event_id} (seq {self.seq})" if self.event_id is not None else f"seq {self.seq}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class AuditReport:
    checked: int  # sealed events whose links were checked
    head_seq: int
    unsealed: int  # events committed but not sealed yet (not covered by the chain)
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _sealed_rows() -> Iterator[dict[str, Any]]:
    fields = (*SEALED_FIELDS, "chain_seq", "chain_prev", "chain_hash")
    return Event.objects.filter(chain_seq__isnull=False).order_by("chain_seq").values(*fields).iterator(chunk_size=2000)


def audit_verify() -> AuditReport:
    """Recompute the chain from the first sealed event; the first broken link, if any, is named."""
    head = EventChainHead.objects.filter(pk=HEAD_PK).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    unsealed = Event.objects.filter(chain_seq__isnull=True).count()
    expected_seq, prev, checked = 1, GENESIS, 0
    for row in _sealed_rows():
        seq = row["chain_seq"]
        broken = None
        if seq != expected_seq:
            missing = f"seq {expected_seq}" if seq == expected_seq + 1 else f"seq {expected_seq} to {seq - 1}"
            broken = f"the record(s) before it ({missing}) are missing: deleted"
        elif row["chain_prev"] != prev:
            broken = "its link to the previous record does not match: the previous record or its hash was rewritten"
        elif event_digest(row, seq=seq, prev=prev) != row["chain_hash"]:
            broken = "its content does not match its hash: the record was altered"
        if broken:
            return AuditReport(checked, head_seq, unsealed, ChainBreak(seq, row["id"], broken))
        expected_seq, prev, checked = seq + 1, row["chain_hash"], checked + 1
    if checked != head_seq or prev != head_hash:
        if checked < head_seq:
            reason = f"the chain ends at seq {checked} but its head says {head_seq}: the newest records were deleted"
        else:
            reason = "the chain's head does not match its last record: the head was rewritten"
        return AuditReport(
            checked, head_seq, unsealed, ChainBreak(checked + 1 if checked < head_seq else checked, None, reason)
        )
    return AuditReport(checked, head_seq, unsealed, None)


def audit_status() -> dict[str, Any]:
    """For operations: the chain's head and what waits to be sealed (cheap: the head row and the unsealed index)."""
    head = EventChainHead.objects.filter(pk=HEAD_PK).first()
    unsealed = Event.objects.filter(chain_seq__isnull=True)
    oldest = unsealed.order_by("pk").values_list("occurred_at", flat=True).first()
    return {
        "head_seq": head.seq if head else 0,
        "head_hash": head.hash if head else GENESIS,
        "sealed_at": head.sealed_at.isoformat() if head and head.sealed_at else None,
        "unsealed": unsealed.count(),
        "oldest_unsealed_at": oldest.isoformat() if oldest else None,
    }
