from django.core.management.base import BaseCommand, CommandError

from trading.brokers.credentials import CredentialError
from trading.services.credentials import credentials_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored broker credential under the first key of CREDENTIALS_KEYS. Put the new key "
        "first (keep the old one after it), run this, then drop the old key."
    )

    def handle(self, *args, **options):
        try:
            count = credentials_rotate()
        except CredentialError as error:
            raise CommandError(f"{error.code}: {error.message} Nothing was changed.") from None
        self.stdout.write(self.style.SUCCESS(f"re-encrypted {count} credentials under the current key"))
