from django.contrib import admin

from strategies.models import Strategy, TradingSignal


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "strategy_type", "status", "capital", "account", "deployed_at"]
    list_filter = ["status", "strategy_type"]
    search_fields = ["name", "owner__username"]


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
