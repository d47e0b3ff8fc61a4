from django.contrib import admin

from risk.models import RiskParameters


@admin.register(RiskParameters)
class RiskParametersAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "max_position_size",
        "max_portfolio_exposure",
        "max_sector_exposure",
        "max_drawdown",
        "daily_loss_limit",
        "updated_at",
    ]
    search_fields = ["account__name", "strategy__name"]
