"""Orders through the whole pipeline on the real stack, and signal-to-broker latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ql_bench REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/pipeline_bench.py --signals 2000 --workers 2 --threads 16

Creates (or empties) the benchmark database, migrates, seeds the demo, starts a
daphne web process and Celery workers exactly as production runs them, then
producers post signals over HTTP with keep-alive connections. Each signal is
an accepted BUY that becomes a market order, a Celery task, a paper-broker
fill, a position and cash update, and ten audit events. Figures come from the
rows' own timestamps:
- signal -> order at broker: signal created_at -> order submitted_at (design < 500 ms, goal p99 < 50 ms);
- broker submission: order created_at -> submitted_at (design < 1 s);
- throughput: accepted signals filled per minute, first post to last fill (design 1,000/min, goal 10,000/min);
  run it unpaced for the throughput and with --rate below saturation for latencies without a queue;
- peak RSS of the web process and of each worker.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DESIGN_LATENCY_MS, GOAL_LATENCY_MS = 500, 50
DESIGN_RATE, GOAL_RATE = 1_000, 10_000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def peak_rss_mb(pid: int) -> float:
    total = 0.0
    for proc in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total = max(total, int(line.split()[1]) / 1024)
        except FileNotFoundError:
            continue
    return total


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split()]


def reset_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _feed_priced(symbols: list[str]) -> bool:
    from trading.marketdata.prices import price_updated_at

    return all(price_updated_at(symbol) is not None for symbol in symbols)


CPU_CLASSES = (("postgres", "postgres"), ("redis", "redis-server"), ("web", "daphne"), ("workers", "celery"))
CPU_CLASSES += (("feed", "market_feed"),)
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each kind of process on the machine (exited children counted in their parent)."""
    used: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        kind = next((name for name, marker in CPU_CLASSES if marker in cmdline), None)
        if kind is None and int(stat.parent.name) == os.getpid():
            kind = "producers"
        if kind is not None:
            # utime, stime, cutime, cstime are fields 14-17 of /proc/PID/stat (11-14 after the command).
            used[kind] = used.get(kind, 0.0) + sum(int(f) for f in fields[11:15]) / TICKS
    return used


