"""Thin REST views over trading selectors and services."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import READ, READ_ORDERS, TRADE, read_scope, write_scope
from quantumleap.serializers import AwareDateTimeField, IdField, query_data
from risk.selectors import trading_state_get
from trading import selectors, services
from trading.brokers.base import BrokerError
from trading.core.orders import OrderError
from trading.marketdata.calendars import DEFAULT_EXCHANGES, OutsideCalendar, UnknownExchange
from trading.marketdata.history import BARS_DEFAULT_LIMIT, BARS_MAX_LIMIT, bar_list, exchange_list
from trading.marketdata.manager import market_data
from trading.marketdata.prices import price_get, price_updated_at, symbol_is_stale
from trading.serializers import (
    EventOutput,
    ExecutionOutput,
    OrderModifyInput,
    OrderOutput,
    PortfolioOutput,
    PositionOutput,
)


class OrderListApi(generics.ListAPIView):
    serializer_class = OrderOutput
    access = {"GET": READ_ORDERS}

    def get_queryset(self):
        return selectors.order_list(scope=read_scope(self.request))


def _refused(error: OrderError | services.TradingError | BrokerError) -> Response:
    return Response({"code": error.code, "message": error.message}, status=409)


class OrderDetailApi(generics.RetrieveAPIView):
    serializer_class = OrderOutput
    error_statuses = {"PATCH": {409}}
    access = {"GET": READ_ORDERS, "PATCH": TRADE}

    def get_queryset(self):
        return selectors.order_list(scope=read_scope(self.request))

    @extend_schema(request=OrderModifyInput, responses=OrderOutput)
    def patch(self, request, pk: int):
        order = get_object_or_404(selectors.order_list(scope=write_scope(request)), pk=pk)
        serializer = OrderModifyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            order = services.order_modify(
                order_id=order.pk, actor=request.user.get_username(), **serializer.validated_data
            )
        except (OrderError, services.TradingError, BrokerError) as error:
            return _refused(error)
        return Response(OrderOutput(order).data)


class OrderCancelApi(APIView):
    error_statuses = {409}
    access = {"POST": TRADE}

    @extend_schema(request=None, responses=OrderOutput)
    def post(self, request, pk: int):
        order = get_object_or_404(selectors.order_list(scope=write_scope(request)), pk=pk)
        try:
            order = services.order_cancel(order_id=order.pk, actor=request.user.get_username())
        except (OrderError, BrokerError) as error:
            return _refused(error)
        return Response(OrderOutput(order).data)


class PositionCloseApi(APIView):
    error_statuses = {409}
    access = {"POST": TRADE}

    @extend_schema(request=None, responses={202: OrderOutput})
    def post(self, request, pk: int):
        position = get_object_or_404(selectors.position_queryset(scope=write_scope(request)), pk=pk)
        try:
            order = services.position_close(position_id=position.pk, actor=request.user.get_username())
        except (OrderError, services.TradingError, BrokerError) as error:
            return _refused(error)
        return Response(OrderOutput(order).data, status=202)


class PositionListApi(generics.ListAPIView):
    serializer_class = PositionOutput
    access = {"GET": READ}

    def get_queryset(self):
        return selectors.position_list(scope=read_scope(self.request))


class PositionHistoryApi(APIView):
    """A symbol's position after each fill, oldest first, with its average price and realized P&L."""

    access = {"GET": READ}

    class Input(serializers.Serializer):
        symbol = serializers.CharField(max_length=32)

    class PositionHistoryOutput(serializers.Serializer):
        executed_at = serializers.DateTimeField()
        strategy_id = serializers.IntegerField(allow_null=True)
        exec_id = serializers.CharField()
        order_id = serializers.IntegerField()
        side = serializers.CharField()
        quantity = serializers.DecimalField(max_digits=24, decimal_places=6)
        price = serializers.DecimalField(max_digits=24, decimal_places=6)
        commission = serializers.DecimalField(max_digits=24, decimal_places=6)
        position_quantity = serializers.DecimalField(max_digits=24, decimal_places=6)
        average_price = serializers.DecimalField(max_digits=24, decimal_places=6)
        realized_pnl = serializers.DecimalField(max_digits=24, decimal_places=6)

    @extend_schema(parameters=[Input], responses=PositionHistoryOutput(many=True))
    def get(self, request):
        params = self.Input(data=query_data(request.query_params))
        params.is_valid(raise_exception=True)
        history = selectors.position_history(scope=read_scope(request), symbol=params.validated_data["symbol"].upper())
        return Response(self.PositionHistoryOutput(history, many=True).data)


class ExecutionListApi(generics.ListAPIView):
    serializer_class = ExecutionOutput
    access = {"GET": READ}

    def get_queryset(self):
        return selectors.execution_list(scope=read_scope(self.request))


class EventListApi(generics.ListAPIView):
    serializer_class = EventOutput
    access = {"GET": READ}

    class Filters(serializers.Serializer):
        type = serializers.CharField(
            required=False, max_length=64, help_text="Event type, or a prefix ending in '.' (e.g. order.)"
        )
        since = AwareDateTimeField(required=False, help_text="Events at or after this time (ISO 8601 with a zone)")
        strategy = IdField(required=False, help_text="One strategy's events")

    @extend_schema(parameters=[Filters])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = self.Filters(data=query_data(self.request.query_params))
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        return selectors.event_list(
            scope=read_scope(self.request),
            type=params.get("type"),
            since=params.get("since"),
            strategy_id=params.get("strategy"),
        )


