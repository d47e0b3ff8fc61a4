from django.core.management.base import BaseCommand, CommandError

from trading.audit import audit_seal_all, audit_verify


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's hash chain from its first event; name the first broken link and exit 1 "
        "if one is altered, missing or out of place."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true", help="Seal the committed events first (as the sealer does).")

    def handle(self, *args, seal: bool = False, **options):
        if seal:
            self.stdout.write(f"sealed {audit_seal_all()} events")
        report = audit_verify()
        if report.broken is not None:
            raise CommandError(f"audit trail broken at {report.broken} ({report.checked} records before it are intact)")
        self.stdout.write(
            self.style.SUCCESS(
                f"audit trail intact: {report.checked} records, head seq {report.head_seq}; "
                f"{report.unsealed} events not sealed yet"
            )
        )
