import json
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from quantumleap.serializers import AwareDateTimeField, DecimalField, IdField, StrictSerializer
from strategies.models import Strategy, TradingSignal

PRICE = {"max_digits": 20, "decimal_places": 6, "min_value": Decimal("0.000001")}
# A signal's metadata is the producer's note to itself, stored and shown with every answer: bounded.
METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 8


def _depth(value) -> int:
    """Levels of objects and arrays, the outermost being 1; iterative, so no input can exhaust the stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


@extend_schema_field({"type": "object", "additionalProperties": {}})
class MetadataField(serializers.JSONField):
    default_error_messages = {
        "not_an_object": "Send a JSON object.",
        "too_deep": f"Nest objects and arrays at most {METADATA_MAX_DEPTH} levels deep.",
        "too_large": f"Keep it to {METADATA_MAX_BYTES:,} bytes of compact UTF-8 JSON.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_an_object")
        if _depth(data) > METADATA_MAX_DEPTH:
            self.fail("too_deep")
        if len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()) > METADATA_MAX_BYTES:
            self.fail("too_large")
        return super().to_internal_value(data)


class SignalInput(StrictSerializer):
    id = serializers.CharField(max_length=128)
    symbol = serializers.RegexField(r"^[A-Za-z0-9.\-]{1,16}$", max_length=16)
    signal_type = serializers.ChoiceField(choices=TradingSignal.SignalType.choices)
    confidence_score = DecimalField(max_digits=7, decimal_places=6, min_value=Decimal(0), max_value=Decimal(1))
    target_price = DecimalField(required=False, allow_null=True, **PRICE)
    stop_loss = DecimalField(required=False, allow_null=True, **PRICE)
    take_profit = DecimalField(required=False, allow_null=True, **PRICE)
    position_size = DecimalField(max_digits=7, decimal_places=6, min_value=Decimal("0.000001"), max_value=Decimal(1))
    strategy_id = IdField(required=False)
    expires_at = AwareDateTimeField()
    metadata = MetadataField(
        required=False,
        default=dict,
        help_text=f"A JSON object: {METADATA_MAX_BYTES:,} bytes (compact UTF-8), {METADATA_MAX_DEPTH} levels at most",
    )

    def validate_symbol(self, value: str) -> str:
        return value.upper()


SIGNAL_BATCH_MAX = 100


class SignalBatchInput(StrictSerializer):
    signals = SignalInput(many=True, min_length=1, max_length=SIGNAL_BATCH_MAX)


class ViolationOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    limit = serializers.CharField(required=False, allow_null=True)
    actual = serializers.CharField(required=False, allow_null=True)


class SignalOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="external_id")
    signal_id = serializers.IntegerField(source="pk")
    strategy_id = serializers.IntegerField()
    order_id = serializers.SerializerMethodField()
    violations = ViolationOutput(many=True)

    class Meta:
        model = TradingSignal
        fields = [
            "id",
            "signal_id",
            "status",
            "order_id",
            "violations",
            "strategy_id",
            "symbol",
            "signal_type",
            "confidence_score",
            "target_price",
            "stop_loss",
            "take_profit",
            "position_size",
            "expires_at",
            "metadata",
            "created_at",
            "updated_at",
        ]

    def get_order_id(self, signal: TradingSignal) -> int | None:
        for order in signal.orders.all():
            if order.parent_id is None:
                return order.pk
        return None


class SignalBatchItemOutput(SignalOutput):
    """One answer of a batch: the signal as POST signals/ answers it, and whether this post created it."""

    created = serializers.BooleanField(read_only=True)

    class Meta(SignalOutput.Meta):
        fields = [*SignalOutput.Meta.fields, "created"]


class SignalBatchOutput(serializers.Serializer):
    signals = SignalBatchItemOutput(many=True)


class StrategyOutput(serializers.ModelSerializer):
    class Meta:
        model = Strategy
        fields = [
            "id",
            "name",
            "strategy_type",
            "status",
            "capital",
            "account_id",
            "configuration",
            "performance_metrics",
            "created_at",
            "deployed_at",
        ]
