"""Bearer API keys for signal producers."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiKey, key_hash
from accounts.origin import origin_key_used

LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme != self.keyword:
            return None
        raw_key = raw_key.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed("The Authorization header holds no key.", code="no_key")
        now = timezone.now()
        api_key = (
            ApiKey.objects.select_related("user", "strategy")
            .filter(hashed_key=key_hash(raw_key), revoked_at__isnull=True)
            .first()
        )
        if api_key is None or not api_key.is_usable(now) or not api_key.user.is_active:
            raise exceptions.AuthenticationFailed("The API key is unknown, revoked or expired.", code="invalid_key")
        if api_key.strategy is not None and api_key.strategy.owner_id != api_key.user_id:
            # Checked when the key is saved too; a strategy that changed hands since must not carry the key.
            raise exceptions.AuthenticationFailed(
                "The API key is scoped to a strategy that is not its user's.", code="invalid_key"
            )
        # Recorded to the minute: a write per request would have every post of a busy producer update one row.
        if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        origin_key_used(user=api_key.user.get_username(), prefix=api_key.prefix)
        return api_key.user, api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Signal producer API key"}
