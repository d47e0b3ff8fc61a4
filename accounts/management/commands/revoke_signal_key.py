from django.core.management.base import BaseCommand

from accounts.management.commands._keys import key_by_prefix
from accounts.services import api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (ql_1a2b3c4d_): it is refused from now on."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix: str, **options):
        key = api_key_revoke(key_id=key_by_prefix(prefix).pk)
        self.stdout.write(
            f"Revoked {key.display_prefix}… of {key.user.get_username()} at {key.revoked_at:%Y-%m-%dT%H:%M:%SZ}."
        )
