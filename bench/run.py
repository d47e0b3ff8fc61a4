"""`make bench`: every benchmark in bench/, one after another, each printing its figures and their ratio to goal.

    .venv/bin/python bench/run.py                 # quick sizes (a few minutes on 2 cores)
    .venv/bin/python bench/run.py --full          # the sizes README quotes (long)
    .venv/bin/python bench/run.py --only marketdata risk

The market-data benchmark runs anywhere (embedded, throwaway SQLite). The risk and
pipeline benchmarks measure the real stack and need DATABASE_URL and REDIS_URL; without
them they are listed as not run, with the reason, and the run still succeeds. Each
benchmark runs in its own process, so one's memory never counts in another's peak RSS.
"""

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    quick: tuple[str, ...]
    full: tuple[str, ...]
    real_stack: bool


BENCHMARKS = [
    Benchmark("marketdata", "marketdata_bench.py", ("--updates", "1000000"), ("--updates", "10000000"), False),
    Benchmark("risk", "risk_bench.py", (), (), True),
    Benchmark("audit", "audit_bench.py", ("--events", "5000"), ("--events", "20000"), True),
    Benchmark(
        "pipeline",
        "pipeline_bench.py",
        ("--signals", "300", "--web", "1", "--threads", "8"),
        ("--signals", "1500", "--web", "3", "--threads", "16"),
        True,
    ),
    Benchmark(
        "strategies",
        "strategies_bench.py",
        ("--strategies", "1000", "--threads", "8"),
        ("--strategies", "1000", "--threads", "16", "--workers", "2"),
        True,
    ),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the sizes README quotes")
    parser.add_argument("--only", nargs="*", choices=[b.name for b in BENCHMARKS], help="run only these")
    args = parser.parse_args()
    real_stack = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    summary: list[tuple[str, str]] = []
    failed = False
    for bench in BENCHMARKS:
        if args.only and bench.name not in args.only:
            continue
        if bench.real_stack and not real_stack:
            summary.append((bench.name, "not run: set DATABASE_URL and REDIS_URL (it measures the real stack)"))
            continue
        command = [sys.executable, str(BENCH / bench.script), *(bench.full if args.full else bench.quick)]
        print(f"\n=== {bench.name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, check=False)
        took = time.monotonic() - started
        failed |= done.returncode != 0
        summary.append((bench.name, f"exit {done.returncode} after {took:.0f} s"))
    print("\n=== summary")
    for name, outcome in summary:
        print(f"{name:12} {outcome}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
