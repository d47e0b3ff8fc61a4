"""The admin shows trading's rows; it changes them only through trading's services (risk-checked, recorded).

Orders, executions, positions and events are read-only here: an order is canceled and a position
closed by an action that calls the same service as the API; an account's changes go through
``account_update`` (each recorded with its before and after).
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery

from risk.models import RiskState
from trading import services
from trading.brokers.base import BrokerError
from trading.brokers.credentials import CredentialError, credential_encrypt
from trading.core.orders import OrderError
from trading.models import Account, BrokerCredential, Event, Execution, Instrument, Order, PaperVenueOrder, Position
from trading.services.accounts import ACCOUNT_EDITABLE, account_open, account_update
from trading.services.credentials import credential_delete, credential_set


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _each(modeladmin, request, queryset, call, done: str) -> None:
    """Run a service on each selected row; a refusal is shown and the others still run."""
    count = 0
    for obj in queryset:
        try:
            call(obj)
            count += 1
        except (OrderError, services.TradingError, BrokerError, ValueError) as error:
            modeladmin.message_user(request, f"{obj}: {error}", messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{done}: {count}.", messages.SUCCESS)


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

    def get_readonly_fields(self, request, obj=None):
        return ["owner", "created_at", "updated_at"] if obj else ["created_at", "updated_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an account's history stays

    def save_model(self, request, obj, form, change) -> None:
        actor = request.user.get_username()
        if not change:
            opened = account_open(owner=obj.owner, name=obj.name, cash=obj.cash, broker=obj.broker, actor=actor)
            obj.pk, obj.created_at, obj.updated_at = opened.pk, opened.created_at, opened.updated_at
            return
        edited = {name: form.cleaned_data[name] for name in form.changed_data if name in ACCOUNT_EDITABLE}
        account_update(account_id=obj.pk, changes=edited, actor=actor)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
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
    # Orders move only through the state machine, never by hand: canceling goes through order_cancel.
    actions = ["cancel"]

    def get_actions(self, request):
        # Actions stay although the rows are read-only; only those allowed to change orders get them.
        actions = super().get_actions(request)
        if not request.user.has_perm("trading.change_order"):
            actions.pop("cancel", None)
        return actions

    @admin.action(description="Cancel the selected orders (as the API does)")
    def cancel(self, request, queryset):
        actor = request.user.get_username()
        _each(
            self,
            request,
            queryset,
            lambda order: services.order_cancel(order_id=order.pk, actor=actor, reason="canceled from the admin"),
            "Cancel requested",
        )


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdmin):
    list_display = ["exec_id", "order", "instrument", "side", "quantity", "price", "commission", "executed_at"]
    list_filter = ["side", "strategy"]
    search_fields = ["exec_id", "order__client_order_id", "instrument__symbol"]
    date_hierarchy = "executed_at"


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
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
    actions = ["close"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("trading.change_position"):
            actions.pop("close", None)
        return actions

    @admin.action(description="Close the selected positions at market (as the API does)")
    def close(self, request, queryset):
        actor = request.user.get_username()
        _each(
            self,
            request,
            queryset,
            lambda position: services.position_close(
                position_id=position.pk, actor=actor, reason="closed from the admin"
            ),
            "Closing orders sent",
        )


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "occurred_at",
        "type",
        "severity",
        "account",
        "strategy",
        "order",
        "actor",
        "channel",
        "source_ip",
        "api_key_prefix",
        "chain_seq",
    ]
    list_filter = ["severity", "channel", "type"]
    search_fields = ["type", "actor", "api_key_prefix", "source_ip", "order__client_order_id", "signal__external_id"]
    date_hierarchy = "occurred_at"


class BrokerCredentialForm(forms.ModelForm):
    # Write-only: typed in, encrypted by credential_set, never shown again (not even encrypted).
    secret = forms.CharField(widget=forms.PasswordInput(render_value=False), strip=False)

    class Meta:
        model = BrokerCredential
        fields = ["account", "broker", "name"]

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        try:
            credential_encrypt(secret)  # no key configured, or a bad one: said here, nothing stored
        except CredentialError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        return secret


@admin.register(BrokerCredential)
class BrokerCredentialAdmin(admin.ModelAdmin):
    """Broker secrets: set or replace one here (stored encrypted, recorded without its value), never read."""

    form = BrokerCredentialForm
    list_display = ["broker", "name", "account", "created_at", "updated_at"]
    list_filter = ["broker"]
    search_fields = ["broker", "name", "account__name"]

    def get_readonly_fields(self, request, obj=None):
        return ["account", "broker", "name"] if obj else []

    def save_model(self, request, obj, form, change) -> None:
        saved = credential_set(
            account=obj.account,
            broker=obj.broker,
            name=obj.name,
            value=form.cleaned_data["secret"],
            actor=request.user.get_username(),
        )
        obj.pk, obj.token, obj.created_at, obj.updated_at = saved.pk, saved.token, saved.created_at, saved.updated_at

    def delete_model(self, request, obj) -> None:
        credential_delete(credential_id=obj.pk, actor=request.user.get_username())

    def delete_queryset(self, request, queryset) -> None:
        for credential in queryset:
            self.delete_model(request, credential)


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
