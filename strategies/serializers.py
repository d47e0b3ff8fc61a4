import json
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from quantumleap import codes
from quantumleap.serializers import AwareDateTimeField, DecimalField, IdField, StrictSerializer
from strategies.core.lifecycle import SYSTEM_ACTIONS, allowed_actions, is_deletable, needs_otp
from strategies.lifecycle import MAX_SYMBOLS
from strategies.models import Strategy, StrategyVersion, TradingSignal

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
            "closes_position",
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
    allowed_actions = serializers.SerializerMethodField(
        help_text="What a person may do now: deploy, pause, resume, stop (the lifecycle table), and delete"
    )
    otp_required_for = serializers.SerializerMethodField(
        help_text="The allowed actions that need the one-time password (deploy; resume after an auto-pause)"
    )

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
            "version",
            "performance_metrics",
            "created_at",
            "deployed_at",
            "status_changed_at",
            "allowed_actions",
            "otp_required_for",
        ]

    def get_allowed_actions(self, strategy: Strategy) -> list[str]:
        return person_actions(strategy.status)

    def get_otp_required_for(self, strategy: Strategy) -> list[str]:
        return [a for a in person_actions(strategy.status) if a != DELETE and needs_otp(strategy.status, a)]


DELETE = "delete"


def person_actions(status: str) -> list[str]:
    """The lifecycle actions a person may take from a status (auto_pause is the monitor's), then delete."""
    actions = [a.value for a in allowed_actions(status) if a not in SYSTEM_ACTIONS]
    if is_deletable(status):
        actions.append(DELETE)
    return actions


SYMBOL = r"^[A-Za-z0-9.\-]{1,16}$"


@extend_schema_field({"type": "object", "additionalProperties": {}})
class ObjectField(serializers.JSONField):
    """A JSON object whose fields a pure core validates (a strategy's parameters, its auto-pause rules)."""

    default_error_messages = {"not_an_object": "Send a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_an_object")
        return super().to_internal_value(data)


class StrategyCreateInput(StrictSerializer):
    name = serializers.CharField(max_length=64)
    strategy_type = serializers.ChoiceField(choices=Strategy.StrategyType.choices)
    capital = DecimalField(max_digits=20, decimal_places=6, min_value=Decimal("0.01"))
    parameters = ObjectField(
        required=False, help_text="The type's parameters (GET strategies/types/); missing ones take their defaults"
    )
    symbols = serializers.ListField(
        child=serializers.RegexField(SYMBOL, max_length=16),
        required=False,
        max_length=MAX_SYMBOLS,
        help_text="A built-in generator's symbols; none for EXTERNAL_AI",
    )
    auto_pause = ObjectField(required=False, help_text="Auto-pause rules (strategies/core/autopause.py)")
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class StrategyUpdateInput(StrictSerializer):
    name = serializers.CharField(max_length=64, required=False)
    capital = DecimalField(max_digits=20, decimal_places=6, min_value=Decimal("0.01"), required=False)
    parameters = ObjectField(required=False, help_text="Merged into the stored parameters, then all validated")
    symbols = serializers.ListField(
        child=serializers.RegexField(SYMBOL, max_length=16), required=False, max_length=MAX_SYMBOLS
    )
    auto_pause = ObjectField(required=False)
    reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Why: kept with the version"
    )


class StrategyActionInput(StrictSerializer):
    otp = serializers.CharField(
        max_length=16, required=False, allow_blank=True, help_text="The one-time password, when the action needs it"
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="Why: kept in the event")


class StrategyStopInput(StrategyActionInput):
    flatten = serializers.BooleanField(required=False, default=False, help_text="Close its positions at market now")


class ParamSpecOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["int", "decimal", "bool"])
    default = serializers.JSONField(allow_null=True)
    min = serializers.CharField(allow_null=True)
    max = serializers.CharField(allow_null=True)
    min_exclusive = serializers.BooleanField()
    max_exclusive = serializers.BooleanField()
    nullable = serializers.BooleanField()
    decimal_places = serializers.IntegerField(allow_null=True)
    help = serializers.CharField()


class StrategyTypeOutput(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    generator = serializers.BooleanField(help_text="A built-in generator (it watches symbols); false for EXTERNAL_AI")
    parameters = ParamSpecOutput(many=True)


class StrategyVersionOutput(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    diff = serializers.JSONField(help_text="{field: [before, after]}; parameters: {name: {before, after}}")
    configuration = serializers.JSONField()

    class Meta:
        model = StrategyVersion
        fields = ["number", "created_by", "created_at", "reason", "diff", "configuration", "capital"]


class StrategyRefusalOutput(serializers.Serializer):
    """A strategy's 409 (the schema's ``refusal_output`` of the strategy views)."""

    code = serializers.ChoiceField(choices=sorted(codes.STRATEGY_REFUSALS), help_text="Why the strategy refused")
    message = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="capital_exceeds_equity: the figures behind the sentence")
