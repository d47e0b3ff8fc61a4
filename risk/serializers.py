from rest_framework import serializers

from quantumleap.serializers import IdField
from risk.models import KillSwitch, RiskParameters


class RiskParametersSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskParameters
        exclude = ["id", "account", "strategy"]
        read_only_fields = ["updated_at"]

    def validate_restricted_symbols(self, value):
        if not isinstance(value, list) or not all(isinstance(s, str) and 0 < len(s) <= 16 for s in value):
            raise serializers.ValidationError("A list of symbols.")
        return [s.upper() for s in value]

    def validate_check_actions(self, value):
        from risk.core.rules import RESIZABLE

        if not isinstance(value, dict):
            raise serializers.ValidationError("An object {check_code: REJECT | RESIZE}.")
        for code, action in value.items():
            if action not in ("REJECT", "RESIZE"):
                raise serializers.ValidationError(f"{code}: the action must be REJECT or RESIZE.")
            if action == "RESIZE" and code not in RESIZABLE:
                raise serializers.ValidationError(f"{code} cannot be cured by a smaller quantity.")
        return value


class KillSwitchInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=["engage", "release"])
    scope = serializers.ChoiceField(choices=KillSwitch.Scope.values, required=False, default=KillSwitch.Scope.ACCOUNT)
    strategy_id = IdField(required=False)
    kill_switch_id = IdField(required=False)
    reason = serializers.CharField(max_length=500)
    flatten = serializers.BooleanField(required=False, default=False)


class KillSwitchOutput(serializers.ModelSerializer):
    is_engaged = serializers.BooleanField(read_only=True)

    class Meta:
        model = KillSwitch
        fields = [
            "id",
            "scope",
            "account",
            "strategy",
            "flatten",
            "engaged_by",
            "engaged_at",
            "reason",
            "released_by",
            "released_at",
            "release_reason",
            "is_engaged",
        ]


class TradingStateInput(serializers.Serializer):
    strategy_id = IdField(required=False)
    reason = serializers.CharField(max_length=500)
