from django.contrib import admin, messages

from accounts.models import ApiKey
from accounts.services import api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made with create_signal_key (never typed in) and revoked with the action; each change is an event."""

    list_display = ["__str__", "user", "strategy", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    # The hash is useless to a reader; revocation goes through api_key_revoke.
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
            api_key_revoke(api_key=api_key)
        self.message_user(request, "Revoked.", messages.SUCCESS)
