"""Server-rendered pages: the trading dashboard, a strategy's page and the operations dashboard (they show every app).

The pages carry no data of their own beyond the first paint: their scripts read the REST API and the live push.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from accounts.permissions import Scope, is_operations
from risk.selectors import trading_state_get
from strategies.selectors import strategy_for_user, strategy_list
from trading.selectors import account_for_user


@login_required
@ensure_csrf_cookie
def dashboard(request: HttpRequest) -> HttpResponse:
    account = account_for_user(request.user)
    strategies = strategy_list(scope=Scope.own(request.user)).filter(account=account) if account is not None else []
    trading_state = trading_state_get(account=account) if account is not None else None
    context = {"account": account, "strategies": strategies, "trading_state": trading_state}
    return render(request, "trading/dashboard.html", context)


@login_required
@ensure_csrf_cookie
def strategy_page(request: HttpRequest, strategy_id: int) -> HttpResponse:
    """One strategy's performance, trades, versions, attribution and signals: its owner's only.

    Anyone else gets the same 404 as for a strategy that does not exist, so ids reveal nothing.
    """
    strategy = strategy_for_user(user=request.user, strategy_id=strategy_id)
    if strategy is None:
        raise Http404("No such strategy.")
    return render(request, "strategies/detail.html", {"strategy": strategy})


@login_required
def operations(request: HttpRequest) -> HttpResponse:
    if not is_operations(request.user):
        raise PermissionDenied("Only operations may see the operations dashboard.")
    return render(request, "trading/operations.html")
