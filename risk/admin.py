from django.contrib import admin, messages

from risk import services
from risk.models import KillSwitch, RiskParameters, RiskState, StopTrigger


@admin.register(RiskParameters)
class RiskParametersAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "max_position_size",
        "max_portfolio_exposure",
        "max_sector_exposure",
        "max_drawdown",
        "daily_loss_limit",
        "market_hours",
        "updated_at",
    ]
    search_fields = ["account__name", "strategy__name"]


@admin.register(RiskState)
class RiskStateAdmin(admin.ModelAdmin):
    list_display = ["__str__", "trading_state", "trading_day", "day_start_equity", "high_water_mark", "updated_at"]
    readonly_fields = ["trading_day", "day_start_equity", "high_water_mark"]


@admin.register(KillSwitch)
class KillSwitchAdmin(admin.ModelAdmin):
    """Adding a row engages the switch through the service (cancels orders, records who and why)."""

    list_display = ["__str__", "scope", "engaged_by", "engaged_at", "reason", "released_by", "released_at"]
    list_filter = ["scope", "released_at"]
    fields = ["scope", "account", "strategy", "flatten", "reason", "release_reason"]
    actions = ["release"]

    def get_readonly_fields(self, request, obj=None):
        return ["scope", "account", "strategy", "flatten", "reason"] if obj else ["release_reason"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audit trail of emergency stops is never deleted

    def save_model(self, request, obj, form, change):
        actor = request.user.get_username()
        if change:
            if obj.release_reason and obj.released_at is None:
                released = services.kill_switch_release(kill_switch_id=obj.pk, actor=actor, reason=obj.release_reason)
                obj.released_at, obj.released_by = released.released_at, released.released_by
            return
        engaged = services.kill_switch_engage(
            scope=obj.scope,
            account=obj.account,
            strategy=obj.strategy,
            actor=actor,
            reason=obj.reason,
            flatten=obj.flatten,
        )
        obj.pk = engaged.pk
        obj.engaged_at, obj.engaged_by = engaged.engaged_at, engaged.engaged_by

    @admin.action(description="Release the selected emergency stops")
    def release(self, request, queryset):
        for switch in queryset.filter(released_at__isnull=True):
            services.kill_switch_release(
                kill_switch_id=switch.pk, actor=request.user.get_username(), reason="released from the admin"
            )
        self.message_user(request, "Released.", messages.SUCCESS)


@admin.register(StopTrigger)
class StopTriggerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "trigger_price", "price", "order", "triggered_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request) -> bool:
        return False
