"""Thin REST views for signals."""

from contextlib import contextmanager

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey
from accounts.permissions import POST_SIGNALS, READ_SIGNALS, READ_STRATEGY, TRADE, read_scope
from quantumleap.serializers import query_integer
from strategies import lifecycle, selectors
from strategies.core.generators import STRATEGY_TYPES
from strategies.core.lifecycle import StrategyAction, StrategyLifecycleError
from strategies.core.params import InvalidStrategyParameters
from strategies.lifecycle import StrategyChanges, StrategyInvalid
from strategies.models import Strategy
from strategies.serializers import (
    SignalBatchInput,
    SignalBatchOutput,
    SignalInput,
    SignalOutput,
    StrategyActionInput,
    StrategyCreateInput,
    StrategyOutput,
    StrategyRefusalOutput,
    StrategyStopInput,
    StrategyTypeOutput,
    StrategyUpdateInput,
    StrategyVersionOutput,
)
from strategies.services import SignalData, signal_receive, signals_receive
from trading.selectors import account_for_user


def _producer_name(request) -> str:
    """The key a signal came through, as attribution names its producer: the key's name, else its prefix."""
    key = request.auth
    return (key.name or key.display_prefix)[:64] if isinstance(key, ApiKey) else ""


def _signal_data(data: dict, request) -> SignalData:
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
        producer_name=_producer_name(request),
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
        signal, created = signal_receive(producer=request.user, strategy=strategy, data=_signal_data(data, request))
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
        signals = [(_strategy(request, data.get("strategy_id")), _signal_data(data, request)) for data in items]
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


# ---------- the strategy manager ----------
def _strategy_mine(request, pk: int) -> Strategy:
    """A strategy the request may read (its scope: own, granted, every one for operations, a key's own); 404
    for any other (ids reveal nothing)."""
    strategy = selectors.strategy_list(scope=read_scope(request)).filter(pk=pk).first()
    if strategy is None:
        raise NotFound(f"You have no strategy {pk}.")
    return strategy


def _strategy_changeable(request, pk: int) -> Strategy:
    """One of the person's own strategies (only its owner changes it); 404 for any other."""
    strategy = selectors.strategy_for_user(user=request.user, strategy_id=pk)
    if strategy is None:
        raise NotFound(f"You have no strategy {pk}.")
    return strategy


class StrategyRefused(APIException):
    """A lifecycle refusal: 409 with its code, its sentence and, for capital_exceeds_equity, the figures."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "strategy_lifecycle_error"

    def __init__(self, error: StrategyLifecycleError | InvalidStrategyParameters) -> None:
        super().__init__(detail=error.message, code=error.code)
        figures = getattr(error, "figures", None)
        self.extra = {"errors": figures} if figures else None


@contextmanager
def _answers():
    """The services' refusals as the API's answers: field errors 400, lifecycle refusals 409, gone 404."""
    try:
        yield
    except StrategyInvalid as error:
        raise ValidationError(error.errors) from error
    except (StrategyLifecycleError, InvalidStrategyParameters) as error:
        raise StrategyRefused(error) from error
    except Strategy.DoesNotExist as error:
        raise NotFound("You have no such strategy.") from error


class StrategyListApi(generics.ListAPIView):
    """GET: the user's strategies (a scoped key: its own only). POST: a new DRAFT strategy, version 1."""

    access = {"GET": READ_STRATEGY, "POST": TRADE}
    serializer_class = StrategyOutput
    error_statuses = {"POST": {404, 409}}  # no trading account; capital_exceeds_equity
    refusal_output = StrategyRefusalOutput

    def get_queryset(self):
        return selectors.strategy_list(scope=read_scope(self.request))

    @extend_schema(request=StrategyCreateInput, responses={201: StrategyOutput})
    def post(self, request):
        serializer = StrategyCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = account_for_user(request.user)
        if account is None:
            raise NotFound("You have no trading account.")
        with _answers():
            strategy = lifecycle.strategy_create(
                owner=request.user,
                account=account,
                name=data["name"],
                strategy_type=data["strategy_type"],
                capital=data["capital"],
                parameters=data.get("parameters"),
                symbols=data.get("symbols"),
                auto_pause=data.get("auto_pause"),
                reason=data.get("reason", ""),
            )
        return Response(StrategyOutput(strategy).data, status=status.HTTP_201_CREATED)


