"""Thin REST views of the Strategy Analyzer: a strategy's performance, closed trades and attribution.

A person reads their own strategies; an API key reads only the strategy it is scoped to
(and nothing else, read-only: these views answer GET only).
"""

import csv
import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import READ_STRATEGY, read_scope
from strategies import selectors
from strategies.models import Strategy, StrategyTrade
from strategies.performance import attribution_get, performance_get, trade_list

TRADE_CSV_COLUMNS = (
    "id", "version", "symbol", "side", "quantity", "entry_at", "exit_at", "entry_price", "exit_price",
    "pnl", "return", "commission", "duration", "model", "confidence",
)  # fmt: skip


def strategy_readable(request, strategy_id: int) -> Strategy:
    """The strategy, if the request's scope reads it (a person's own or granted, operations' any, a key's own
    strategy); 404 for any other."""
    strategy = selectors.strategy_list(scope=read_scope(request)).filter(pk=strategy_id).first()
    if strategy is None:
        raise NotFound(f"You have no strategy {strategy_id}.")
    return strategy


# ---------- answers ----------
class StrategyEquityPointOutput(serializers.Serializer):
    day = serializers.DateField()
    equity = serializers.CharField(help_text="Capital + realized + unrealized P&L at the day's close")
    drawdown = serializers.CharField(help_text="(peak - equity) / peak, a fraction")


class PerformanceOutput(serializers.Serializer):
    metrics = serializers.DictField(
        help_text="strategies/core/metrics.py PerformanceMetrics (decimals as strings, null when undefined), "
        "and `benchmark`, the symbol alpha and beta are measured against"
    )
    equity = StrategyEquityPointOutput(many=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField(allow_null=True, help_text="The strategy version in force when computed")


class StrategyTradeOutput(serializers.ModelSerializer):
    side = serializers.CharField(help_text="BUY: a long trade; SELL: a short one")
    quantity = serializers.DecimalField(max_digits=20, decimal_places=6)
    entry_price = serializers.DecimalField(max_digits=20, decimal_places=6)
    exit_price = serializers.DecimalField(max_digits=20, decimal_places=6)
    pnl = serializers.DecimalField(max_digits=20, decimal_places=6, help_text="Net of commissions")
    commission = serializers.DecimalField(max_digits=20, decimal_places=6)
    duration = serializers.SerializerMethodField(help_text="Seconds from entry to exit")
    model = serializers.SerializerMethodField(help_text="The producer model of the opening signal")

    class Meta:
        model = StrategyTrade
        fields = [
            "id", "version", "symbol", "side", "quantity", "entry_at", "exit_at", "entry_price", "exit_price",
            "pnl", "commission", "duration", "model", "confidence",
        ]  # fmt: skip
        extra_kwargs = {"confidence": {"help_text": "The opening signal's confidence score"}}

    def get_fields(self):
        # "return" is a Python keyword: added here, in the contract's place (after pnl).
        fields = super().get_fields()
        ordered = {}
        for name, field in fields.items():
            ordered[name] = field
            if name == "pnl":
                ordered["return"] = serializers.DecimalField(
                    source="return_fraction",
                    max_digits=20,
                    decimal_places=10,
                    help_text="pnl / (quantity * entry_price)",
                )
        return ordered

    def get_duration(self, trade: StrategyTrade) -> float:
        return (trade.exit_at - trade.entry_at).total_seconds()

    def get_model(self, trade: StrategyTrade) -> str | None:
        return trade.model or None


class CalibrationOutput(serializers.Serializer):
    bucket = serializers.CharField()
    lower = serializers.CharField()
    upper = serializers.CharField()
    trades = serializers.IntegerField()
    wins = serializers.IntegerField()
    win_rate = serializers.CharField(allow_null=True)
    mean_confidence = serializers.CharField(allow_null=True)


class ModelAttributionOutput(serializers.Serializer):
    model = serializers.CharField()
    signals = serializers.IntegerField(allow_null=True)
    trades = serializers.IntegerField()
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    pnl = serializers.CharField()
    hit_rate = serializers.CharField(allow_null=True)
    average_return = serializers.CharField(allow_null=True)
    calibration = CalibrationOutput(many=True)


class AttributionOutput(serializers.Serializer):
    models = ModelAttributionOutput(many=True)
    calibration = CalibrationOutput(many=True)
    unconfident_trades = serializers.IntegerField(help_text="Closed trades whose signal carried no confidence")


# ---------- views ----------
class StrategyPerformanceApi(APIView):
    access = {"GET": READ_STRATEGY}
    error_statuses = {403}

    @extend_schema(responses=PerformanceOutput)
    def get(self, request, pk: int):
        strategy = strategy_readable(request, pk)
        return Response(PerformanceOutput(performance_get(strategy)).data)


class TradesCsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict) and "results" not in data:  # an error answer stays readable
            return ("code,message\r\n" + f"{data.get('code', '')},{data.get('message', '')}\r\n").encode()
        rows = data["results"] if isinstance(data, dict) else data
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=TRADE_CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({name: "" if row.get(name) is None else row[name] for name in TRADE_CSV_COLUMNS})
        return out.getvalue().encode()


class StrategyTradeListApi(generics.ListAPIView):
    """The strategy's closed trades, oldest exit first; `?format=csv` (or trades.csv) downloads them all as CSV."""

    access = {"GET": READ_STRATEGY}
    serializer_class = StrategyTradeOutput
    renderer_classes = [JSONRenderer, TradesCsvRenderer]
    error_statuses = {403}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: every trade as a CSV file"
            )
        ]
    )
    def get(self, request, *args, **kwargs):
        if self._csv():
            strategy = strategy_readable(request, self.kwargs["pk"])
            rows = StrategyTradeOutput(trade_list(strategy), many=True).data
            response = Response(rows)
            response["Content-Disposition"] = f'attachment; filename="strategy-{strategy.pk}-trades.csv"'
            return response
        return super().get(request, *args, **kwargs)

    def _csv(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return isinstance(renderer, TradesCsvRenderer)

    def get_queryset(self):
        return trade_list(strategy_readable(self.request, self.kwargs["pk"]))


class StrategyAttributionApi(APIView):
    access = {"GET": READ_STRATEGY}
    error_statuses = {403}

    @extend_schema(responses=AttributionOutput)
    def get(self, request, pk: int):
        strategy = strategy_readable(request, pk)
        found = attribution_get(strategy).as_dict()
        found["unconfident_trades"] = found.pop("unscored_trades")  # the contract's name for them
        return Response(AttributionOutput(found).data)


@extend_schema(exclude=True)
class StrategyTradeCsvApi(StrategyTradeListApi):
    """strategies/{id}/trades.csv: the same as trades/?format=csv."""
