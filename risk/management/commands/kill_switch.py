"""Engage or release the emergency stop from a shell: records who, when and why."""

import getpass

from django.core.management.base import BaseCommand, CommandError

from risk import services
from risk.models import KillSwitch
from strategies.models import Strategy
from trading.models import Account


class Command(BaseCommand):
    help = (
        "engage --scope global|account|strategy [--account ID] [--strategy ID] --reason ... [--flatten]; "
        "release --id N --reason ...; status"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["engage", "release", "status"])
        parser.add_argument("--scope", choices=["global", "account", "strategy"], default="account")
        parser.add_argument("--account", type=int)
        parser.add_argument("--strategy", type=int)
        parser.add_argument("--id", type=int, help="the engagement to release")
        parser.add_argument("--reason", default="")
        parser.add_argument("--flatten", action="store_true")
        parser.add_argument("--actor", default=None, help="who (default: the shell user)")

    def handle(self, *args, **options):
        actor = options["actor"] or f"shell:{getpass.getuser()}"
        try:
            if options["action"] == "status":
                for switch in KillSwitch.objects.filter(released_at__isnull=True):
                    self.stdout.write(
                        f"#{switch.pk} {switch} by {switch.engaged_by} at {switch.engaged_at}: {switch.reason}"
                    )
                return
            if options["action"] == "release":
                if not options["id"]:
                    raise CommandError("--id names the engagement to release.")
                switch = services.kill_switch_release(
                    kill_switch_id=options["id"], actor=actor, reason=options["reason"]
                )
                self.stdout.write(f"released #{switch.pk}")
                return
            account = Account.objects.get(pk=options["account"]) if options["account"] else None
            strategy = Strategy.objects.get(pk=options["strategy"]) if options["strategy"] else None
            switch = services.kill_switch_engage(
                scope=options["scope"].upper(),
                account=account,
                strategy=strategy,
                actor=actor,
                reason=options["reason"],
                flatten=options["flatten"],
            )
            self.stdout.write(f"engaged #{switch.pk}")
        except (ValueError, Account.DoesNotExist, Strategy.DoesNotExist, KillSwitch.DoesNotExist) as error:
            raise CommandError(str(error)) from error
