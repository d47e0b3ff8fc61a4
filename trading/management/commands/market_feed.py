import signal
import threading

from django.core.management.base import BaseCommand

from trading.marketdata import feed_run


class Command(BaseCommand):
    help = "Run the simulated market feed as its own process (the real stack); Ctrl-C stops it."

    def add_arguments(self, parser):
        parser.add_argument("--speedup", type=float, default=60.0, help="Simulated seconds per real second")

    def handle(self, *args, speedup: float, **options):
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write("market feed running; Ctrl-C to stop")
        try:
            feed_run(stop, speedup=speedup)
        except KeyboardInterrupt:
            stop.set()