class StrategyDetailApi(APIView):
    """GET one strategy; PATCH makes a new version; DELETE a DRAFT or STOPPED one (204)."""

    access = {"GET": READ_STRATEGY, "PATCH": TRADE, "DELETE": TRADE}
    error_statuses = {"PATCH": {409}, "DELETE": {409}}
    refusal_output = StrategyRefusalOutput

    @extend_schema(responses=StrategyOutput)
    def get(self, request, pk: int):
        return Response(StrategyOutput(_strategy_mine(request, pk)).data)

    @extend_schema(request=StrategyUpdateInput, responses=StrategyOutput)
    def patch(self, request, pk: int):
        strategy = _strategy_changeable(request, pk)
        serializer = StrategyUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changes = StrategyChanges(
            name=data.get("name"),
            capital=data.get("capital"),
            parameters=data.get("parameters"),
            symbols=data.get("symbols"),
            auto_pause=data.get("auto_pause"),
        )
        with _answers():
            strategy = lifecycle.strategy_update(
                strategy_id=strategy.pk, user=request.user, changes=changes, reason=data.get("reason", "")
            )
        return Response(StrategyOutput(strategy).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        strategy = _strategy_changeable(request, pk)
        with _answers():
            lifecycle.strategy_delete(strategy_id=strategy.pk, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StrategyActionApi(APIView):
    """POST strategies/{id}/<action>/: the lifecycle table decides; deploy (and resume after an auto-pause)
    need the person's one-time password in ``otp``; stop cancels its open orders and, with ``flatten``,
    closes its positions."""

    access = {"POST": TRADE}
    action: StrategyAction = StrategyAction.PAUSE
    input_serializer: type[StrategyActionInput] = StrategyActionInput
    error_statuses = {409}
    refusal_output = StrategyRefusalOutput

    def post(self, request, pk: int):
        strategy = _strategy_changeable(request, pk)
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _answers():
            strategy = lifecycle.strategy_transition(
                strategy_id=strategy.pk,
                user=request.user,
                action=self.action,
                otp=data.get("otp"),
                reason=data.get("reason", ""),
                flatten=data.get("flatten", False),
            )
        return Response(StrategyOutput(strategy).data)


class StrategyDeployApi(StrategyActionApi):
    action = StrategyAction.DEPLOY

    @extend_schema(request=StrategyActionInput, responses=StrategyOutput)
    def post(self, request, pk: int):
        """Deploy a DRAFT or STOPPED strategy: the one-time password in `otp`; its capital within the equity."""
        return super().post(request, pk)


class StrategyPauseApi(StrategyActionApi):
    action = StrategyAction.PAUSE

    @extend_schema(request=StrategyActionInput, responses=StrategyOutput)
    def post(self, request, pk: int):
        """Pause a RUNNING strategy: no new entries; its positions stay protected and reducing signals are taken."""
        return super().post(request, pk)


class StrategyResumeApi(StrategyActionApi):
    action = StrategyAction.RESUME

    @extend_schema(request=StrategyActionInput, responses=StrategyOutput)
    def post(self, request, pk: int):
        """Resume a paused strategy (after an auto-pause, with the one-time password); nothing paused is replayed."""
        return super().post(request, pk)


class StrategyStopApi(StrategyActionApi):
    action = StrategyAction.STOP
    input_serializer = StrategyStopInput

    @extend_schema(request=StrategyStopInput, responses=StrategyOutput)
    def post(self, request, pk: int):
        """Stop: cancel the open orders its signals made; `flatten` also closes its positions at market."""
        return super().post(request, pk)


class StrategyTypesApi(APIView):
    access = {"GET": READ_STRATEGY}
    pagination_class = None

    @extend_schema(responses=StrategyTypeOutput(many=True))
    def get(self, request):
        """The strategy types and each one's parameters (default, range, help) for the New strategy form."""
        answer = [
            {
                "type": info.name,
                "label": info.label,
                "description": info.description,
                "generator": info.generator is not None,
                "parameters": [spec.as_dict() for spec in info.parameters],
            }
            for info in STRATEGY_TYPES.values()
        ]
        return Response(answer)


class StrategyVersionsApi(APIView):
    access = {"GET": READ_STRATEGY}

    @extend_schema(responses=StrategyVersionOutput(many=True))
    def get(self, request, pk: int):
        """Every version of the strategy, newest first: who, when, why and the diff from the one before."""
        strategy = _strategy_mine(request, pk)
        return Response(StrategyVersionOutput(selectors.strategy_versions(strategy=strategy), many=True).data)


SIGNALS_MAX = 500  # as every list's page


class SignalsQuery(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=SIGNALS_MAX, help_text="How many, newest first (default 50)"
    )


class StrategySignalsApi(APIView):
    access = {"GET": READ_STRATEGY}

    @extend_schema(parameters=[SignalsQuery], responses=SignalOutput(many=True))
    def get(self, request, pk: int):
        """The strategy's latest signals, newest first, each with its outcome (status, order, violations)."""
        strategy = _strategy_mine(request, pk)
        limit = query_integer(request.query_params, "limit", minimum=1, maximum=SIGNALS_MAX) or 50
        signals = selectors.strategy_signals(strategy=strategy, limit=limit)
        return Response(SignalOutput(signals, many=True).data)
