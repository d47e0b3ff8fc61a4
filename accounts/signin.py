"""Signing in with a password, then the one-time password of a user who has a device; enrolling a device.

The password step signs nobody in when the user has a device: it holds the user in the session for
OTP_LOGIN_PENDING_SECONDS, and the code step signs in (``django.contrib.auth.login``) and marks the session
verified (``django_otp.login``). A wrong code counts against the device (django-otp's throttling: each failure
doubles the wait before the next try) and five end the attempt.
"""

import time
from base64 import b32encode
from binascii import unhexlify
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import match_token

from accounts.otp import (
    OtpRefused,
    backup_codes_create,
    backup_codes_left,
    otp_devices_delete,
    otp_enrolled,
    otp_verify,
    totp_device_confirm,
    totp_device_unsaved,
    totp_key_new,
    totp_qr_svg,
)

PENDING_KEY = "otp_pending"
ENROL_KEY = "otp_enrol_key"
CODE_TRIES = 5


class CodeForm(forms.Form):
    otp_token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "spellcheck": "false"}
        ),
    )


class PasswordStepView(LoginView):
    """Django's login, unless the user has a device: then the password only opens the code step."""

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not otp_enrolled(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
            "tries": 0,
        }
        return redirect("login-code")


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > settings.OTP_LOGIN_PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return pending


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: the code the user's authenticator shows now, or one of their backup codes."""
    pending = _pending(request)
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first() if pending else None
    if user is None:
        return redirect(settings.LOGIN_URL)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["otp_token"].strip())
        if device is not None:
            del request.session[PENDING_KEY]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return HttpResponseRedirect(pending["next"])
        pending["tries"] += 1
        if pending["tries"] >= CODE_TRIES:
            del request.session[PENDING_KEY]
            return redirect(settings.LOGIN_URL)
        request.session[PENDING_KEY] = pending
        form.add_error("otp_token", "That code is not right. Enter the one your authenticator shows now.")
    return render(request, "registration/login_code.html", {"form": form, "username": user.get_username()})


def _safe_next(request: HttpRequest) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure())
    return next_url if allowed else ""


@sensitive_post_parameters("otp")
@login_required
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    """/account/security/: enrol an authenticator (QR code, first code, backup codes shown once); with a current
    code (or a backup code), make new backup codes or remove the authenticator to enrol another."""
    user = request.user
    context: dict[str, Any] = {"next": _safe_next(request), "error": None, "backup_codes": None}
    if request.method == "POST":
        code = request.POST.get("otp", "")
        try:
            action = request.POST.get("action")
            if action == "backup_codes":
                otp_verify(user, code)
                context["backup_codes"] = backup_codes_create(user)
            elif action == "replace":  # a lost phone: a backup code proves it is the user
                otp_verify(user, code)
                otp_devices_delete(user)
                request.session.pop(ENROL_KEY, None)
            elif ENROL_KEY in request.session:
                device, context["backup_codes"] = totp_device_confirm(
                    user=user, key=request.session[ENROL_KEY], code=code
                )
                del request.session[ENROL_KEY]
                otp_login(request, device)
        except OtpRefused as refusal:
            context["error"] = str(refusal.detail)
    context["enrolled"] = otp_enrolled(user)
    if context["enrolled"]:
        context["backup_codes_left"] = backup_codes_left(user)
    else:
        key = request.session.setdefault(ENROL_KEY, totp_key_new())
        device = totp_device_unsaved(user, key)
        context.update(
            provisioning_uri=device.config_url,
            secret=b32encode(unhexlify(key)).decode(),
            qr_svg=totp_qr_svg(device),
        )
    status = 400 if context["error"] else 200
    return render(request, "accounts/security.html", context, status=status)
