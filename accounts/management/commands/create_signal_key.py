from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.services import ApiKeyError, api_key_create


class Command(BaseCommand):
    help = "Create an API key for a signal producer and print it, once. Only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--strategy", help="Scope the key to this strategy (by name)")
        parser.add_argument("--name", default="", help="A label for the key")
        parser.add_argument("--expires-days", type=int, help="The key stops working after this many days")
        parser.add_argument("--rate-limit", type=int, help="Requests a minute (default: API_RATE_PER_KEY)")

    def handle(self, *args, username: str, strategy: str | None, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username}.")
        scoped = None
        if strategy:
            scoped = user.strategies.filter(name=strategy).first()
            if scoped is None:
                raise CommandError(f"{username} has no strategy named {strategy}.")
        days, rate = options.get("expires_days"), options.get("rate_limit")
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1.")
        if rate is not None and rate < 1:
            raise CommandError("--rate-limit must be at least 1.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            raw = api_key_create(
                user=user, strategy=scoped, name=name, expires_at=expires_at, rate_limit_per_minute=rate
            )
        except ApiKeyError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(raw)
