from decimal import Decimal

from rest_framework import serializers

from quantumleap.codes import RISK_CHECKS
from quantumleap.serializers import DecimalField, IdField, StrictFieldsMixin, StrictSerializer
from risk.core.rules import RESIZABLE
from risk.models import KillSwitch, RiskParameters

# Fractions of equity (of capital at strategy level), as the columns store them: 6 decimal places.
_FRACTION = {"max_digits": 7, "decimal_places": 6}
_TINY = Decimal("0.000001")
_UNIT = Decimal(1)
_BELOW_ONE = Decimal("0.999999")
_LEVERAGED = Decimal("9.999999")  # gross, net and sector exposure may pass 1 on margin
_SYMBOL = r"^[A-Za-z0-9.\-]{1,16}$"
RESTRICTED_SYMBOLS_MAX = 1000
ORDERS_PER_MINUTE_MAX = 2**31 - 1


def _otp() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        write_only=True,
        help_text="The person's current one-time password (TOTP or a backup code): this change needs it",
    )


def _fraction(low: Decimal, high: Decimal, *, null: bool = False, text: str = "") -> serializers.DecimalField:
    return DecimalField(
        min_value=low, max_value=high, required=False, allow_null=null, help_text=text or None, **_FRACTION
    )


class RiskParametersSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Every limit with its range; a field left out keeps its value, ``null`` turns an optional limit off."""

    max_position_size = _fraction(_TINY, _UNIT, text="One symbol's position, fraction of equity: (0, 1]")
    max_position_quantity = DecimalField(
        max_digits=20, decimal_places=6, min_value=_TINY, required=False, allow_null=True
    )
    max_portfolio_exposure = _fraction(_TINY, _LEVERAGED, text="Gross exposure, fraction of equity: (0, 9.999999]")
    max_net_exposure = _fraction(Decimal(0), _LEVERAGED, null=True, text="Net exposure: [0, 9.999999]; null: off")
    max_sector_exposure = _fraction(_TINY, _LEVERAGED, text="One sector's gross exposure: (0, 9.999999]")
    max_order_notional = DecimalField(max_digits=20, decimal_places=6, min_value=_TINY, required=False, allow_null=True)
    stop_loss_percentage = _fraction(Decimal(0), _BELOW_ONE, text="Default stop below entry: [0, 1); 0: none")
    take_profit_percentage = _fraction(Decimal(0), _LEVERAGED, text="Default take profit: [0, 9.999999]; 0: none")
    trailing_stop_percentage = _fraction(Decimal(0), _BELOW_ONE, text="Trailing stop: [0, 1); 0: off")
    max_drawdown = _fraction(_TINY, _UNIT, text="From the high-water mark: (0, 1]")
    daily_loss_limit = _fraction(_TINY, _UNIT, text="Of the day's starting equity: (0, 1]")
    reserve_buffer = _fraction(Decimal(0), _UNIT, text="Extra reserved for slippage on market orders: [0, 1]")
    max_price_deviation = _fraction(_TINY, _UNIT, null=True, text="Limit price band around the last: (0, 1]")
    max_strategy_orders_per_minute = serializers.IntegerField(
        min_value=0, max_value=ORDERS_PER_MINUTE_MAX, required=False, allow_null=True
    )
    max_account_orders_per_minute = serializers.IntegerField(
        min_value=0, max_value=ORDERS_PER_MINUTE_MAX, required=False, allow_null=True
    )
    restricted_symbols = serializers.ListField(
        child=serializers.RegexField(_SYMBOL, max_length=16), max_length=RESTRICTED_SYMBOLS_MAX, required=False
    )
    check_actions = serializers.DictField(
        child=serializers.ChoiceField(choices=["REJECT", "RESIZE"]),
        required=False,
        help_text="{risk check code: REJECT | RESIZE}; RESIZE only for checks a smaller quantity can cure",
    )
    otp = _otp()
    updated_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="null while the account's (or strategy's) defaults were never changed",
    )

    class Meta:
        model = RiskParameters
        exclude = ["id", "account", "strategy"]

    def validate_restricted_symbols(self, value: list[str]) -> list[str]:
        return [symbol.upper() for symbol in value]

    def validate_check_actions(self, value: dict[str, str]) -> dict[str, str]:
        for code, action in value.items():
            if code not in RISK_CHECKS:
                raise serializers.ValidationError(f"{code} is not a risk check code.")
            if action == "RESIZE" and code not in RESIZABLE:
                raise serializers.ValidationError(f"{code} cannot be cured by a smaller quantity.")
        return value


class KillSwitchInput(StrictSerializer):
    action = serializers.ChoiceField(choices=["engage", "release"])
    scope = serializers.ChoiceField(choices=KillSwitch.Scope.values, required=False, default=KillSwitch.Scope.ACCOUNT)
    strategy_id = IdField(required=False)
    account_id = IdField(required=False, help_text="Engage: the account to stop (operations: any; a trader: their own)")
    kill_switch_id = IdField(required=False)
    reason = serializers.CharField(max_length=500)
    flatten = serializers.BooleanField(required=False, default=False)
    otp = _otp()  # release only: engaging the emergency stop needs no code


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


class TradingStateInput(StrictSerializer):
    strategy_id = IdField(required=False)
    reason = serializers.CharField(max_length=500)
    otp = _otp()
