"""The role groups and what a role's permissions let a user do (issue 15)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.permissions import MANAGE_KEYS_PERMISSION, TRADE_PERMISSION, VIEW_ALL, VIEW_OWN, is_operations
from accounts.roles import OPERATIONS, ROLE_PERMISSIONS, TRADER, VIEWER, role_add, roles_ensure


def _codenames(role: str) -> set[str]:
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_the_migration_made_each_role_group_with_exactly_its_permissions(db):
    for role, codenames in ROLE_PERMISSIONS.items():
        assert _codenames(role) == set(codenames), role


def test_roles_ensure_is_idempotent_and_restores_a_group_a_flush_removed(db):
    Group.objects.filter(name=VIEWER).delete()
    roles_ensure()
    roles_ensure()
    assert _codenames(VIEWER) == {"view_own"}
    assert Group.objects.filter(name__in=ROLE_PERMISSIONS).count() == len(ROLE_PERMISSIONS)


def test_a_users_role_gives_its_capabilities_and_no_role_gives_none(db):
    users = {name: get_user_model().objects.create_user(name) for name in ("t", "o", "v", "nobody")}
    role_add(users["t"], TRADER)
    role_add(users["o"], OPERATIONS)
    role_add(users["v"], VIEWER)
    fresh = {name: get_user_model().objects.get(pk=user.pk) for name, user in users.items()}  # no permission cache
    assert fresh["t"].has_perm(TRADE_PERMISSION) and fresh["t"].has_perm(MANAGE_KEYS_PERMISSION)
    assert not fresh["t"].has_perm(VIEW_ALL) and not is_operations(fresh["t"])
    assert fresh["o"].has_perm(VIEW_ALL) and is_operations(fresh["o"]) and not fresh["o"].has_perm(TRADE_PERMISSION)
    assert fresh["v"].has_perm(VIEW_OWN) and not fresh["v"].has_perm(TRADE_PERMISSION)
    assert not any(fresh["nobody"].has_perm(p) for p in (VIEW_OWN, VIEW_ALL, TRADE_PERMISSION))


def test_a_user_with_no_role_is_refused_the_api(db):
    from django.test import Client

    nobody = get_user_model().objects.create_user("nobody")
    client = Client()
    client.force_login(nobody)
    answer = client.get("/api/v1/orders/")
    assert answer.status_code == 403
    assert answer.json() == {"code": "permission_denied", "message": "Your role may not read orders here."}
