"""The Redis cache keeps one client per process, whatever number of cache objects Django builds."""

from django.core.cache.backends.redis import RedisCache

from quantumleap.cache import SharedRedisCache

URL = "redis://127.0.0.1:6379/13"


def test_cache_objects_of_one_process_share_one_redis_client():
    # Django builds a cache object per request context; Django's own backend gives each its own client.
    assert RedisCache(URL, {})._cache is not RedisCache(URL, {})._cache
    first, second = SharedRedisCache(URL, {}), SharedRedisCache(URL, {})
    assert first._cache is second._cache
    assert SharedRedisCache("redis://127.0.0.1:6379/12", {})._cache is not first._cache
