"""The roles: Django groups holding the capabilities (permissions) the API checks.

A signal producer is no group: it is an API key, whose capabilities are fixed (accounts.permissions).
"""

from typing import Any

from django.apps import apps as global_apps

TRADER = "trader"
OPERATIONS = "operations"
VIEWER = "viewer"

# Each role's permissions, as codenames of accounts.AccountGrant's Meta.permissions.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    TRADER: ("view_own", "trade", "manage_keys"),
    OPERATIONS: ("view_all", "kill_switch", "operations"),
    VIEWER: ("view_own",),
}


def roles_ensure(apps: Any = None, **_: Any) -> None:
    """Create the role groups with exactly their permissions (idempotent).

    Run by the data migration and after every migrate or flush (post_migrate), so a test database a
    transactional test flushed has its roles again.
    """
    if apps is None:
        apps = global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    permissions = {
        p.codename: p
        for p in permission_model.objects.filter(
            content_type__app_label="accounts", codename__in={c for cs in ROLE_PERMISSIONS.values() for c in cs}
        )
    }
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.add(*(permissions[c] for c in codenames if c in permissions))


def role_add(user: Any, role: str) -> None:
    """Give a user a role (its group, made if missing)."""
    roles_ensure()
    user.groups.add(global_apps.get_model("auth", "Group").objects.get(name=role))
