"""Thin REST views for signals."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import POST_SIGNALS, READ, READ_SIGNALS, read_scope
from strategies import selectors
from strategies.models import Strategy
from strategies.serializers import (
    SignalBatchInput,
    SignalBatchOutput,
    SignalInput,
    SignalOutput,
    StrategyOutput,
)
from strategies.services import SignalData, signal_receive, signals_receive


def _signal_data(data: dict) -> SignalData:
    return SignalData(
        external_id=data["id"],
        symbol=data["symbol"],
        signal_type=data["signal_type"],
        confidence_score=data["confidence_score"],
        position_size=data["position_size"],
        expires_at=data["expires_at"],
        target_price=data.get("target_price"),
        stop_loss=data.get("stop_loss"),
        take_profit=data.get("take_profit"),
        metadata=data.get("metadata") or {},
    )


def _strategy(request, strategy_id: int | None) -> Strategy:
    """The strategy a signal is for: the one named, which must be the key's own when the key is scoped."""
    scoped = getattr(request.auth, "strategy", None)
    if strategy_id is None:
        if scoped is None:
            message = "This field is required unless your key is scoped to one strategy."
            raise ValidationError({"strategy_id": [message]})
        return scoped
    if scoped is not None and scoped.pk != strategy_id:
        raise PermissionDenied(f"This key may only post signals for strategy {scoped.pk}.")
    strategy = selectors.strategy_for_user(user=request.user, strategy_id=strategy_id)
    if strategy is None:
        raise ValidationError({"strategy_id": [f"You have no strategy {strategy_id}."]})
    return strategy


class SignalCreateApi(APIView):
    access = {"POST": POST_SIGNALS}

    @extend_schema(request=SignalInput, responses={201: SignalOutput, 200: SignalOutput})
    def post(self, request):
        serializer = SignalInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        strategy = _strategy(request, data.get("strategy_id"))
        signal, created = signal_receive(producer=request.user, strategy=strategy, data=_signal_data(data))
        selectors.signal_orders_load([signal])
        return Response(SignalOutput(signal).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class SignalBatchApi(APIView):
    access = {"POST": POST_SIGNALS}

    @extend_schema(request=SignalBatchInput, responses={200: SignalBatchOutput})
    def post(self, request):
        """Up to 100 signals in one request, taken in order; each answer says whether it was new (created).

        A batch with any malformed signal, or one naming a strategy the key may not use, is refused
        whole (400 / 403) and records nothing; otherwise each signal is accepted or refused on its own.
        """
        serializer = SignalBatchInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data["signals"]
        signals = [(_strategy(request, data.get("strategy_id")), _signal_data(data)) for data in items]
        received = signals_receive(producer=request.user, signals=signals)
        selectors.signal_orders_load([signal for signal, _ in received])
        # A repeated id answers twice with the same signal, created only the first time.
        answers = [{**SignalOutput(signal).data, "created": is_new} for signal, is_new in received]
        return Response({"signals": answers}, status=status.HTTP_200_OK)


class SignalDetailApi(APIView):
    access = {"GET": READ_SIGNALS}

    @extend_schema(responses=SignalOutput)
    def get(self, request, external_id: str):
        signal = selectors.signal_get(scope=read_scope(request), external_id=external_id)
        if signal is None:
            raise NotFound(f"No signal {external_id}.")
        return Response(SignalOutput(signal).data)


class StrategyListApi(generics.ListAPIView):
    serializer_class = StrategyOutput
    access = {"GET": READ}

    def get_queryset(self):
        return selectors.strategy_list(scope=read_scope(self.request))


class StrategyDetailApi(generics.RetrieveAPIView):
    serializer_class = StrategyOutput
    access = {"GET": READ}

    def get_queryset(self):
        return selectors.strategy_list(scope=read_scope(self.request))
