"""Backtest engine speed and memory: SMA crossover over synthetic minute bars, ours against backtesting.py.

    .venv/bin/python bench/backtest_bench.py                      # 1,000,000 bars, both engines, RSS at 100k and 1M
    .venv/bin/python bench/backtest_bench.py --bars 200000 --repeat 1 --no-rss   # a quick run

Data: a seeded geometric random walk of 1-minute bars (close-to-close log return
N(0, 0.001), open at the previous close, high/low a little beyond, all on the cent),
built once as a pandas DataFrame of floats. Both engines run SMA 10/20 crossover on
it in the same process, timed end to end from that DataFrame:

- ours: ``run_backtest(FrameBars(frame), strategy_generator("SMA_CROSSOVER", ...),
  BacktestConfig(sizing=ALL_IN))``: Decimal bars streamed from the frame, the live
  generator (exact fast path), every order risk-checked by ``validate_order``, the order
  state machine, ``apply_fill``, ``closed_trades`` and the metrics at the end;
- backtesting.py 0.6.6: ``Backtest(frame, SmaCross, cash=10_000).run()`` with its own
  SmaCross (``position.close(); buy()`` / ``sell()`` on ``crossover``), or the long-only
  variant (``buy()`` on the up-cross, ``position.close()`` on the down-cross).

Two strategies: ``flip`` (long/short on every cross: two orders a cross, the oracle's
semantics) and ``long`` (our generator's default: long or flat, one order a cross).
No commission, so equity never runs dry and every cross trades to the end.
Figures: bars per second (p50 over ``--repeat`` runs; backtesting.py once at 1M bars unless
asked), the ratio, trades and final equity of both (the same strategy should give the
same trades), and the split of our time between bars and orders. Peak RSS is measured
in child processes at 100k and 1M bars: ours on a streamed source (bars generated chunk
by chunk, never held), and both engines on a DataFrame, less the RSS before their run.
"""

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 300_000
CHUNK = 65_536

from strategies.core.backtest.data import FrameBars, frames_bars, validate_ohlcv  # noqa: E402
from strategies.core.backtest.engine import BacktestConfig, run_backtest  # noqa: E402
from strategies.core.backtest.signals import strategy_generator  # noqa: E402
from strategies.core.backtest.sizing import ALL_IN  # noqa: E402


def synthetic_chunks(bars: int, seed: int, chunk: int = CHUNK):
    """The random walk, chunk by chunk (the same numbers whatever the chunk size is not promised; fixed CHUNK)."""
    rng = np.random.default_rng(seed)
    price = 100.0
    start = pd.Timestamp("2024-01-01", tz="UTC")
    done = 0
    while done < bars:
        n = min(chunk, bars - done)
        closes = price * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
        opens = np.concatenate(([price], closes[:-1]))
        wiggle = np.abs(rng.normal(0.0, 0.0005, n))
        frame = pd.DataFrame(
            {
                "Open": opens.round(2),
                "High": (np.maximum(opens, closes) * (1 + wiggle)).round(2),
                "Low": (np.minimum(opens, closes) * (1 - wiggle)).round(2),
                "Close": closes.round(2),
                "Volume": 100.0,
            },
            index=pd.date_range(start + pd.Timedelta(minutes=done), periods=n, freq="min"),
        )
        frame["High"] = frame[["Open", "High", "Close"]].max(axis=1)
        frame["Low"] = frame[["Open", "Low", "Close"]].min(axis=1)
        yield frame
        price = float(closes[-1])
        done += n


def synthetic_frame(bars: int, seed: int) -> pd.DataFrame:
    return pd.concat(list(synthetic_chunks(bars, seed)))


FAST, SLOW = 10, 20


def ours(source, flip: bool, trade_from=None):
    parameters = {"fast_period": FAST, "slow_period": SLOW, "allow_short": flip}
    config = BacktestConfig(sizing=ALL_IN, progress_every=1 << 20, trade_from=trade_from)
    return run_backtest(source, strategy_generator("SMA_CROSSOVER", parameters), config)


