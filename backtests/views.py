"""The backtester's pages: the form and the lists, one run's result, one optimization's ranking and heat map.

Like the dashboard, they carry no data beyond the first paint: their scripts read the REST API and the
live push (``/ws/backtests/``). Anyone but the owner gets the same 404 as for a run that does not exist.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from accounts.permissions import Scope
from backtests import selectors
from strategies.core.backtest.optimize import METRICS
from strategies.core.generators import STRATEGY_TYPES
from strategies.core.params import params_dump, params_validate
from strategies.selectors import strategy_list


def _defaults(strategy_type: str) -> dict:
    params, _ = params_validate(strategy_type, {})
    return params_dump(params) if params is not None else {}


@login_required
@ensure_csrf_cookie
def backtests_page(request: HttpRequest) -> HttpResponse:
    types = [
        {"name": name, "label": info.label, "generator": info.generator is not None, "defaults": _defaults(name)}
        for name, info in STRATEGY_TYPES.items()
    ]
    context = {
        "types": types,
        "strategies": strategy_list(scope=Scope.own(request.user)),
        "metrics": [*METRICS, "final_equity"],
    }
    return render(request, "backtests/list.html", context)


@login_required
@ensure_csrf_cookie
def backtest_page(request: HttpRequest, backtest_id: int) -> HttpResponse:
    backtest = selectors.backtest_get(user=request.user, backtest_id=backtest_id)
    if backtest is None:
        raise Http404("No such backtest.")
    return render(request, "backtests/detail.html", {"backtest": backtest})


@login_required
@ensure_csrf_cookie
def optimization_page(request: HttpRequest, optimization_id: int) -> HttpResponse:
    optimization = selectors.optimization_get(user=request.user, optimization_id=optimization_id)
    if optimization is None:
        raise Http404("No such optimization.")
    return render(request, "backtests/optimization.html", {"optimization": optimization})
