"""Thin REST views of the backtester: a person's own runs, uploads and optimizations.

Signal producers' API keys are refused (403): backtests are a person's work, done in a session.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import READ, TRADE
from backtests import selectors, services
from backtests.serializers import (
    BacktestDetailOutput,
    BacktestInput,
    BacktestOutput,
    DatasetInput,
    DatasetOutput,
    EquityOutput,
    OptimizationInput,
    OptimizationOutput,
    SourcesOutput,
    TradeOutput,
)
from quantumleap import codes
from strategies.core.backtest.data import InvalidOhlcvData

# People only (a signal key's role reads and posts signals, nothing here): a person's own runs, data and searches.
ACCESS = {"GET": READ, "POST": TRADE}


def _created(data: Any) -> Response:
    return Response(data, status=status.HTTP_201_CREATED)


def _invalid(error: services.InvalidBacktest) -> ValidationError:
    return ValidationError(error.errors)


def _backtest(request, pk: int):
    backtest = selectors.backtest_get(user=request.user, backtest_id=pk)
    if backtest is None:
        raise NotFound(f"You have no backtest {pk}.")
    return backtest


class BacktestListApi(generics.ListAPIView):
    """Your backtests, newest first; POST runs one (it answers at once, QUEUED; the run goes to a worker)."""

    access = ACCESS
    error_statuses = {403}  # a signal producer's key
    serializer_class = BacktestOutput

    def get_queryset(self):
        return selectors.backtest_list(user=self.request.user)

    @extend_schema(request=BacktestInput, responses={201: BacktestDetailOutput})
    def post(self, request):
        data = BacktestInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            backtest = services.backtest_create(owner=request.user, data=data.validated_data)
        except services.InvalidBacktest as error:
            raise _invalid(error) from error
        return _created(BacktestDetailOutput(backtest).data)


class BacktestDetailApi(APIView):
    access = ACCESS
    error_statuses = {403}  # a signal producer's key

    @extend_schema(responses=BacktestDetailOutput)
    def get(self, request, pk: int):
        return Response(BacktestDetailOutput(_backtest(request, pk)).data)


class BacktestTradesApi(generics.ListAPIView):
    """The run's closed trades, in the order they closed."""

    access = ACCESS
    error_statuses = {403}  # a signal producer's key
    serializer_class = TradeOutput

    def get_queryset(self):
        return _backtest(self.request, self.kwargs["pk"]).trades


class BacktestEquityApi(APIView):
    access = ACCESS
    error_statuses = {403}  # a signal producer's key

    @extend_schema(responses=EquityOutput)
    def get(self, request, pk: int):
        equity = _backtest(request, pk).equity or {}
        drawdowns = dict(equity.get("drawdown_daily") or [])
        answer = {
            "curve": [{"at": at, "equity": e, "drawdown": d} for at, e, d in equity.get("curve") or []],
            "daily": [
                {"day": day, "equity": e, "drawdown": drawdowns.get(day)} for day, e in equity.get("daily") or []
            ],
        }
        return Response(answer)


class BacktestCancelApi(APIView):
    """A queued run ends at once, a running one within about 2 % of its bars; a finished one stays as it is."""

    access = ACCESS
    error_statuses = {403}  # a signal producer's key

    @extend_schema(request=None, responses=BacktestDetailOutput)
    def post(self, request, pk: int):
        backtest = services.backtest_cancel(backtest=_backtest(request, pk))
        return Response(BacktestDetailOutput(backtest).data)


class DatasetListApi(generics.ListAPIView):
    """Your uploaded OHLCV data; POST uploads a CSV or Parquet file (multipart), validated before it is kept."""

    access = ACCESS
    error_statuses = {403}  # a signal producer's key
    serializer_class = DatasetOutput
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return selectors.dataset_list(user=self.request.user)

    @extend_schema(
        request={"multipart/form-data": DatasetInput},
        responses={201: DatasetOutput},  # a 400 is `invalid`, or `invalid_ohlcv_data` listing each problem
    )
    def post(self, request):
        data = DatasetInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            dataset = services.dataset_upload(
                owner=request.user,
                name=data.validated_data.get("name") or "",
                symbol=data.validated_data["symbol"].upper(),
                filename=upload.name or "",
                content=upload.read(),
            )
        except InvalidOhlcvData as error:
            problems = [p.message for p in error.report.problems]
            body = {"code": codes.INVALID_OHLCV_DATA, "message": error.message, "errors": {"file": problems}}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return _created(DatasetOutput(dataset).data)


class DataSourcesApi(APIView):
    access = ACCESS
    error_statuses = {403}  # a signal producer's key

    @extend_schema(responses=SourcesOutput)
    def get(self, request):
        return Response(selectors.data_sources(user=request.user))


class OptimizationListApi(generics.ListAPIView):
    """Your optimizations; POST starts a grid or random search with walk-forward, each candidate a Celery task."""

    access = ACCESS
    error_statuses = {403}  # a signal producer's key
    serializer_class = OptimizationOutput

    def get_queryset(self):
        return selectors.optimization_list(user=self.request.user)

    @extend_schema(request=OptimizationInput, responses={201: OptimizationOutput})
    def post(self, request):
        data = OptimizationInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            optimization = services.optimization_create(owner=request.user, data=data.validated_data)
        except services.InvalidBacktest as error:
            raise _invalid(error) from error
        return _created(OptimizationOutput(optimization).data)


class OptimizationDetailApi(APIView):
    access = ACCESS
    error_statuses = {403}  # a signal producer's key

    @extend_schema(responses=OptimizationOutput)
    def get(self, request, pk: int):
        optimization = selectors.optimization_get(user=request.user, optimization_id=pk)
        if optimization is None:
            raise NotFound(f"You have no optimization {pk}.")
        return Response(OptimizationOutput(optimization).data)


class OptimizationCancelApi(APIView):
    """A queued or running optimization ends at once (candidates not started are skipped, nothing is ranked)."""

    access = ACCESS
    error_statuses = {403}  # a signal producer's key

    @extend_schema(request=None, responses=OptimizationOutput)
    def post(self, request, pk: int):
        optimization = selectors.optimization_get(user=request.user, optimization_id=pk)
        if optimization is None:
            raise NotFound(f"You have no optimization {pk}.")
        return Response(OptimizationOutput(services.optimization_cancel(optimization=optimization)).data)