def theirs(frame: pd.DataFrame, flip: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from backtesting import Backtest, Strategy
        from backtesting.lib import crossover
        from backtesting.test import SMA

        class SmaCross(Strategy):
            def init(self):
                self.fast = self.I(SMA, self.data.Close, FAST)
                self.slow = self.I(SMA, self.data.Close, SLOW)

            def next(self):
                if crossover(self.fast, self.slow):
                    self.position.close()
                    self.buy()
                elif crossover(self.slow, self.fast):
                    self.position.close()
                    if flip:
                        self.sell()

        return Backtest(frame.tz_localize(None), SmaCross, cash=10_000, commission=0).run()


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    """This process's own high-water mark (VmHWM; ru_maxrss would carry the parent's across fork and exec)."""
    return _status_mb("VmHWM")


def current_rss_mb() -> float:
    return _status_mb("VmRSS")


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} "
        f"{platform.release()}; load average {load}"
    )


def child(args: argparse.Namespace) -> None:
    """One RSS measurement in a fresh process; prints 'MB' figures for the parent."""
    if args.child in ("ours-stream", "ours-stream-quiet"):
        # Quiet: every signal in the warm-up, so no trade: what the engine holds per bar alone.
        quiet = pd.Timestamp("2100-01-01", tz="UTC").to_pydatetime() if args.child == "ours-stream-quiet" else None
        before = current_rss_mb()
        stream = frames_bars(synthetic_chunks(args.bars, args.seed), "SYN", validate=False)
        result = ours(stream, args.flip, trade_from=quiet)
        print(f"{peak_rss_mb():.1f} {peak_rss_mb() - before:.1f} {len(result.trades)}")
        return
    frame = synthetic_frame(args.bars, args.seed)
    before = current_rss_mb()
    if args.child == "ours-frame":
        result = ours(FrameBars(frame, "SYN", validate=False), args.flip)
        trades = len(result.trades)
    else:
        trades = int(theirs(frame, args.flip)["# Trades"])
    print(f"{peak_rss_mb():.1f} {peak_rss_mb() - before:.1f} {trades}")


def rss(kind: str, bars: int, args: argparse.Namespace) -> tuple[float, float]:
    command = [sys.executable, __file__, "--child", kind, "--bars", str(bars), "--seed", str(args.seed)]
    command += ["--periods", args.periods]
    if args.flip:
        command.append("--flip")
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()
    return float(out[0]), float(out[1])


