"""The risk engine's rows in the admin: every change goes through risk.services (checked and recorded)."""

from django.contrib import admin, messages

from risk import services
from risk.models import KillSwitch, RiskParameters, RiskState, StopTrigger
from trading.admin import ReadOnlyAdmin

# Parameters set through parameters_update (the API's service): not the row's identity or timestamps.
PARAMETERS_FIXED = {"id", "account", "strategy", "created_at", "updated_at"}


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

    def get_readonly_fields(self, request, obj=None):
        return ["account", "strategy"] if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a deleted row would silently fall back to other limits

    def save_model(self, request, obj, form, change) -> None:
        # The API's service: validated, under the account's lock, recorded with before and after.
        data = {name: form.cleaned_data[name] for name in form.changed_data if name not in PARAMETERS_FIXED}
        account = obj.strategy.account if obj.strategy_id else obj.account
        saved = services.parameters_update(
            account=account, strategy=obj.strategy, data=data, actor=request.user.get_username()
        )
        obj.pk = saved.pk


@admin.register(RiskState)
class RiskStateAdmin(ReadOnlyAdmin):
    """The trading state changes through the risk engine only: a person releases it with the action."""

    list_display = ["__str__", "trading_state", "trading_day", "day_start_equity", "high_water_mark", "updated_at"]
    list_filter = ["trading_state"]
    actions = ["release"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("risk.change_riskstate"):
            actions.pop("release", None)
        return actions

    @admin.action(description="Release the selected to ACTIVE (as the API does)")
    def release(self, request, queryset):
        for state in queryset.select_related("account", "strategy"):
            services.trading_state_release(
                account=state.account,
                strategy=state.strategy,
                actor=request.user.get_username(),
                reason="released from the admin",
            )
        self.message_user(request, "Released.", messages.SUCCESS)


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
class StopTriggerAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "trigger_price", "price", "order", "triggered_at"]
    list_filter = ["kind"]

    def has_add_permission(self, request) -> bool:
        return False
