"""Many strategies at once on the real stack: 1,000 RUNNING strategies on one user, each taking a signal.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ql_bench REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/strategies_bench.py --strategies 1000 --threads 8

Creates (or empties) the benchmark database, migrates, seeds the demo, gives the demo
trader N RUNNING strategies sharing the account's equity (and the account a gross
exposure limit of half its equity, so about half the signals are refused by it), starts a
daphne web process and a Celery worker as production runs them, then producers post one
BUY per strategy over HTTP (keep-alive), all released at once. It prints:
- strategies running (RUNNING rows of the user);
- signals taken per second: signals decided (accepted or refused, every answer a 201)
  over the posting wall time;
- intake latency: each POST's round trip, p50 and p99 (the whole intake: validation,
  risk checks, the order's creation, the events, and the wait for the account's lock behind
  the other producers' posts), and the service time inside the intake (signal row written ->
  decided);
- that every limit held once the fills settled (gross exposure, each strategy's capital).
"""

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline_bench import free_port, percentile, reset_database  # noqa: E402

SYMBOLS = ["AAPL", "MSFT", "ORCL", "CRM", "GOOGL", "DIS", "AMZN", "TSLA", "JPM", "BAC", "KO", "PFE", "XOM", "WMT"]
EXPOSURE = Decimal("0.5")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategies", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8, help="concurrent producers (one keep-alive connection each)")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes (concurrency 2 each)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        sys.exit("Set DATABASE_URL and REDIS_URL: this benchmark measures the real stack.")
    reset_database(os.environ["DATABASE_URL"])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quantumleap.settings", "LOG_LEVEL": "WARNING"}
    env["HOUSEKEEPING_IN_PROCESS"] = "0"
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantumleap.settings")
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.utils import timezone

    from accounts.services import api_key_create
    from risk.models import RiskParameters
    from strategies.models import Strategy, TradingSignal
    from trading.core.orders import OPEN_STATUSES
    from trading.models import Account, Order, Position

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    demo = Strategy.objects.get(name="demo-ai")
    account = demo.account
    allowed = EXPOSURE * account.cash  # the gross exposure the account may hold, at its starting equity
    Strategy.objects.filter(pk=demo.pk).update(status=Strategy.Status.STOPPED)
    capital = (account.cash / args.strategies).quantize(Decimal("0.01"))
    RiskParameters.objects.filter(account=account).update(
        max_portfolio_exposure=EXPOSURE,
        max_position_size=1,
        max_sector_exposure=1,
        max_strategy_orders_per_minute=None,
        max_account_orders_per_minute=None,
    )
    Strategy.objects.bulk_create(
        Strategy(
            owner=demo.owner,
            account=account,
            name=f"bench-{number:05d}",
            strategy_type=Strategy.StrategyType.EXTERNAL_AI,
            capital=capital,
            status=Strategy.Status.RUNNING,
            deployed_at=timezone.now(),
        )
        for number in range(args.strategies)
    )
    fleet = list(Strategy.objects.filter(name__startswith="bench-").order_by("pk").values_list("pk", flat=True))
    running = Strategy.objects.filter(owner=demo.owner, status=Strategy.Status.RUNNING).count()
    key = api_key_create(user=demo.owner)

    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="ql-bench-strategies-"))
    print(f"process logs in {logs}")
    web = subprocess.Popen(
        [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "quantumleap.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=(logs / "web.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    workers = [
        subprocess.Popen(
            [python, "-m", "celery", "-A", "quantumleap", "worker", "-l", "warning", "-c", "2", "-n", f"sb{i}@%h"],
            cwd=ROOT,
            env=env,
            stdout=(logs / f"worker{i}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i in range(args.workers)
    ]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("the web process did not come up")
            time.sleep(0.2)
        from quantumleap.celery import app

        while len(app.control.ping(timeout=1.0)) < args.workers:
            time.sleep(0.5)

        expires = (timezone.now() + timedelta(hours=2)).isoformat()
        bodies = [
            json.dumps(
                {
                    "id": f"bench-{i}",
                    "strategy_id": strategy_id,
                    "symbol": SYMBOLS[i % len(SYMBOLS)],
                    "signal_type": "BUY",
                    "confidence_score": "0.7",
                    "position_size": "0.9",
                    "expires_at": expires,
                    "metadata": {"model": f"model-{i % 3}"},
                }
            )
            for i, strategy_id in enumerate(fleet)
        ]
        lock = threading.Lock()
        statuses: dict[int, int] = {}
        latencies: list[float] = []
        start = threading.Barrier(args.threads + 1)

        def producer(first: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            start.wait()
            for index in range(first, len(bodies), args.threads):
                began = time.perf_counter()
                conn.request("POST", "/api/v1/signals/", bodies[index], headers)
                response = conn.getresponse()
                response.read()
                took = (time.perf_counter() - began) * 1000
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    latencies.append(took)

        threads = [threading.Thread(target=producer, args=(i,)) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        start.wait()
        wall = time.perf_counter()
        for thread in threads:
            thread.join()
        posted = time.perf_counter() - wall

        signals = TradingSignal.objects.filter(external_id__startswith="bench-")
        # Inside the intake: the signal row is written first; a refused one is saved with its refusal, a taken
        # one gets its order, in the same transaction (its later status changes come with the fill).
        refusals = signals.filter(status="rejected").values_list("created_at", "updated_at")
        orders = Order.objects.filter(signal__in=signals, parent__isnull=True).values_list(
            "signal__created_at", "created_at"
        )
        service = [(decided - written).total_seconds() * 1000 for written, decided in [*refusals, *orders]]
        taken = signals.filter(status__in=["accepted", "executed"]).count()
        refused = signals.filter(status="rejected").count()
        settle_deadline = time.monotonic() + 600
        while Order.objects.filter(strategy_id__in=fleet, status__in=OPEN_STATUSES).exists():
            if time.monotonic() > settle_deadline:
                sys.exit("orders did not settle within 10 minutes")
            time.sleep(0.5)
        positions = list(Position.objects.filter(account=account).exclude(quantity=0))
        gross = sum((abs(p.quantity) * p.average_price for p in positions), Decimal(0))
        per_strategy: dict[int, Decimal] = {}
        for p in positions:
            per_strategy[p.strategy_id] = (
                per_strategy.get(p.strategy_id, Decimal(0)) + abs(p.quantity) * p.average_price
            )
        cash = Account.objects.get(pk=account.pk).cash

        print(f"strategies running: {running} on one user (capital {capital} each), cores: {os.cpu_count()}")
        print(f"signals posted: {len(bodies)} by {args.threads} producers at once in {posted:.1f} s; HTTP {statuses}")
        print(
            f"signals taken: {len(bodies) / posted:,.1f} per second "
            f"({taken} accepted, {refused} refused by the exposure limit)"
        )
        print(
            f"intake latency (POST round trip): p50 {percentile(latencies, 0.5):.1f} ms, "
            f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms"
        )
        print(
            f"intake service time (signal written -> its order or refusal, in the account's lock): "
            f"p50 {percentile(service, 0.5):.1f} ms, p99 {percentile(service, 0.99):.1f} ms"
        )
        largest = max(per_strategy.values(), default=Decimal(0))
        print(
            f"limits: gross exposure {gross:,.2f} of {allowed:,.2f} allowed; largest strategy "
            f"{largest:,.2f} of {capital} capital; cash {cash:,.2f}; "
            f"{'all held' if gross <= allowed and largest <= capital and cash >= 0 else 'BROKEN'}"
        )
    finally:
        for process in [web, *workers]:
            os.killpg(process.pid, signal.SIGTERM)
        for process in [web, *workers]:
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
