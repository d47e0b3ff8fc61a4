"""The backtester's REST shapes: what a run, an upload and an optimization take, and what they answer."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from backtests import conventions, sources
from backtests.models import Backtest, Dataset, Optimization, Source
from quantumleap.serializers import AwareDateTimeField, DecimalField, IdField, StrictSerializer
from strategies.core.backtest.optimize import METRICS
from strategies.core.generators import GENERATOR_TYPES
from strategies.models import Strategy

SYMBOL = r"^[A-Za-z0-9.\-]{1,16}$"
MONEY = {"max_digits": 20, "decimal_places": 6}


def _texts(data: dict[str, Any]) -> dict[str, Any]:
    """Decimals as exact strings without the padding DRF's quantizing adds ("0.2", not "0.200000"), for JSON."""
    return {key: format(value.normalize(), "f") if isinstance(value, Decimal) else value for key, value in data.items()}


class SettingsInput(StrictSerializer):
    initial_cash = DecimalField(required=False, min_value=Decimal("0.01"), help_text="Starting cash (10000)", **MONEY)
    fill_timing = serializers.ChoiceField(choices=conventions.FILL_TIMINGS, required=False)
    commission_model = serializers.ChoiceField(choices=conventions.COMMISSION_MODELS, required=False)
    commission = DecimalField(
        required=False, min_value=Decimal(0), help_text="Per share, per order, bps or percent", **MONEY
    )
    commission_minimum = DecimalField(required=False, min_value=Decimal(0), help_text="Per share only", **MONEY)
    slippage_model = serializers.ChoiceField(choices=conventions.SLIPPAGE_MODELS, required=False)
    slippage = DecimalField(required=False, min_value=Decimal(0), help_text="bps, or an amount a share", **MONEY)
    sizing = serializers.ChoiceField(choices=conventions.SIZINGS, required=False)
    sizing_value = DecimalField(
        required=False,
        min_value=Decimal("0.000001"),
        help_text="The fraction (of equity or capital) or the fixed quantity; none: the signal's position_size",
        **MONEY,
    )
    lot_size = DecimalField(required=False, min_value=Decimal("0.000001"), **MONEY)
    close_at_end = serializers.BooleanField(required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        return _texts(super().to_internal_value(data))


class DataInput(StrictSerializer):
    source = serializers.ChoiceField(choices=Source.choices, help_text="sample, bars (stored 1-minute) or dataset")
    sample = serializers.ChoiceField(choices=sources.SAMPLE_NAMES, required=False, help_text="With source sample")
    symbol = serializers.RegexField(SYMBOL, max_length=16, required=False, help_text="Required with source bars")
    dataset_id = IdField(required=False, help_text="With source dataset")
    start = AwareDateTimeField(required=False, help_text="First bar at or after this time")
    end = AwareDateTimeField(required=False, help_text="Bars before this time")


class BacktestInput(DataInput):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    strategy_type = serializers.ChoiceField(choices=Strategy.StrategyType.choices)
    parameters = serializers.DictField(required=False, help_text="The type's parameters (GET strategies/types/)")
    strategy_id = IdField(
        required=False,
        help_text="A strategy of yours: its recorded signals (EXTERNAL_AI) and its live fills to compare with",
    )
    settings = SettingsInput(required=False)


class BacktestOutput(serializers.ModelSerializer):
    progress = serializers.FloatField(help_text="0 to 1")
    strategy_id = serializers.IntegerField(allow_null=True)
    dataset_id = serializers.IntegerField(allow_null=True)
    metrics = serializers.SerializerMethodField()
    final_equity = serializers.SerializerMethodField()

    class Meta:
        model = Backtest
        fields = [
            "id",
            "name",
            "strategy_type",
            "parameters",
            "strategy_id",
            "source",
            "sample",
            "symbol",
            "dataset_id",
            "start",
            "end",
            "settings",
            "status",
            "progress",
            "bars_done",
            "bars_total",
            "cancel_requested",
            "final_equity",
            "metrics",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_metrics(self, backtest: Backtest) -> dict[str, Any] | None:
        return backtest.summary.get("metrics") if backtest.summary else None

    def get_final_equity(self, backtest: Backtest) -> str | None:
        return backtest.summary.get("final_equity") if backtest.summary else None


class BacktestDetailOutput(BacktestOutput):
    summary = serializers.JSONField(help_text="Conventions, figures, run log (refusals and skips)")
    comparison = serializers.JSONField(allow_null=True, help_text="Live against backtest, with a strategy named")

    class Meta(BacktestOutput.Meta):
        fields = [*BacktestOutput.Meta.fields, "summary", "comparison"]


class TradeOutput(serializers.Serializer):
    symbol = serializers.CharField()
    side = serializers.CharField(help_text="BUY: a long trade; SELL: a short one")
    quantity = serializers.CharField()
    entry_time = serializers.CharField()
    exit_time = serializers.CharField()
    entry_price = serializers.CharField()
    exit_price = serializers.CharField()
    pnl = serializers.CharField(help_text="Net of commission")
    commission = serializers.CharField()


class EquityPointOutput(serializers.Serializer):
    at = serializers.CharField()
    equity = serializers.CharField()
    drawdown = serializers.CharField(help_text="Below the running peak, a fraction")


class DailyPointOutput(serializers.Serializer):
    day = serializers.CharField()
    equity = serializers.CharField(allow_null=True)
    drawdown = serializers.CharField(allow_null=True)


class EquityOutput(serializers.Serializer):
    curve = EquityPointOutput(many=True, help_text="Per bar, at most 2,048 evenly spaced points")
    daily = DailyPointOutput(many=True, help_text="Each day's last equity and its drawdown from the peak")


class DatasetInput(StrictSerializer):
    file = serializers.FileField(help_text="CSV or Parquet: open, high, low, close (volume) and a time")
    symbol = serializers.RegexField(SYMBOL, max_length=16)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)


class DatasetOutput(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = ["id", "name", "symbol", "file_format", "rows", "start", "end", "report", "created_at"]


class WalkForwardInput(StrictSerializer):
    train = serializers.IntegerField(min_value=1, max_value=10_000_000, help_text="Bars in sample")
    test = serializers.IntegerField(min_value=1, max_value=10_000_000, help_text="Bars out of sample")
    step = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False, help_text="Default: test")
    anchored = serializers.BooleanField(required=False, help_text="Train from the first bar (expanding)")


class OptimizationInput(DataInput):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    strategy_type = serializers.ChoiceField(choices=GENERATOR_TYPES)
    method = serializers.ChoiceField(choices=Optimization.Method.choices, required=False)
    space = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=1, max_length=50),
        help_text='Each parameter and the values to try: {"fast_period": [5, 10], "slow_period": [20, 50]}',
    )
    fixed = serializers.DictField(required=False, help_text="Parameters held at one value")
    samples = serializers.IntegerField(min_value=1, max_value=400, required=False, help_text="Random: how many")
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    metric = serializers.ChoiceField(choices=[*METRICS, "final_equity"], required=False, help_text="Default sharpe")
    maximize = serializers.BooleanField(required=False)
    walk_forward = WalkForwardInput(required=False)
    heatmap_x = serializers.CharField(max_length=40, required=False)
    heatmap_y = serializers.CharField(max_length=40, required=False)
    settings = SettingsInput(required=False)


class OptimizationOutput(serializers.ModelSerializer):
    progress = serializers.FloatField(help_text="0 to 1")
    dataset_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Optimization
        fields = [
            "id",
            "name",
            "strategy_type",
            "method",
            "space",
            "fixed",
            "samples",
            "seed",
            "metric",
            "maximize",
            "walk_forward",
            "heatmap_x",
            "heatmap_y",
            "source",
            "sample",
            "symbol",
            "dataset_id",
            "start",
            "end",
            "settings",
            "status",
            "progress",
            "candidates_total",
            "candidates_done",
            "invalid",
            "ranking",
            "walk_forward_result",
            "heatmap",
            "error",
            "created_at",
            "finished_at",
        ]


class SourcesOutput(serializers.Serializer):
    samples = serializers.ListField(child=serializers.CharField())
    bar_symbols = serializers.ListField(child=serializers.CharField())
    datasets = serializers.ListField(child=serializers.DictField())