def cpu_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) / TICKS for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signals", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=40, help="signals sent first and left out of the figures")
    parser.add_argument("--web", type=int, default=2, help="daphne web processes (producers spread over them)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (concurrency 2 each)")
    parser.add_argument(
        "--no-feed",
        action="store_true",
        help="no market feed process (prices fall back to the instruments' reference prices in the database)",
    )
    parser.add_argument("--threads", type=int, default=16, help="concurrent producers")
    parser.add_argument(
        "--rate", type=float, default=0, help="signals per second in all (0: as fast as the producers can post)"
    )
    parser.add_argument(
        "--batch", type=int, default=1, help="signals per request (above 1: POST /api/v1/signal-batches/)"
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=1,
        help="trading accounts (each with its own strategy and key), producers spread",
    )
    args = parser.parse_args()
    # A benchmark stopped with SIGTERM still stops the web process and workers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        sys.exit("Set DATABASE_URL and REDIS_URL: this benchmark measures the real stack.")
    reset_database(os.environ["DATABASE_URL"])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quantumleap.settings", "LOG_LEVEL": "WARNING"}
    # The benchmark measures the pipeline, not the rate limits (its producers share few keys and users).
    env.setdefault("API_RATE_PER_KEY", "0")
    env.setdefault("API_RATE_PER_USER", "0")
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantumleap.settings")
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.utils import timezone

    from accounts.roles import TRADER, role_add
    from accounts.services import api_key_create
    from risk.models import RiskParameters
    from strategies.models import Strategy, TradingSignal
    from trading.models import Account, Instrument, Order

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    strategy = Strategy.objects.get(name="demo-ai")
    # Room for every order: the benchmark measures the pipeline, not the limits.
    Strategy.objects.filter(pk=strategy.pk).update(capital=10**9)
    Account.objects.filter(pk=strategy.account_id).update(cash=10**10)
    RiskParameters.objects.filter(account_id=strategy.account_id).update(
        max_position_size=1,
        max_sector_exposure=1,
        max_strategy_orders_per_minute=None,
        max_account_orders_per_minute=None,
    )
    # More accounts, each its own owner, strategy and key: orders of different accounts never share a lock.
    strategies = [strategy]
    for number in range(2, args.accounts + 1):
        owner = type(strategy.owner).objects.create_user(username=f"bench-{number}", password=None)
        role_add(owner, TRADER)  # its key posts only while its user is a trader
        account = Account.objects.create(owner=owner, name="bench", cash=10**10)
        RiskParameters.objects.create(
            account=account,
            max_position_size=1,
            max_sector_exposure=1,
            max_strategy_orders_per_minute=None,
            max_account_orders_per_minute=None,
        )
        strategies.append(
            Strategy.objects.create(
                owner=owner,
                account=account,
                name="bench",
                strategy_type=strategy.strategy_type,
                capital=10**9,
                status=Strategy.Status.RUNNING,
            )
        )
    keys = [api_key_create(user=s.owner, strategy=s) for s in strategies]
    symbols = list(Instrument.objects.values_list("symbol", flat=True))

    ports = [free_port() for _ in range(args.web)]
    logs = Path(tempfile.mkdtemp(prefix="ql-bench-"))
    print(f"process logs in {logs}")
    # Several web processes behind a balancer, as production runs them: each producer keeps to one.
    webs = [
        subprocess.Popen(
            [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "quantumleap.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=(logs / f"web{i}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i, port in enumerate(ports)
    ]
    workers = [
        subprocess.Popen(
            [python, "-m", "celery", "-A", "quantumleap", "worker", "-l", "warning", "-c", "2", "-n", f"bench{i}@%h"],
            cwd=ROOT,
            env=env,
            stdout=(logs / f"worker{i}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i in range(args.workers)
    ]
    # The simulated feed in its own process, as production runs it: live prices in Redis, resting orders triggered.
    feeds = (
        []
        if args.no_feed
        else [
            subprocess.Popen(
                [python, "manage.py", "market_feed"],
                cwd=ROOT,
                env=env,
                stdout=(logs / "feed.log").open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ]
    )
    try:
        deadline = time.monotonic() + 60
        for port in ports:
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    sys.exit("a web process did not come up")
                time.sleep(0.2)
        from quantumleap.celery import app

        while len(app.control.ping(timeout=1.0)) < args.workers:
            time.sleep(0.5)
        if feeds:
            while not _feed_priced(symbols):
                if time.monotonic() > deadline + 60:
                    sys.exit("the market feed did not price every symbol")
                time.sleep(0.5)

        lock = threading.Lock()
        statuses: dict[int, int] = {}
        post_latencies: list[float] = []
        expires = (timezone.now() + timedelta(hours=2)).isoformat()

        pause = args.threads * args.batch / args.rate if args.rate else 0.0

        def signal_body(prefix: str, index: int) -> dict:
            return {
                "id": f"{prefix}-{index}",
                "symbol": symbols[index % len(symbols)],
                "signal_type": "BUY",
                "confidence_score": "0.8",
                "position_size": "0.00001",
                "expires_at": expires,
            }

        def producer(port: int, key: str, counter, prefix: str, pause: float) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            next_at = time.perf_counter()
            while True:
                if pause:
                    next_at += pause
                    time.sleep(max(0.0, next_at - time.perf_counter()))
                with lock:
                    indexes = [i for i in (next(counter, None) for _ in range(args.batch)) if i is not None]
                if not indexes:
                    return
                if args.batch == 1:
                    path, body = "/api/v1/signals/", json.dumps(signal_body(prefix, indexes[0]))
                else:
                    path, body = (
                        "/api/v1/signal-batches/",
                        json.dumps({"signals": [signal_body(prefix, i) for i in indexes]}),
                    )
                started = time.perf_counter()
                conn.request(
                    "POST",
                    path,
                    body,
                    {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                )
                response = conn.getresponse()
                response.read()
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    post_latencies.append((time.perf_counter() - started) * 1000)

        def post_all(prefix: str, count: int, pause: float) -> float:
            counter = iter(range(count))
            wall = time.perf_counter()
            threads = [
                threading.Thread(
                    target=producer, args=(ports[i % len(ports)], keys[i % len(keys)], counter, prefix, pause)
                )
                for i in range(args.threads)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            posted = time.perf_counter() - wall
            deadline = time.monotonic() + 600
            accepted = TradingSignal.objects.filter(status__in=["accepted", "executed"]).count()
            while Order.objects.filter(status="FILLED").count() < accepted:
                if time.monotonic() > deadline:
                    sys.exit("orders did not all fill within 10 minutes")
                time.sleep(0.25)
            return posted

        # Warm-up, left out of the figures: each process's first orders open connections and import code.
        post_all("warmup", args.warmup, 0.0)
        statuses.clear()
        post_latencies.clear()
        started_at = timezone.now()
        cpu_before, busy_before = cpu_seconds(), cpu_busy()
        posted = post_all("bench", args.signals, pause)
        cpu_after, busy_after = cpu_seconds(), cpu_busy()
        measured = Order.objects.filter(signal__external_id__startswith="bench-")
        accepted = measured.count()
        filled_at = max(measured.values_list("updated_at", flat=True))
        seconds = (filled_at - started_at).total_seconds()

        to_broker, submission = [], []
        for created, submitted, signal_at in measured.values_list("created_at", "submitted_at", "signal__created_at"):
            to_broker.append((submitted - signal_at).total_seconds() * 1000)
            submission.append((submitted - created).total_seconds() * 1000)
        rate = accepted / seconds * 60
        offered = f"{args.rate:g}/s offered" if args.rate else "as fast as they could"
        print(
            f"signals posted: {args.signals} by {args.threads} producers, {offered}, in {posted:.1f} s; HTTP {statuses}"
        )
        print(
            f"accepted and filled: {accepted}; accounts: {args.accounts}; web processes: {args.web}; "
            f"workers: {args.workers} x 2 processes; "
            f"cores: {os.cpu_count()}"
        )
        print(
            f"POST round trip ({args.batch} signal{'s' if args.batch > 1 else ''} each): "
            f"p50 {percentile(post_latencies, 0.5):.1f} ms, "
            f"p99 {percentile(post_latencies, 0.99):.1f} ms"
        )
        p50, p99 = percentile(to_broker, 0.5), percentile(to_broker, 0.99)
        print(
            f"signal -> order at broker: p50 {p50:.1f} ms, p99 {p99:.1f} ms, mean {statistics.fmean(to_broker):.1f} ms "
            f"(design < {DESIGN_LATENCY_MS} ms: x{DESIGN_LATENCY_MS / p99:.2f}; goal < {GOAL_LATENCY_MS} ms: "
            f"x{GOAL_LATENCY_MS / p99:.2f})"
        )
        print(
            f"broker submission (order created -> at broker): p50 {percentile(submission, 0.5):.1f} ms, "
            f"p99 {percentile(submission, 0.99):.1f} ms (design < 1000 ms)"
        )
        print(
            f"throughput: {rate:,.0f} orders/min through the whole pipeline "
            f"(design {DESIGN_RATE:,}/min: x{rate / DESIGN_RATE:.2f}; goal {GOAL_RATE:,}/min: x{rate / GOAL_RATE:.2f})"
        )
        used = {kind: cpu_after.get(kind, 0.0) - cpu_before.get(kind, 0.0) for kind in cpu_after}
        busy = (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1])
        print(
            f"CPU per order: {sum(used.values()) / accepted * 1000:.1f} ms ("
            + ", ".join(f"{kind} {seconds / accepted * 1000:.1f}" for kind, seconds in sorted(used.items()))
            + f"); machine busy {busy:.0%} of {os.cpu_count()} cores"
        )
        print(
            "peak RSS: web "
            + ", ".join(f"{peak_rss_mb(w.pid):.0f} MB" for w in webs)
            + "; workers "
            + ", ".join(f"{peak_rss_mb(w.pid):.0f} MB" for w in workers)
        )
    finally:
        for process in [*webs, *workers, *feeds]:
            os.killpg(process.pid, signal.SIGTERM)
        for process in [*webs, *workers, *feeds]:
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
