from django.contrib import admin
from django.db import transaction

from strategies.lifecycle import strategy_diff, strategy_version_add
from strategies.models import Strategy, StrategyVersion, TradingSignal
from strategies.services import strategy_change_record


class StrategyVersionInline(admin.TabularInline):
    model = StrategyVersion
    extra = 0
    can_delete = False
    fields = readonly_fields = ["number", "created_by", "created_at", "reason", "diff", "capital"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "strategy_type", "status", "capital", "account", "deployed_at", "deleted_at"]
    list_filter = ["status", "strategy_type"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["version", "deleted_at"]
    inlines = [StrategyVersionInline]

    def save_model(self, request, obj, form, change) -> None:
        # Recorded like every other change, so the owner's dashboard shows it at once; a change of its
        # name, capital or configuration is a new version, as through the API.
        with transaction.atomic():
            before = Strategy.objects.select_for_update().get(pk=obj.pk) if change else None
            super().save_model(request, obj, form, change)
            if before is None:
                StrategyVersion.objects.get_or_create(
                    strategy=obj,
                    number=obj.version,
                    defaults={
                        "configuration": obj.configuration,
                        "capital": obj.capital,
                        "created_by": request.user,
                        "reason": "created in the admin",
                    },
                )
            elif diff := strategy_diff(before, obj):
                strategy_version_add(strategy=obj, user=request.user, reason="changed in the admin", diff=diff)
            if change and form.changed_data:
                # Before and after each field, as stored (a related row by its id).
                stored = {field.name: field for field in obj._meta.concrete_fields}
                pairs = {
                    name: {
                        "before": stored[name].value_from_object(before),
                        "after": stored[name].value_from_object(obj),
                    }
                    for name in form.changed_data
                    if name in stored
                }
                strategy_change_record(
                    strategy=obj,
                    changes={name: pair for name, pair in pairs.items() if pair["before"] != pair["after"]},
                    actor=request.user.get_username(),
                    source="admin",
                )


@admin.register(TradingSignal)
class TradingSignalAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "producer",
        "strategy",
        "symbol",
        "signal_type",
        "confidence_score",
        "position_size",
        "status",
        "created_at",
    ]
    list_filter = ["status", "signal_type", "strategy"]
    search_fields = ["external_id", "symbol", "producer__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["instrument"]
    readonly_fields = ["status", "violations"]
