"""Thin REST views for signals."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from strategies import selectors
from strategies.serializers import SignalInput, SignalOutput, StrategyOutput
from strategies.services import SignalData, signal_receive


class SignalCreateApi(APIView):
    @extend_schema(request=SignalInput, responses={201: SignalOutput, 200: SignalOutput})
    def post(self, request):
        serializer = SignalInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        strategy = self._strategy(request, data.get("strategy_id"))
        signal, created = signal_receive(
            producer=request.user,
            strategy=strategy,
            data=SignalData(
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
            ),
        )
        selectors.signal_orders_load(signal)
        return Response(SignalOutput(signal).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _strategy(self, request, strategy_id: int | None):
        scoped = getattr(request.auth, "strategy", None)
        if strategy_id is None:
            if scoped is None:
                raise ValidationError(
                    {"strategy_id": ["This field is required unless your key is scoped to one strategy."]}
                )
            return scoped
        if scoped is not None and scoped.pk != strategy_id:
            raise PermissionDenied(f"This key may only post signals for strategy {scoped.pk}.")
        strategy = selectors.strategy_for_user(user=request.user, strategy_id=strategy_id)
        if strategy is None:
            raise ValidationError({"strategy_id": [f"You have no strategy {strategy_id}."]})
        return strategy


class SignalDetailApi(APIView):
    @extend_schema(responses=SignalOutput)
    def get(self, request, external_id: str):
        signal = selectors.signal_for_user(user=request.user, external_id=external_id)
        if signal is None:
            raise NotFound(f"No signal {external_id}.")
        return Response(SignalOutput(signal).data)


class StrategyListApi(generics.ListAPIView):
    serializer_class = StrategyOutput

    def get_queryset(self):
        return selectors.strategy_list(user=self.request.user)


class StrategyDetailApi(generics.RetrieveAPIView):
    serializer_class = StrategyOutput

    def get_queryset(self):
        return selectors.strategy_list(user=self.request.user)