class AccountQuery(serializers.Serializer):
    account = IdField(required=False, help_text="An account granted to you (operations: any); default your own")


def account_queried(request):
    """The account a read names in ``?account=`` (one the request may read), or the reader's own."""
    query = AccountQuery(data=query_data(request.query_params))
    query.is_valid(raise_exception=True)
    account = selectors.account_readable(scope=read_scope(request), account_id=query.validated_data.get("account"))
    if account is None:
        raise NotFound(
            "No such account of yours." if "account" in query.validated_data else "You have no trading account."
        )
    return account


class PortfolioApi(APIView):
    error_statuses = {404}  # no trading account, or not one the reader may see
    access = {"GET": READ}

    @extend_schema(parameters=[AccountQuery], responses=PortfolioOutput)
    def get(self, request):
        portfolio = selectors.portfolio_get(account=account_queried(request))
        # The account's trading state is the risk engine's record.
        portfolio["trading_state"] = trading_state_get(account=portfolio["account"])
        return Response(PortfolioOutput(portfolio).data)


# A symbol as instruments spell it; anything else names no instrument (404).
PATH_SYMBOL = {"type": "string", "pattern": r"^[A-Za-z0-9.\-]{1,16}$"}


class MarketPriceApi(APIView):
    """The last price of a symbol, whether it is stale, and its 1-minute bars for charts."""

    access = {"GET": READ}

    class Input(serializers.Serializer):
        since = AwareDateTimeField(required=False, help_text="ISO 8601 time with a zone: bars from this minute on")
        until = AwareDateTimeField(
            required=False, help_text="ISO 8601 time with a zone: bars before this minute; later than since"
        )
        limit = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=BARS_MAX_LIMIT,
            default=BARS_DEFAULT_LIMIT,
            help_text=f"Most recent bars to return (default {BARS_DEFAULT_LIMIT})",
        )

        def validate(self, attrs):
            if "since" in attrs and "until" in attrs and attrs["since"] >= attrs["until"]:
                raise ValidationError({"until": ["Must be later than since."]})
            return attrs

    class BarOutput(serializers.Serializer):
        minute = serializers.DateTimeField()
        open = serializers.DecimalField(max_digits=24, decimal_places=6)
        high = serializers.DecimalField(max_digits=24, decimal_places=6)
        low = serializers.DecimalField(max_digits=24, decimal_places=6)
        close = serializers.DecimalField(max_digits=24, decimal_places=6)
        volume = serializers.DecimalField(max_digits=24, decimal_places=6)

    class Output(serializers.Serializer):
        symbol = serializers.CharField()
        price = serializers.DecimalField(max_digits=24, decimal_places=6)
        at = serializers.DateTimeField(allow_null=True, help_text="When the feed last priced it; null if never")
        stale = serializers.BooleanField(help_text="A feed runs and this symbol has not ticked lately")
        bars = serializers.ListField(child=serializers.DictField(), help_text="1-minute OHLCV, oldest first")

    @extend_schema(
        parameters=[Input, OpenApiParameter("symbol", PATH_SYMBOL, OpenApiParameter.PATH)],
        responses=Output,
    )
    def get(self, request, symbol: str):
        symbol = symbol.upper()
        params = self.Input(data=query_data(request.query_params))
        params.is_valid(raise_exception=True)
        price = price_get(symbol)
        if price is None:
            raise NotFound(f"{symbol} is not a tradable instrument.")
        bars = bar_list(symbol=symbol, **params.validated_data)
        return Response(
            self.Output(
                {
                    "symbol": symbol,
                    "price": price,
                    "at": price_updated_at(symbol),
                    "stale": symbol_is_stale(symbol, timezone.now()),
                    "bars": self.BarOutput(bars, many=True).data,
                }
            ).data
        )


class MarketStatusApi(APIView):
    """Per exchange: open, closed, pre_market or post_market, the next open and close, holidays, early closes."""

    access = {"GET": READ}

    class Input(serializers.Serializer):
        at = AwareDateTimeField(
            required=False, help_text="This moment instead of now (ISO 8601 with a zone), within the calendar's years"
        )
        exchange = serializers.CharField(
            required=False, max_length=16, help_text="One exchange (MIC, e.g. XNYS) or a symbol listed on one"
        )

    @extend_schema(parameters=[Input], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        params = self.Input(data=query_data(request.query_params))
        params.is_valid(raise_exception=True)
        now = params.validated_data.get("at") or timezone.now()
        manager = market_data()
        requested = params.validated_data.get("exchange")
        exchanges = [requested.upper()] if requested else sorted({*DEFAULT_EXCHANGES, *exchange_list()})
        statuses = []
        for exchange in exchanges:
            try:
                statuses.append(manager.get_market_status(exchange, now).as_dict())
            except UnknownExchange as error:
                if requested:
                    raise ValidationError({"exchange": [str(error)]}) from error
            except OutsideCalendar as error:
                raise ValidationError({"at": [str(error)]}) from error
        return Response({"at": now.isoformat(), "exchanges": statuses})
