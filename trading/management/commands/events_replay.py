"""manage.py events_replay --account N: rebuild an account from its event log and list every difference."""

from django.core.management.base import BaseCommand, CommandError

from trading.models import Account
from trading.replay import account_replay


class Command(BaseCommand):
    help = "Rebuild accounts' orders, positions and cash from the event log alone; report each difference."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, action="append", help="Account id (repeat; default: all)")

    def handle(self, *args, account: list[int] | None, **options):
        accounts = Account.objects.order_by("pk")
        if account:
            accounts = accounts.filter(pk__in=account)
            missing = set(account) - set(accounts.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No account {', '.join(map(str, sorted(missing)))}.")
        broken = 0
        for found in accounts:
            problems = account_replay(account=found)
            status = "matches its event log" if not problems else f"{len(problems)} differences"
            self.stdout.write(f"account {found.pk} ({found.name}): {status}")
            for problem in problems:
                self.stdout.write(f"  {problem}")
            broken += bool(problems)
        if broken:
            raise CommandError(f"{broken} account(s) differ from their event log.")
