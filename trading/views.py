"""Server-rendered pages: the live trading dashboard."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from accounts.permissions import is_operations
from strategies.selectors import strategy_list
from trading.selectors import account_for_user


@login_required
@ensure_csrf_cookie
def dashboard(request: HttpRequest) -> HttpResponse:
    account = account_for_user(request.user)
    strategies = strategy_list(user=request.user).filter(account=account) if account is not None else []
    return render(request, "trading/dashboard.html", {"account": account, "strategies": strategies})


@login_required
def operations(request: HttpRequest) -> HttpResponse:
    if not is_operations(request.user):
        raise PermissionDenied("Only operations may see the operations dashboard.")
    return render(request, "trading/operations.html")
