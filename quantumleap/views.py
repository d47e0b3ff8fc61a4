"""Server-rendered pages: the live trading dashboard and the operations dashboard (they show every app)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from accounts.permissions import is_operations
from risk.selectors import trading_state_get
from strategies.selectors import strategy_list
from trading.selectors import account_for_user


@login_required
@ensure_csrf_cookie
def dashboard(request: HttpRequest) -> HttpResponse:
    account = account_for_user(request.user)
    strategies = strategy_list(user=request.user).filter(account=account) if account is not None else []
    trading_state = trading_state_get(account=account) if account is not None else None
    context = {"account": account, "strategies": strategies, "trading_state": trading_state}
    return render(request, "trading/dashboard.html", context)


@login_required
def operations(request: HttpRequest) -> HttpResponse:
    if not is_operations(request.user):
        raise PermissionDenied("Only operations may see the operations dashboard.")
    return render(request, "trading/operations.html")
