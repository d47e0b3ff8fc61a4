"""Server-rendered pages: the live trading dashboard."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from strategies.selectors import strategy_list
from trading.selectors import account_for_user


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    account = account_for_user(request.user)
    strategies = strategy_list(user=request.user).filter(account=account) if account is not None else []
    return render(request, "trading/dashboard.html", {"account": account, "strategies": strategies})