def timed(function, repeat: int) -> tuple[float, float, object]:
    """p50 wall time, p50 CPU time (this process: on a shared machine the fairer figure), last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=3, help="runs of our engine (p50 reported)")
    parser.add_argument("--theirs-repeat", type=int, default=1, help="runs of backtesting.py (p50 reported)")
    parser.add_argument("--strategy", choices=["flip", "long", "both"], default="both")
    parser.add_argument("--periods", default="10,20", help="fast,slow SMA periods")
    parser.add_argument("--no-theirs", action="store_true", help="skip backtesting.py")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak RSS runs at 100k and 1M bars")
    parser.add_argument("--only-rss", action="store_true", help="only the peak RSS runs")
    parser.add_argument(
        "--child", choices=["ours-stream", "ours-stream-quiet", "ours-frame", "theirs-frame"], help=argparse.SUPPRESS
    )
    parser.add_argument("--flip", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global FAST, SLOW
    FAST, SLOW = (int(x) for x in args.periods.split(","))
    if args.child:
        child(args)
        return

    print(f"QuantumLeap backtest benchmark: SMA {FAST}/{SLOW} crossover over {args.bars:,} synthetic 1-minute bars")
    print(f"machine: {machine()}")
    strategies = ["flip", "long"] if args.strategy == "both" else [args.strategy]
    if args.only_rss:
        strategies = []
    else:
        frame = synthetic_frame(args.bars, args.seed)
        source = FrameBars(frame, "SYN", validate=False)
        started = time.perf_counter()
        report = validate_ohlcv(frame)
        print(f"data: validate_ohlcv {time.perf_counter() - started:.2f} s ({report.summary()}), not counted below")
        last = frame.index[-1].to_pydatetime()
        if not args.no_theirs:
            theirs(frame.iloc[:200], True)  # import backtesting.py (and its plotting stack) before timing it
    for name in strategies:
        flip = name == "flip"
        wall, cpu, result = timed(lambda flip=flip: ours(source, flip), args.repeat)
        # The bars alone: the same run with every signal in the warm-up (trade_from after the last bar).
        quiet_wall, quiet_cpu, _ = timed(lambda flip=flip: ours(source, flip, trade_from=last), 1)
        per_order = (cpu - quiet_cpu) / max(result.orders, 1) * 1e6
        label = "long/short flip on each cross" if flip else "long or flat (the generator's default)"
        print(f"\n--- SMA {FAST}/{SLOW}, {label}")
        print(f"{'':16}{'bars/s wall':>12}{'bars/s CPU':>12}   details")
        rates = f"{args.bars / wall:>12,.0f}{args.bars / cpu:>12,.0f}"
        print(
            f"{'ours':16}{rates}   p50 of {args.repeat}: {wall:.2f} s wall, {cpu:.2f} s CPU; "
            f"{len(result.trades):,} trades, {result.orders:,} orders; final equity {result.final_equity}"
        )
        print(
            f"{'  bars alone':16}{args.bars / quiet_wall:>12,.0f}{args.bars / quiet_cpu:>12,.0f}   no orders; "
            f"the rest is {per_order:.1f} us CPU an order (signal, risk check, state machine, fill, trade, marks)"
        )
        if not args.no_theirs:
            their_wall, their_cpu, stats = timed(lambda flip=flip: theirs(frame, flip), args.theirs_repeat)
            their_equity = Decimal(repr(float(stats["Equity Final [$]"]))).quantize(Decimal("0.01"))
            print(
                f"{'backtesting.py':16}{args.bars / their_wall:>12,.0f}{args.bars / their_cpu:>12,.0f}   "
                f"p50 of {args.theirs_repeat}: {their_wall:.2f} s wall, {their_cpu:.2f} s CPU; "
                f"{int(stats['# Trades']):,} trades; final equity {their_equity}"
            )
            print(f"ratio ours / backtesting.py: {their_wall / wall:.2f}x wall, {their_cpu / cpu:.2f}x CPU")
        print(
            f"goal {GOAL:,} bars/s: ratio to goal {args.bars / wall / GOAL:.2f} wall, {args.bars / cpu / GOAL:.2f} CPU"
        )
    if strategies:
        print(
            "\n(trades differ a little: on cent prices the SMAs often tie; ours keeps the last side through a tie, "
            "backtesting.py's crossover needs a strict change between two bars, and its SMAs are float)"
        )
    if not args.no_rss:
        print(f"\npeak RSS (MB), each in its own process, SMA {FAST}/{SLOW} long/short:")
        args.flip = True
        sizes = [100_000, 1_000_000]
        print("  peak of the process, and in brackets its growth over the run (after imports and, for the")
        print("  frame columns, after building the frame). 'no trades': every signal in the warm-up, what the")
        print("  engine holds per bar; with trades, the result's trades and fills (one per order) come on top.")
        print(f"{'bars':>10} {'ours streamed':>20} {'(no trades)':>20} {'ours on a frame':>20} {'backtesting.py':>20}")
        for size in sizes:
            streamed, streamed_delta = rss("ours-stream", size, args)
            quiet, quiet_delta = rss("ours-stream-quiet", size, args)
            frame_peak, frame_delta = rss("ours-frame", size, args)
            line = (
                f"{size:>10,} {streamed:>11.1f} ({streamed_delta:+6.1f}) {quiet:>11.1f} ({quiet_delta:+6.1f})"
                f" {frame_peak:>11.1f} ({frame_delta:+6.1f})"
            )
            if not args.no_theirs:
                their_peak, their_delta = rss("theirs-frame", size, args)
                line += f" {their_peak:>11.1f} ({their_delta:+6.1f})"
            print(line, flush=True)
    print(f"\nmachine at the end: load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
