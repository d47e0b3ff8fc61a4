"""Rate limits per API key and per user, counted in the shared cache (Redis on the real stack).

A fixed one-minute window per key and per user: one atomic ``incr`` per request, so every web
process counts against the same number. Over the limit the API answers 429 ``throttled`` with
``Retry-After`` (the seconds left in the window). Limits are read at each request, so settings
(``API_RATE_PER_KEY``, ``API_RATE_PER_USER``) and a key's ``rate_limit_per_minute`` apply at once.
"""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from accounts.permissions import is_producer

WINDOW_SECONDS = 60


class _MinuteWindowThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self._wait: float | None = None

    def limit(self, request) -> int | None:  # requests a minute; None: no limit
        raise NotImplementedError

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        ident, limit = self.ident(request), self.limit(request)
        if ident is None or limit is None:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"throttle:{self.scope}:{ident}:{window}"
        cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=2 * WINDOW_SECONDS)
            count = 1
        if count <= limit:
            return True
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return False

    def wait(self) -> float | None:
        return self._wait


def _key_limit(request) -> int | None:
    override = request.auth.rate_limit_per_minute if is_producer(request) else None
    return override or None


class ApiKeyRateThrottle(_MinuteWindowThrottle):
    """Each API key: its own ``rate_limit_per_minute``, else ``API_RATE_PER_KEY`` (default 600) a minute."""

    scope = "key"

    def ident(self, request) -> str | None:
        return str(request.auth.pk) if is_producer(request) else None

    def limit(self, request) -> int | None:
        return _key_limit(request) or settings.API_RATE_PER_KEY or None


class UserRateThrottle(_MinuteWindowThrottle):
    """Each user, sessions and keys together: ``API_RATE_PER_USER`` (default 1,200) a minute.

    A key given a limit above the user's own carries it for its requests: a heavy producer is given more.
    """

    scope = "user"

    def ident(self, request) -> str | None:
        user = request.user
        return str(user.pk) if user is not None and user.is_authenticated else None

    def limit(self, request) -> int | None:
        limit = settings.API_RATE_PER_USER or None
        override = _key_limit(request)
        if limit is not None and override is not None:
            return max(limit, override)
        return limit
