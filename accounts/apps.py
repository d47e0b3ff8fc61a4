from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"


class OtpAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with its default site verified by a one-time password (django-otp's OTPAdminSite)."""

    default = False  # accounts' own config stays AccountsConfig; settings name this one
    default_site = "accounts.admin_site.VerifiedAdminSite"
