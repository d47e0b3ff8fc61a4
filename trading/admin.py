from django.contrib import admin
from django.db.models import OuterRef, Subquery

from risk.models import RiskState
from trading.models import Account, Event, Execution, Instrument, Order, PaperVenueOrder, Position


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["symbol", "name", "exchange", "sector", "reference_price", "lot_size", "shortable", "is_active"]
    list_filter = ["exchange", "sector", "is_active", "shortable"]
    search_fields = ["symbol", "name"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "broker", "cash", "currency", "trading_state", "updated_at"]
    list_filter = ["broker"]
    search_fields = ["name", "owner__username"]

    def get_queryset(self, request):
        # The trading state is the risk engine's record (risk's RiskState), shown here beside the account.
        state = RiskState.objects.filter(account=OuterRef("pk"), strategy__isnull=True).values("trading_state")
        return super().get_queryset(request).annotate(risk_trading_state=Subquery(state[:1]))

    @admin.display(description="trading state", ordering="risk_trading_state")
    def trading_state(self, account) -> str:
        return account.risk_trading_state or "ACTIVE"


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "client_order_id",
        "instrument",
        "side",
        "order_type",
        "quantity",
        "price",
        "stop_price",
        "status",
        "filled_quantity",
        "average_fill_price",
        "strategy",
        "created_at",
    ]
    list_filter = ["status", "side", "order_type", "strategy"]
    search_fields = ["client_order_id", "broker_order_id", "instrument__symbol", "signal__external_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["signal", "parent", "account", "instrument", "strategy"]
    # Orders move only through the state machine, never by hand.
    readonly_fields = ["status", "filled_quantity", "average_fill_price", "client_order_id", "broker_order_id"]


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):
    list_display = ["exec_id", "order", "instrument", "side", "quantity", "price", "commission", "executed_at"]
    list_filter = ["side", "strategy"]
    search_fields = ["exec_id", "order__client_order_id", "instrument__symbol"]
    date_hierarchy = "executed_at"
    raw_id_fields = ["order", "account", "instrument", "strategy"]


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = [
        "instrument",
        "strategy",
        "account",
        "quantity",
        "average_price",
        "realized_pnl",
        "commissions",
        "opened_at",
        "updated_at",
    ]
    list_filter = ["strategy", "account"]
    search_fields = ["instrument__symbol", "strategy__name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "occurred_at", "type", "severity", "account", "strategy", "order", "actor"]
    list_filter = ["severity", "type"]
    search_fields = ["type", "actor", "order__client_order_id", "signal__external_id"]
    date_hierarchy = "occurred_at"


@admin.register(PaperVenueOrder)
class PaperVenueOrderAdmin(ReadOnlyAdmin):
    list_display = ["client_order_id", "symbol", "side", "order_type", "quantity", "filled_quantity", "is_open"]
    list_filter = ["is_open", "order_type"]
    search_fields = ["client_order_id", "symbol"]


from trading.models import Bar  # noqa: E402  (appended with the market data manager)


@admin.register(Bar)
class BarAdmin(ReadOnlyAdmin):
    list_display = ["symbol", "minute", "open", "high", "low", "close", "volume"]
    list_filter = ["symbol"]
    search_fields = ["symbol"]
    date_hierarchy = "minute"
