from django.core.management.base import BaseCommand

from accounts.models import ApiKey


class Command(BaseCommand):
    help = "List API keys (prefix, user, strategy, name, created, last used, expiry, revocation); never a key."

    def add_arguments(self, parser):
        parser.add_argument("--username", help="Only this user's keys")
        parser.add_argument("--all", action="store_true", help="Revoked and expired keys too")

    def handle(self, *args, username: str | None, **options):
        keys = ApiKey.objects.select_related("user", "strategy").order_by("user__username", "-created_at")
        if username:
            keys = keys.filter(user__username=username)
        for key in keys:
            if not options["all"] and not key.is_usable():
                continue
            fields = [
                key.display_prefix,
                key.user.get_username(),
                key.strategy.name if key.strategy else "(all strategies)",
                key.name or "-",
                f"created {key.created_at:%Y-%m-%dT%H:%MZ}",
                f"last used {key.last_used_at:%Y-%m-%dT%H:%MZ}" if key.last_used_at else "never used",
                f"expires {key.expires_at:%Y-%m-%dT%H:%MZ}" if key.expires_at else "no expiry",
            ]
            if key.revoked_at:
                fields.append(f"revoked {key.revoked_at:%Y-%m-%dT%H:%MZ}")
            self.stdout.write("\t".join(fields))
