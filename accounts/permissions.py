"""Role checks: trader, operations, viewer, signal producer are Django groups."""

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.permissions import BasePermission

OPERATIONS = "operations"


def is_operations(user: AbstractBaseUser) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.groups.filter(name=OPERATIONS).exists()))


class IsOperations(BasePermission):
    message = "Only operations may see this."

    def has_permission(self, request, view) -> bool:
        return is_operations(request.user)
