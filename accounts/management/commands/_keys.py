"""What the key commands share: finding a key by the prefix it is shown with."""

from django.core.management.base import CommandError

from accounts.models import KEY_PREFIX, ApiKey


def key_by_prefix(prefix: str) -> ApiKey:
    """``ql_1a2b3c4d_`` (as lists show it), ``ql_1a2b3c4d`` or ``1a2b3c4d``."""
    bare = prefix.strip().removeprefix(f"{KEY_PREFIX}_").rstrip("_").rstrip("…")
    key = ApiKey.objects.select_related("user", "strategy").filter(prefix=bare).first()
    if key is None:
        raise CommandError(f"No API key starts with {prefix}.")
    return key
