"""Thin REST views over trading selectors and services."""

from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from trading import selectors, services
from trading.core.orders import IllegalTransition
from trading.marketdata import price_get
from trading.serializers import (
    EventOutput,
    ExecutionOutput,
    OrderOutput,
    PortfolioOutput,
    PositionOutput,
    PriceOutput,
)


class OrderListApi(generics.ListAPIView):
    serializer_class = OrderOutput

    def get_queryset(self):
        return selectors.order_list(user=self.request.user)


class OrderDetailApi(generics.RetrieveAPIView):
    serializer_class = OrderOutput

    def get_queryset(self):
        return selectors.order_list(user=self.request.user)


class OrderCancelApi(APIView):
    @extend_schema(request=None, responses=OrderOutput)
    def post(self, request, pk: int):
        order = get_object_or_404(selectors.order_list(user=request.user), pk=pk)
        try:
            order = services.order_cancel(order_id=order.pk, actor=request.user.get_username())
        except IllegalTransition as error:
            return Response({"code": error.code, "message": error.message}, status=409)
        return Response(OrderOutput(order).data)


class PositionListApi(generics.ListAPIView):
    serializer_class = PositionOutput

    def get_queryset(self):
        return selectors.position_list(user=self.request.user)


class ExecutionListApi(generics.ListAPIView):
    serializer_class = ExecutionOutput

    def get_queryset(self):
        return selectors.execution_list(user=self.request.user)


class EventListApi(generics.ListAPIView):
    serializer_class = EventOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("type", str, description="Event type, or a prefix ending in '.' (e.g. order.)"),
            OpenApiParameter("since", str, description="ISO 8601 time with a zone"),
            OpenApiParameter("strategy", int),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        since = params.get("since")
        since_at = parse_datetime(since) if since else None
        if since and (since_at is None or since_at.tzinfo is None):
            raise ValidationError({"since": ["Give an ISO 8601 time with a time zone."]})
        strategy = params.get("strategy")
        if strategy and not strategy.isdigit():
            raise ValidationError({"strategy": ["Give a strategy id."]})
        return selectors.event_list(
            user=self.request.user,
            type=params.get("type"),
            since=since_at,
            strategy_id=int(strategy) if strategy else None,
        )


class PortfolioApi(APIView):
    @extend_schema(responses=PortfolioOutput)
    def get(self, request):
        portfolio = selectors.portfolio_get(user=request.user)
        if portfolio is None:
            raise NotFound("You have no trading account.")
        return Response(PortfolioOutput(portfolio).data)


class MarketPriceApi(APIView):
    @extend_schema(responses=PriceOutput)
    def get(self, request, symbol: str):
        price = price_get(symbol.upper())
        if price is None:
            raise NotFound(f"{symbol} is not a tradable instrument.")
        return Response(PriceOutput({"symbol": symbol.upper(), "price": price}).data)
