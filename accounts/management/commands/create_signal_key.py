from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a signal producer and print it, once. Only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--strategy", help="Scope the key to this strategy (by name)")
        parser.add_argument("--name", default="", help="A label for the key")

    def handle(self, *args, username: str, strategy: str | None, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username}.")
        scoped = None
        if strategy:
            scoped = user.strategies.filter(name=strategy).first()
            if scoped is None:
                raise CommandError(f"{username} has no strategy named {strategy}.")
        self.stdout.write(api_key_create(user=user, strategy=scoped, name=name))
