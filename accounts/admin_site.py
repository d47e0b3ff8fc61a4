"""The admin's site: django-otp's OTPAdminSite, entered only with a session verified by a one-time password."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_otp.admin import OTPAdminSite


class VerifiedAdminSite(OTPAdminSite):
    """Every ``@admin.register`` lands here (the admin app's ``default_site``).

    Signing in happens once, on the site's own two-step login (password, then the code): the admin's login
    page sends there, and back to the admin when done.
    """

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or "/admin/"
        return HttpResponseRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': next_url})}")
