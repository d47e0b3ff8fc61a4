"""Sessions held to the sign-in rules: a user with a device is verified by its code, an operations user has a
device, and a session unused for SESSION_COOKIE_AGE ends."""

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse

from accounts.otp import OTP_NOT_ENROLLED, otp_enrolled
from accounts.permissions import is_operations

ENROL_PATH = "/account/security/"
# Pages a session reaches before it has a device: enrolment itself, signing in and out, and what pages load.
OPEN_PATHS = (ENROL_PATH, "/accounts/login/", "/accounts/logout/", "/static/", "/healthz", "/readyz", "/metrics")
SEEN_KEY = "_seen"


class OtpEnforcementMiddleware:
    """After django-otp's OTPMiddleware (``request.user.is_verified()``).

    - A session of a user who has a confirmed device but did not give its code (the device was enrolled by an
      operator after the session began) is logged out: the request goes on as anonymous.
    - An operations user without a device is sent to enrolment before anything else (an API call answers 403
      ``otp_not_enrolled``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.is_verified():
            if otp_enrolled(user):
                logout(request)
            elif not request.path.startswith(OPEN_PATHS) and is_operations(user):
                return _enrol_first(request)
        return self.get_response(request)


def _enrol_first(request: HttpRequest) -> HttpResponse:
    message = "Operations users sign in with a one-time password: enrol a device on /account/security/ first."
    if request.path.startswith("/api/"):
        return JsonResponse({"code": OTP_NOT_ENROLLED, "message": message}, status=403)
    return HttpResponseRedirect(f"{ENROL_PATH}?{urlencode({'next': request.get_full_path()})}")


class SessionIdleMiddleware:
    """The idle timeout: a session in use is renewed (its expiry moves SESSION_COOKIE_AGE ahead), at most once
    per SESSION_RENEW_SECONDS, so that use costs no write per request; one unused that long has expired."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if session.session_key is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get(SEEN_KEY, 0) >= settings.SESSION_RENEW_SECONDS:
                session[SEEN_KEY] = now  # modified: saved with a new expiry
        return self.get_response(request)
