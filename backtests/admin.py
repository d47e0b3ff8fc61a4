from django.contrib import admin

from backtests.models import Backtest, Candidate, Dataset, Optimization


@admin.register(Backtest)
class BacktestAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "strategy_type", "source", "symbol", "status", "bars_done", "created_at"]
    list_filter = ["status", "strategy_type", "source"]
    search_fields = ["name", "symbol", "owner__username"]
    readonly_fields = [f.name for f in Backtest._meta.fields]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "name", "symbol", "file_format", "rows", "start", "end"]
    search_fields = ["name", "symbol", "owner__username"]
    exclude = ["content"]
    readonly_fields = ["owner", "name", "symbol", "file_format", "rows", "start", "end", "report"]


class CandidateInline(admin.TabularInline):
    model = Candidate
    extra = 0
    readonly_fields = ["index", "parameters", "done", "error"]
    exclude = ["evaluation", "windows"]


@admin.register(Optimization)
class OptimizationAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "strategy_type", "method", "metric", "status", "candidates_done", "created_at"]
    list_filter = ["status", "method"]
    inlines = [CandidateInline]
