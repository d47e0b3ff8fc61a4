"""manage.py backtest: run a backtest from the terminal, with a progress bar, and print its figures.

    python manage.py backtest --user trader --type SMA_CROSSOVER \\
        --param fast_period=10 --param slow_period=20 --param allow_short=true \\
        --sample GOOG --sizing all_in --commission-model percent --commission 0.2

The request goes through the same checks as ``POST /api/v1/backtests/`` and the run is stored like
any other (it shows on the /backtests/ page). It runs in this process unless ``--queue`` sends it to
the Celery workers, whose progress this command then follows.
"""

import json
import sys
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from backtests import services
from backtests.models import FINISHED, Backtest
from backtests.serializers import BacktestInput

BAR_WIDTH = 40


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class Command(BaseCommand):
    help = "Run a backtest of a built-in generator or of a strategy's recorded signals, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Whose backtest it is (a username)")
        parser.add_argument("--type", required=True, dest="strategy_type", help="SMA_CROSSOVER, RSI_MEAN_REVERSION, …")
        parser.add_argument("--param", action="append", default=[], help="name=value (repeat); values as JSON")
        parser.add_argument("--strategy", type=int, help="A live strategy: its signals (EXTERNAL_AI), fills to compare")
        data = parser.add_mutually_exclusive_group()
        data.add_argument("--sample", help="GOOG or EURUSD (the backtesting package's data; the default, GOOG)")
        data.add_argument("--bars", metavar="SYMBOL", help="The stored 1-minute bars of a symbol")
        data.add_argument("--dataset", type=int, help="An uploaded dataset's id")
        parser.add_argument("--start", help="ISO time with zone, e.g. 2010-01-01T00:00:00Z")
        parser.add_argument("--end", help="ISO time with zone (exclusive)")
        parser.add_argument("--name", default="")
        parser.add_argument("--cash", dest="initial_cash")
        parser.add_argument("--fill-timing", choices=["next_open", "this_close"])
        parser.add_argument("--commission-model", choices=["none", "per_share", "per_order", "bps", "percent"])
        parser.add_argument("--commission")
        parser.add_argument("--slippage-model", choices=["none", "bps", "fixed"])
        parser.add_argument("--slippage")
        parser.add_argument(
            "--sizing", choices=["fraction_of_equity", "fraction_of_capital", "fixed_quantity", "all_in"]
        )
        parser.add_argument("--sizing-value")
        parser.add_argument("--queue", action="store_true", help="Send it to the Celery workers and follow it")
        parser.add_argument("--json", action="store_true", help="Print the stored result as JSON")

    def _request(self, options: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"strategy_type": options["strategy_type"], "name": options["name"]}
        parameters = {}
        for pair in options["param"]:
            name, sep, text = pair.partition("=")
            if not sep:
                raise CommandError(f"--param {pair!r}: write name=value.")
            parameters[name.strip()] = _value(text.strip())
        if parameters:
            body["parameters"] = parameters
        if options["strategy"]:
            body["strategy_id"] = options["strategy"]
        if options["bars"]:
            body.update(source="bars", symbol=options["bars"])
        elif options["dataset"]:
            body.update(source="dataset", dataset_id=options["dataset"])
        else:
            body.update(source="sample", sample=options["sample"] or "GOOG")
        for name in ("start", "end"):
            if options[name]:
                body[name] = options[name]
        settings = {
            name: options[name]
            for name in (
                "initial_cash",
                "fill_timing",
                "commission_model",
                "commission",
                "slippage_model",
                "slippage",
                "sizing",
                "sizing_value",
            )
            if options.get(name) is not None
        }
        if settings:
            body["settings"] = settings
        return body

    def _bar(self, done: int, total: int | None) -> None:
        if not total:
            return
        filled = int(BAR_WIDTH * done / total)
        line = f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * done // total:3d} % {done:,}/{total:,} bars"
        self.stdout.write(line, ending="")
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["user"]).first()
        if owner is None:
            raise CommandError(f"No user {options['user']!r}.")
        data = BacktestInput(data=self._request(options))
        if not data.is_valid():
            raise CommandError(f"Invalid backtest: {json.dumps(data.errors)}")
        try:
            backtest = services.backtest_create(owner=owner, data=data.validated_data, dispatch=options["queue"])
        except services.InvalidBacktest as error:
            raise CommandError(f"Invalid backtest: {json.dumps(error.errors)}") from error
        self.stdout.write(f"backtest {backtest.pk}: {backtest.strategy_type} on {backtest.symbol}")
        if options["queue"]:
            while backtest.status not in FINISHED:
                time.sleep(0.5)
                backtest.refresh_from_db()
                self._bar(backtest.bars_done, backtest.bars_total)
        else:
            services.backtest_run(backtest_id=backtest.pk, observer=self._bar)
        self.stdout.write("")
        backtest = Backtest.objects.get(pk=backtest.pk)
        if options["json"]:
            document = {"id": backtest.pk, "status": backtest.status, "error": backtest.error, **backtest.summary}
            self.stdout.write(json.dumps(document, indent=2))
        else:
            self._report(backtest)
        if backtest.status != "completed":
            sys.exit(1)

    def _report(self, backtest: Backtest) -> None:
        summary = backtest.summary or {}
        self.stdout.write(f"status: {backtest.status}" + (f" ({backtest.error})" if backtest.error else ""))
        if not summary:
            return
        self.stdout.write(f"bars: {summary['bars']:,} from {summary['start']} to {summary['end']}")
        for name, text in summary.get("conventions", {}).items():
            self.stdout.write(f"  {name}: {text}")
        self.stdout.write(f"final equity: {summary['final_equity']}  trades: {len(backtest.trades)}")
        for name, value in (summary.get("metrics") or {}).items():
            self.stdout.write(f"  {name}: {value}")
        if summary.get("run_log_total"):
            self.stdout.write(f"refused or skipped: {summary['run_log_total']}")
        if backtest.comparison:
            c = backtest.comparison
            self.stdout.write(f"live P&L {c['live_pnl']}, backtest {c['backtest_pnl']}, gap {c['pnl_gap']}")
