from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts.roles import roles_ensure

        # After auth has made this app's permissions: the role groups exist with them, even after a flush.
        post_migrate.connect(roles_ensure, sender=self, dispatch_uid="accounts.roles_ensure")
