from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts.roles import roles_ensure

        # After auth has made this app's permissions: the role groups exist with them, even after a flush.
        post_migrate.connect(roles_ensure, sender=self, dispatch_uid="accounts.roles_ensure")


class OtpAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with its default site verified by a one-time password (django-otp's OTPAdminSite)."""

    default = False  # accounts' own config stays AccountsConfig; settings name this one
    default_site = "accounts.admin_site.VerifiedAdminSite"
