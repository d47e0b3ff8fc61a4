"""What a locked-out sign-in sees: the login page again, saying why and for how long (HTTP 429)."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        f"Too many failed sign-ins for this username from your address: signing in is locked for "
        f"{minutes} minutes. Try again later, or ask operations to unlock it."
    )
    form = AuthenticationForm(request, initial={"username": (credentials or {}).get("username", "")})
    context = {"form": form, "locked_message": message, "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=429)
