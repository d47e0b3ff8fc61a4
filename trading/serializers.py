from decimal import Decimal

from rest_framework import serializers

from quantumleap.serializers import DecimalField, StrictSerializer
from trading.models import Event, Execution, Order, Position


class OrderOutput(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol")

    class Meta:
        model = Order
        fields = [
            "id",
            "client_order_id",
            "symbol",
            "side",
            "order_type",
            "time_in_force",
            "quantity",
            "price",
            "stop_price",
            "status",
            "filled_quantity",
            "average_fill_price",
            "strategy_id",
            "signal_id",
            "parent_id",
            "reject_code",
            "reject_reason",
            "created_at",
            "updated_at",
            "submitted_at",
        ]


class PositionOutput(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol")
    strategy_name = serializers.CharField(source="strategy.name", default=None)
    market_value = serializers.DecimalField(max_digits=24, decimal_places=6)

    class Meta:
        model = Position
        fields = [
            "id",
            "symbol",
            "strategy_id",
            "strategy_name",
            "quantity",
            "average_price",
            "current_price",
            "market_value",
            "unrealized_pnl",
            "realized_pnl",
            "commissions",
            "opened_at",
            "updated_at",
        ]


class ExecutionOutput(serializers.ModelSerializer):
    symbol = serializers.CharField(source="instrument.symbol")

    class Meta:
        model = Execution
        fields = ["id", "exec_id", "order_id", "symbol", "side", "quantity", "price", "commission", "executed_at"]


class EventOutput(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = [
            "id",
            "type",
            "severity",
            "occurred_at",
            "account_id",
            "strategy_id",
            "order_id",
            "signal_id",
            "actor",
            "channel",
            "api_key_prefix",
            "payload",
        ]


class PortfolioOutput(serializers.Serializer):
    account_id = serializers.IntegerField()
    cash = serializers.DecimalField(max_digits=24, decimal_places=6)
    equity = serializers.DecimalField(max_digits=24, decimal_places=6)
    market_value = serializers.DecimalField(max_digits=24, decimal_places=6)
    unrealized_pnl = serializers.DecimalField(max_digits=24, decimal_places=6)
    realized_pnl = serializers.DecimalField(max_digits=24, decimal_places=6)
    trading_state = serializers.CharField()


class OrderModifyInput(StrictSerializer):
    quantity = DecimalField(max_digits=20, decimal_places=6, min_value=Decimal("0.000001"), required=False)
    price = DecimalField(max_digits=20, decimal_places=6, min_value=Decimal("0.000001"), required=False)
    stop_price = DecimalField(max_digits=20, decimal_places=6, min_value=Decimal("0.000001"), required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one of quantity, price, stop_price.")
        return attrs
