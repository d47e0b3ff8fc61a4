"""Thin REST views: risk parameters, the portfolio assessment, the kill switch."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.otp import otp_verify
from accounts.permissions import KILL_SWITCH, READ, TRADE, may_operate_kill_switches, read_scope
from quantumleap.serializers import IdField, query_data
from risk import selectors, services
from risk.models import KillSwitch
from risk.serializers import KillSwitchInput, KillSwitchOutput, RiskParametersSerializer, TradingStateInput
from strategies.models import Strategy
from trading.selectors import account_for_user, account_readable


def _account(request):
    account = account_for_user(request.user)
    if account is None:
        raise NotFound("You have no trading account.")
    return account


def _account_named(request, account_id: int | None, *, operations: bool):
    """The account a kill switch names by ``account_id``: operations any, a trader only their own (else 404)."""
    if account_id is None:
        return _account(request)
    if operations:
        account = account_readable(scope=read_scope(request), account_id=account_id)
    else:
        account = account_for_user(request.user)
    if account is None or account.pk != account_id:
        raise NotFound("No such account of yours.")
    return account


class AccountQuery(serializers.Serializer):
    account = IdField(required=False, help_text="An account granted to you (operations: any); default your own")


def account_queried(request):
    """The account a read names in ``?account=`` (one the request may read), or the reader's own."""
    query = AccountQuery(data=query_data(request.query_params))
    query.is_valid(raise_exception=True)
    account = account_readable(scope=read_scope(request), account_id=query.validated_data.get("account"))
    if account is None:
        raise NotFound(
            "No such account of yours." if "account" in query.validated_data else "You have no trading account."
        )
    return account


def _strategy(request, account, strategy_id: int | None):
    if strategy_id is None:
        return None
    try:
        return Strategy.objects.get(pk=strategy_id, account=account)
    except Strategy.DoesNotExist as error:
        raise NotFound("No such strategy on your account.") from error


class StrategyQuery(serializers.Serializer):
    strategy = IdField(required=False, help_text="A strategy's own parameters instead of the account's")


def _strategy_queried(request, account):
    query = StrategyQuery(data=query_data(request.query_params))
    query.is_valid(raise_exception=True)
    return _strategy(request, account, query.validated_data.get("strategy"))


class RiskParametersApi(APIView):
    """A change of limits needs the person's one-time password in ``otp`` (403 otp_required, otp_invalid,
    otp_not_enrolled)."""

    error_statuses = {404}  # no trading account, or no such strategy or kill switch on it
    access = {"GET": READ, "PUT": TRADE}

    @extend_schema(parameters=[AccountQuery, StrategyQuery], responses=RiskParametersSerializer)
    def get(self, request):
        """The account's limits (or a strategy's own): your own account's, or one you may read (`?account=`)."""
        account = account_queried(request)
        strategy = _strategy_queried(request, account)
        return Response(RiskParametersSerializer(selectors.parameters_get(account=account, strategy=strategy)).data)

    @extend_schema(
        parameters=[StrategyQuery],
        request=RiskParametersSerializer,
        responses=RiskParametersSerializer,
    )
    def put(self, request):
        account = _account(request)
        strategy = _strategy_queried(request, account)
        current = selectors.parameters_get(account=account, strategy=strategy)
        serializer = RiskParametersSerializer(current, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        otp_verify(request.user, data.pop("otp", None))
        parameters = services.parameters_update(
            account=account, strategy=strategy, data=data, actor=request.user.get_username()
        )
        return Response(RiskParametersSerializer(parameters).data)


class RiskAssessmentApi(APIView):
    error_statuses = {404}  # no trading account, or no such strategy or kill switch on it
    access = {"GET": READ}

    @extend_schema(parameters=[AccountQuery], responses=dict)
    def get(self, request):
        account = account_queried(request)
        return Response(selectors.portfolio_risk_assess(account=account).as_dict())


class KillSwitchApi(APIView):
    """A trader engages and releases their own account's switches; operations any, the global one too. Engaging
    needs no code (stopping is always allowed); a release needs the one-time password in ``otp``."""

    error_statuses = {404}  # no trading account, or no such strategy or kill switch on it
    access = {"GET": READ, "POST": KILL_SWITCH}

    @extend_schema(parameters=[AccountQuery], responses=KillSwitchOutput(many=True))
    def get(self, request):
        """The emergency stops engaged over your account (or one you may read, `?account=`) and the global one."""
        account = account_queried(request)
        return Response(KillSwitchOutput(selectors.kill_switch_active(account=account), many=True).data)

    @extend_schema(request=KillSwitchInput, responses={201: KillSwitchOutput, 200: KillSwitchOutput})
    def post(self, request):
        data = KillSwitchInput(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        actor = request.user.get_username()
        operations = may_operate_kill_switches(request.user)
        if args["action"] == "release":
            if "kill_switch_id" not in args:
                raise ValidationError({"kill_switch_id": ["Which engagement to release."]})
            switch = get_object_or_404(KillSwitch, pk=args["kill_switch_id"])
            if switch.scope == KillSwitch.Scope.GLOBAL and not operations:
                raise PermissionDenied("Only operations may release the global emergency stop.")
            if not operations and _account(request).pk not in (
                switch.account_id,
                switch.strategy.account_id if switch.strategy else None,
            ):
                raise NotFound("No such kill switch on your account.")
            otp_verify(request.user, args.get("otp"))
            switch = services.kill_switch_release(kill_switch_id=switch.pk, actor=actor, reason=args["reason"])
            return Response(KillSwitchOutput(switch).data)
        scope = args["scope"]
        if scope == KillSwitch.Scope.GLOBAL:
            if not operations:
                raise PermissionDenied("Only operations may engage the global emergency stop.")
            switch = services.kill_switch_engage(
                scope=scope, actor=actor, reason=args["reason"], flatten=args["flatten"]
            )
            return Response(KillSwitchOutput(switch).data, status=201)
        if operations and scope == KillSwitch.Scope.STRATEGY and "strategy_id" in args:
            # Operations stop any account's strategy; a trader only their own.
            strategy = Strategy.objects.filter(pk=args["strategy_id"]).select_related("account").first()
            if strategy is None:
                raise NotFound("No such strategy.")
            account = strategy.account
        else:
            account = _account_named(request, args.get("account_id"), operations=operations)
            strategy = _strategy(request, account, args.get("strategy_id"))
        if scope == KillSwitch.Scope.STRATEGY and strategy is None:
            raise ValidationError({"strategy_id": ["A strategy kill switch names its strategy."]})
        switch = services.kill_switch_engage(
            scope=scope, account=account, strategy=strategy, actor=actor, reason=args["reason"], flatten=args["flatten"]
        )
        return Response(KillSwitchOutput(switch).data, status=201)


class TradingStateReleaseApi(APIView):
    """Lifting a halt needs the person's one-time password in ``otp``, as a kill switch release does."""

    error_statuses = {404}  # no trading account, or no such strategy or kill switch on it
    access = {"POST": KILL_SWITCH}

    @extend_schema(request=TradingStateInput, responses=dict)
    def post(self, request):
        account = _account(request)
        data = TradingStateInput(data=request.data)
        data.is_valid(raise_exception=True)
        strategy = _strategy(request, account, data.validated_data.get("strategy_id"))
        otp_verify(request.user, data.validated_data.get("otp"))
        state = services.trading_state_release(
            account=account, strategy=strategy, actor=request.user.get_username(), reason=data.validated_data["reason"]
        )
        return Response({"trading_state": state})
