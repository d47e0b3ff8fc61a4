"""The API keys page (/account/keys/): a trader lists, creates, rotates and revokes their own keys.

Server-rendered forms, no script: a new key is shown in the answer that made it and never again.
"""

from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import ApiKey
from accounts.permissions import MANAGE_KEYS_PERMISSION
from accounts.services import ApiKeyError, api_key_issue, api_key_revoke, api_key_rotate

OVERLAP_CHOICES = [("0", "none: the old key stops now"), ("1", "1 hour"), ("24", "24 hours"), ("168", "7 days")]


class KeyCreateForm(forms.Form):
    name = forms.CharField(max_length=64, required=False)
    strategy = forms.ModelChoiceField(queryset=None, required=False, empty_label="all my strategies")
    expires_days = forms.IntegerField(min_value=1, max_value=3650, required=False, label="Expires after (days)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["strategy"].queryset = user.strategies.order_by("name")


class KeyRotateForm(forms.Form):
    overlap_hours = forms.TypedChoiceField(choices=OVERLAP_CHOICES, coerce=int, initial="24")


def _own_key(request: HttpRequest) -> ApiKey:
    try:
        key_id = int(request.POST.get("key_id", ""))
    except ValueError as error:
        raise Http404("No such key.") from error
    key = ApiKey.objects.filter(pk=key_id, user=request.user).first()
    if key is None:
        raise Http404("No such key.")
    return key


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(MANAGE_KEYS_PERMISSION):
        raise PermissionDenied("Your role may not hold API keys.")
    create_form = KeyCreateForm(user=request.user)
    new_key, notice, error, status = None, "", "", 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "create":
                create_form = KeyCreateForm(request.POST, user=request.user)
                if create_form.is_valid():
                    data = create_form.cleaned_data
                    days = data.get("expires_days")
                    _, new_key = api_key_issue(
                        user=request.user,
                        strategy=data.get("strategy"),
                        name=data.get("name") or "",
                        expires_at=timezone.now() + timedelta(days=days) if days else None,
                    )
                    notice, status = "Key created. Copy it now: it is not shown again.", 201
                else:
                    status = 400
            elif action == "revoke":
                key = api_key_revoke(key_id=_own_key(request).pk)
                notice = f"Key {key.display_prefix}… revoked: it is refused from now on."
            elif action == "rotate":
                key = _own_key(request)
                rotate_form = KeyRotateForm(request.POST)
                if not rotate_form.is_valid():
                    raise ApiKeyError("Choose how long the old key keeps working.")
                hours = rotate_form.cleaned_data["overlap_hours"]
                _, new_key = api_key_rotate(key_id=key.pk, overlap=timedelta(hours=hours))
                notice = (
                    f"Key {key.display_prefix}… rotated; it keeps working for {hours} hour(s). "
                    "Copy the new key now: it is not shown again."
                )
                status = 201
            else:
                error, status = "Unknown action.", 400
        except ApiKeyError as refused:
            error, status = str(refused), 400
    now = timezone.now()
    keys = ApiKey.objects.filter(user=request.user).select_related("strategy").order_by("-created_at")
    context = {
        "keys": [(key, key.is_usable(now)) for key in keys],
        "create_form": create_form,
        "rotate_form": KeyRotateForm(),
        "new_key": new_key,
        "notice": notice,
        "error": error,
    }
    response = render(request, "accounts/api_keys.html", context, status=status)
    response["Cache-Control"] = "no-store"  # a page that may hold a raw key is never cached
    return response
