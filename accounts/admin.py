from django.contrib import admin, messages

from accounts.models import AccountGrant, ApiKey
from accounts.services import api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made with create_signal_key or the keys page (never typed in) and revoked with the action; each
    change is an event."""

    list_display = [
        "__str__",
        "user",
        "strategy",
        "name",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "rate_limit_per_minute",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    # The hash is useless to a reader and keys are made with create_signal_key or the keys page, never typed in.
    # The model's clean() refuses a strategy of another user when the form is saved.
    exclude = ["hashed_key"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the key's prefix stays in the audit trail with its owner

    @admin.action(description="Revoke the selected keys now", permissions=["change"])
    def revoke(self, request, queryset):
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key_id=api_key.pk)
        self.message_user(request, "Revoked.", messages.SUCCESS)


@admin.register(AccountGrant)
class AccountGrantAdmin(admin.ModelAdmin):
    list_display = ["viewer", "account", "created_at"]
    search_fields = ["viewer__username", "account__name", "account__owner__username"]
    autocomplete_fields = []
    raw_id_fields = ["account", "viewer"]
