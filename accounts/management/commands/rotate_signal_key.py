from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._keys import key_by_prefix
from accounts.services import ROTATION_OVERLAP_DEFAULT, ApiKeyError, api_key_rotate


class Command(BaseCommand):
    help = (
        "Rotate an API key: print its successor (once), and let the old key work for the overlap "
        "(default 24 hours) so the producer can switch without a gap."
    )

    def add_arguments(self, parser):
        parser.add_argument("prefix")
        parser.add_argument(
            "--overlap-hours",
            type=float,
            default=ROTATION_OVERLAP_DEFAULT.total_seconds() / 3600,
            help="How long the old key keeps working (0: it stops now)",
        )

    def handle(self, *args, prefix: str, overlap_hours: float, **options):
        if overlap_hours < 0:
            raise CommandError("--overlap-hours cannot be negative.")
        try:
            _, raw = api_key_rotate(key_id=key_by_prefix(prefix).pk, overlap=timedelta(hours=overlap_hours))
        except ApiKeyError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(raw)
