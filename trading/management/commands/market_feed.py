import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from trading.brokers.ib_feed import IbFeed
from trading.marketdata.feeds.base import Feed
from trading.marketdata.feeds.replay import ReplayFeed
from trading.marketdata.runner import feed_run


class Command(BaseCommand):
    help = (
        "Run a market feed as its own process (the real stack): the simulated feed by default, "
        "a historical replay of OHLCV bars (--replay), or Interactive Brokers streaming (--ib). Ctrl-C stops it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--speedup", type=float, default=60.0, help="Simulated seconds per real second")
        parser.add_argument("--replay", metavar="PATH", help="CSV or Parquet OHLCV bars to replay")
        parser.add_argument("--speed", type=float, default=1.0, help="Replay speed factor; 0 replays at full speed")
        parser.add_argument("--symbol", help="Symbol of a replay file that has no symbol column")
        parser.add_argument("--ib", metavar="SYMBOLS", help="Symbols to stream from IB, comma-separated")

    def handle(self, *args, speedup: float, replay: str | None, speed: float, symbol: str | None, ib: str | None, **_):
        if replay and ib:
            raise CommandError("Choose one feed: --replay or --ib.")
        feed: Feed | None = None
        if replay:
            if speed < 0:
                raise CommandError("--speed must be 0 (full speed) or more.")
            feed = ReplayFeed(replay, speed=speed or None, symbol=symbol)
        elif ib:
            feed = IbFeed([s.strip() for s in ib.split(",") if s.strip()])
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write(f"market feed running ({type(feed).__name__ if feed else 'simulated'}); Ctrl-C to stop")
        try:
            feed_run(stop, speedup=speedup, feed=feed)
        except KeyboardInterrupt:
            stop.set()
