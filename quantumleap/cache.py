"""Django's Redis cache with one client, and so one connection pool, per process.

Django builds a new cache object for every request context (each ASGI request), and
each one built its own Redis client: a new TCP connection for every request's first
price read. The client is thread-safe, so every cache object of a process shares it.
"""

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> Any:
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]
