"""Price updates per second through MarketDataManager.handle_price_update, with stop checks on 1,000 positions.

    .venv/bin/python bench/marketdata_bench.py                  # 10,000,000 updates, reports at 1M and 10M
    .venv/bin/python bench/marketdata_bench.py --updates 200000 # a quick run

Runs embedded (a throwaway SQLite file, local-memory cache) unless DATABASE_URL
/ REDIS_URL are set, then on the real stack. Everything the feed does in
production runs: last prices, 1-minute bars upserted in batches, cache writes
batched every 100 ms, staleness sweeps, the paper broker's resting-order
trigger and the browsers' push as batched subscribers, and one per-tick
subscriber checking the production StopMonitor (risk/core/stops.py) of 1,000
stops (100 symbols x 10 positions).
A triggered stop is re-armed around the current price, so 1,000 positions
stay open throughout. Per-update latency is sampled on 1 update in 16 into a
fixed histogram, so measuring does not grow memory either.
"""

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 250_000
DESIGN = 10_000
BUCKET_NS = 25
BUCKETS = 8000  # 25 ns resolution up to 200 us; slower samples land in the last bucket


def setup_django() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantumleap.settings")
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp(prefix="ql-bench-")) / "bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from django.conf import settings

    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"database {db}, cache {cache}"


def price_paths(symbols: list[str], length: int, rng: random.Random) -> list[list[Decimal]]:
    """A random walk per symbol, mirrored so the cycle has no jump where it wraps."""
    paths = []
    for _ in symbols:
        price = rng.uniform(20, 500)
        walk = []
        for _ in range(length):
            price *= 1 + rng.gauss(0, 0.0015)
            walk.append(Decimal(f"{price:.2f}"))
        paths.append(walk + walk[::-1])
    return paths


def _drift_path(length: int, rng: random.Random) -> list[float]:
    factor, walk = 1.0, []
    for _ in range(length):
        factor = min(max(factor * (1 + rng.gauss(0, 0.002)), 0.9), 1.1)
        walk.append(factor)
    return walk + walk[::-1]


def percentile(hist: list[int], fraction: float) -> float:
    total = sum(hist)
    target = total * fraction
    running = 0
    for index, count in enumerate(hist):
        running += count
        if running >= target:
            return (index + 0.5) * BUCKET_NS / 1000
    return BUCKETS * BUCKET_NS / 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000_000)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--positions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    stack = setup_django()
    from django.core.cache import cache

    from risk.core.stops import StopMonitor, StopSpec
    from trading.core.bars import PriceUpdate
    from trading.marketdata.manager import MarketDataManager
    from trading.marketdata.prices import PRICE_AT_KEY, PRICE_KEY
    from trading.marketdata.runner import subscribers_wire
    from trading.models import Bar

    rng = random.Random(args.seed)
    symbols = [f"BX{i:04d}" for i in range(args.symbols)]
    Bar.objects.filter(symbol__in=symbols).delete()
    paths = price_paths(symbols, 2048, rng)
    cycle = len(paths[0])
    # A second, slower wave multiplies the first; the two cycles together repeat only after 4 million ticks.
    drift = [Decimal(f"{f:.4f}") for f in _drift_path(1021, rng)]
    drift_cycle = len(drift)

    # The production stop checker (risk/core/stops.py) with 1,000 open positions, each with its stop loss.
    book = StopMonitor()
    opened = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    for key in range(args.positions):
        symbol_index = key % len(symbols)
        symbol = symbols[symbol_index]
        quantity = Decimal(-100) if key % 2 == 0 else Decimal(100)  # even keys short, odd keys long
        start = paths[symbol_index][0]
        away = Decimal(str(round(rng.uniform(0.002, 0.03), 4)))
        level = start * (1 - away) if quantity > 0 else start * (1 + away)
        book.track(StopSpec(key, symbol, quantity, opened, stop_loss=level.quantize(Decimal("0.01"))))
    quantity_of = {key: Decimal(-100) if key % 2 == 0 else Decimal(100) for key in range(args.positions)}
    triggered = 0
    # Re-armed stops sit 0.2% to 3% away, so stops keep firing for the whole run.
    distances = [Decimal(str(round(rng.uniform(0.002, 0.03), 4))) for _ in range(997)]

    def stop_check(update: PriceUpdate) -> None:
        nonlocal triggered
        hit = book.on_price(update.symbol, update.price, update.at)
        if hit:
            triggered += len(hit)
            for breach in hit:
                # The position closed at its stop; a new one opens with its own stop.
                quantity = quantity_of[breach.key]
                away = distances[triggered % 997]
                level = update.price * (1 - away) if quantity > 0 else update.price * (1 + away)
                book.track(StopSpec(breach.key, update.symbol, quantity, update.at, stop_loss=level))

    manager = MarketDataManager()
    manager.subscribe_all(stop_check)
    # The simulated venue's resting orders as production wires them; the stop check is the pure core above.
    wiring = subscribers_wire(manager, starters=["trading.services.venue.venue_subscribe"])
    manager.feed_started(symbols)

    hist = [0] * BUCKETS
    handle = manager.handle_price_update
    perf = time.perf_counter_ns
    size = Decimal(100)
    at = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    step = timedelta(milliseconds=100)  # every symbol ticks 10 times a second of market time
    n_symbols = len(symbols)
    checkpoints = sorted({c for c in (1_000_000, 10_000_000, args.updates) if c <= args.updates})
    print(
        f"QuantumLeap market data benchmark: {args.updates:,} updates, {n_symbols} symbols, "
        f"{len(book):,} open positions with stops; {stack}"
    )
    print(f"{'updates':>12} {'updates/s':>12} {'p50 us':>8} {'p99 us':>8} {'peak RSS MB':>12} {'x goal':>7}")
    started = time.perf_counter()
    done = 0
    try:
        for checkpoint in checkpoints:
            for i in range(done, checkpoint):
                j = i % n_symbols
                if not j:
                    at += step
                k = i // n_symbols
                update = PriceUpdate(symbols[j], paths[j][k % cycle] * drift[k % drift_cycle], size, at)
                if i & 15:
                    handle(update)
                else:
                    t0 = perf()
                    handle(update)
                    hist[min((perf() - t0) // BUCKET_NS, BUCKETS - 1)] += 1
            done = checkpoint
            elapsed = time.perf_counter() - started
            rate = done / elapsed
            print(
                f"{done:>12,} {rate:>12,.0f} {percentile(hist, 0.5):>8.2f} {percentile(hist, 0.99):>8.2f} "
                f"{peak_rss_mb():>12.1f} {rate / GOAL:>7.2f}",
                flush=True,
            )
    finally:
        manager.feed_stopped()
        for subscription in wiring:
            subscription.cancel()
    bars = Bar.objects.filter(symbol__in=symbols).count()
    print(
        f"stops triggered and re-armed: {triggered:,}; bars written: {bars:,} "
        f"(dropped {manager.bars.dropped}); refused updates: {manager.refused}"
    )
    print(
        f"design asks {DESIGN:,}/s, goal {GOAL:,}/s: ratio to goal {done / (time.perf_counter() - started) / GOAL:.2f}"
    )
    Bar.objects.filter(symbol__in=symbols).delete()
    cache.delete_many([key.format(s) for s in symbols for key in (PRICE_KEY, PRICE_AT_KEY)])


if __name__ == "__main__":
    main()
