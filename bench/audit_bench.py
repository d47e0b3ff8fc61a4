"""The audit trail's cost: recording events with their origin, sealing them into the hash chain, verifying it.

Run on the real stack (not a timed test):
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/audit_bench.py [--events N] [--round N]
Everything it writes is rolled back at the end. It times:
- a signal's transaction worth of events (10 ``order.created``, in one INSERT as the pipeline batches
  them), which is what intake pays: the origin's three columns are all the audit trail adds to it;
- sealing, in rounds of ``--round`` events (350 is a second of the pipeline's best 2,000 orders a
  minute at 10 events an order), per round and per event: the sealer's own transaction, off the
  request path;
- verifying the whole chain, events per second.
"""

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantumleap.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.origin import Channel, Origin, origin_set  # noqa: E402
from trading.audit import audit_seal, audit_verify  # noqa: E402
from trading.events import events_batched  # noqa: E402
from trading.events.orders import order_created_event  # noqa: E402
from trading.models import Account, Event, Instrument, Order  # noqa: E402


class Rollback(Exception):
    pass


def backend_cpu() -> float:
    """CPU seconds the database server process of this connection has used (PostgreSQL on this machine)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--round", type=int, default=350)
    args = parser.parse_args()
    print(f"database: {connection.vendor}; {args.events} events, sealed {args.round} a round")
    try:
        with transaction.atomic():
            user = get_user_model().objects.create(username=f"bench-{time.time_ns()}")
            account = Account.objects.create(owner=user, name="bench", cash=1000000)
            instrument = Instrument.objects.create(
                symbol=f"B{time.time_ns() % 10**9}", name="bench", sector="bench", reference_price=Decimal("101.25")
            )
            order = Order.objects.create(
                account=account,
                instrument=instrument,
                side="BUY",
                order_type="LIMIT",
                quantity=Decimal(10),
                price=Decimal("101.25"),
                reference_price=Decimal("101.25"),
            )
            # Seal what the database already holds, so the rounds below time only the bench's events.
            while audit_seal(limit=5000):
                pass
            origin = Origin(channel=Channel.KEY, ip="203.0.113.7", user="bench", api_key_prefix="ab12cd34")
            record: list[float] = []
            with origin_set(origin):
                for _batch in range(args.events // 10):
                    started = time.perf_counter()
                    with transaction.atomic(), events_batched():
                        for _event in range(10):
                            order_created_event(order=order, actor="bench")
                    record.append(time.perf_counter() - started)
            rounds: list[float] = []
            cpu_before, db_before = time.process_time(), backend_cpu()
            while True:
                started = time.perf_counter()
                sealed = audit_seal(limit=args.round)
                if not sealed:
                    break
                rounds.append((time.perf_counter() - started, sealed))
            cpu_python, cpu_db = time.process_time() - cpu_before, backend_cpu() - db_before
            total_seconds = sum(seconds for seconds, _ in rounds)
            total_events = sum(count for _, count in rounds)
            per_round = [seconds for seconds, _ in rounds]
            started = time.perf_counter()
            report = audit_verify()
            verify_seconds = time.perf_counter() - started
            assert report.ok, report.broken
            chain = Event.objects.filter(chain_seq__isnull=False).count()
            print(
                f"record 10 events (one transaction)  p50 {percentile(record, 0.5) * 1000:6.2f} ms"
                f"  p99 {percentile(record, 0.99) * 1000:6.2f} ms"
            )
            print(
                f"seal a round of {args.round:<5}            p50 {percentile(per_round, 0.5) * 1000:6.2f} ms"
                f"  p99 {percentile(per_round, 0.99) * 1000:6.2f} ms  mean {statistics.mean(per_round) * 1000:6.2f} ms"
                f"  = {total_seconds / total_events * 1e6:5.1f} µs an event,"
                f" {total_events / total_seconds:,.0f} events/s"
            )
            print(
                f"sealing CPU: {cpu_python / total_events * 1e6:5.1f} µs an event in the sealer, "
                f"{cpu_db / total_events * 1e6:5.1f} µs in PostgreSQL"
            )
            print(
                f"verify the chain ({chain} events)   {verify_seconds:6.2f} s = {chain / verify_seconds:,.0f} events/s"
            )
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
