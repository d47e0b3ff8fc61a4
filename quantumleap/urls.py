from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import signin
from accounts import views as accounts_views
from backtests import api as backtests_api
from backtests import views as backtests_views
from quantumleap import api as project_api
from quantumleap import health, views
from risk import api as risk_api
from strategies import api as strategies_api
from strategies import api_analytics
from trading import api as trading_api

api_v1 = [
    path("signals/", strategies_api.SignalCreateApi.as_view(), name="signal-create"),
    path("signal-batches/", strategies_api.SignalBatchApi.as_view(), name="signal-batch"),
    # A producer's id may hold "/" (model-7/0001): sent plain or encoded as %2F, it reaches the view whole.
    path("signals/<path:external_id>/", strategies_api.SignalDetailApi.as_view(), name="signal-detail"),
    path("strategies/", strategies_api.StrategyListApi.as_view(), name="strategy-list"),
    path("strategies/types/", strategies_api.StrategyTypesApi.as_view(), name="strategy-types"),
    path("strategies/<int:pk>/", strategies_api.StrategyDetailApi.as_view(), name="strategy-detail"),
    path("strategies/<int:pk>/deploy/", strategies_api.StrategyDeployApi.as_view(), name="strategy-deploy"),
    path("strategies/<int:pk>/pause/", strategies_api.StrategyPauseApi.as_view(), name="strategy-pause"),
    path("strategies/<int:pk>/resume/", strategies_api.StrategyResumeApi.as_view(), name="strategy-resume"),
    path("strategies/<int:pk>/stop/", strategies_api.StrategyStopApi.as_view(), name="strategy-stop"),
    path("strategies/<int:pk>/versions/", strategies_api.StrategyVersionsApi.as_view(), name="strategy-versions"),
    path("strategies/<int:pk>/signals/", strategies_api.StrategySignalsApi.as_view(), name="strategy-signals"),
    # The Strategy Analyzer's figures (strategies/api_analytics.py).
    path(
        "strategies/<int:pk>/performance/", api_analytics.StrategyPerformanceApi.as_view(), name="strategy-performance"
    ),
    path("strategies/<int:pk>/trades/", api_analytics.StrategyTradeListApi.as_view(), name="strategy-trades"),
    path(
        "strategies/<int:pk>/trades.csv",
        api_analytics.StrategyTradeCsvApi.as_view(),
        {"format": "csv"},
        name="strategy-trades-csv",
    ),
    path(
        "strategies/<int:pk>/attribution/", api_analytics.StrategyAttributionApi.as_view(), name="strategy-attribution"
    ),
    path("orders/", trading_api.OrderListApi.as_view(), name="order-list"),
    path("orders/<int:pk>/", trading_api.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:pk>/cancel/", trading_api.OrderCancelApi.as_view(), name="order-cancel"),
    path("positions/", trading_api.PositionListApi.as_view(), name="position-list"),
    path("positions/history/", trading_api.PositionHistoryApi.as_view(), name="position-history"),
    path("positions/<int:pk>/close/", trading_api.PositionCloseApi.as_view(), name="position-close"),
    path("executions/", trading_api.ExecutionListApi.as_view(), name="execution-list"),
    path("events/", trading_api.EventListApi.as_view(), name="event-list"),
    path("portfolio/", trading_api.PortfolioApi.as_view(), name="portfolio"),
    path("operations/", project_api.OperationsApi.as_view(), name="operations"),
    path("risk/parameters/", risk_api.RiskParametersApi.as_view(), name="risk-parameters"),
    path("risk/assessment/", risk_api.RiskAssessmentApi.as_view(), name="risk-assessment"),
    path("risk/kill-switch/", risk_api.KillSwitchApi.as_view(), name="risk-kill-switch"),
    path("risk/trading-state/release/", risk_api.TradingStateReleaseApi.as_view(), name="risk-trading-state-release"),
    path("market/prices/<str:symbol>/", trading_api.MarketPriceApi.as_view(), name="market-price"),
    path("market/status/", trading_api.MarketStatusApi.as_view(), name="market-status"),
    path("backtests/", backtests_api.BacktestListApi.as_view(), name="backtest-list"),
    path("backtests/<int:pk>/", backtests_api.BacktestDetailApi.as_view(), name="backtest-detail"),
    path("backtests/<int:pk>/trades/", backtests_api.BacktestTradesApi.as_view(), name="backtest-trades"),
    path("backtests/<int:pk>/equity/", backtests_api.BacktestEquityApi.as_view(), name="backtest-equity"),
    path("backtests/<int:pk>/cancel/", backtests_api.BacktestCancelApi.as_view(), name="backtest-cancel"),
    path("backtests/datasets/", backtests_api.DatasetListApi.as_view(), name="backtest-datasets"),
    path("backtests/sources/", backtests_api.DataSourcesApi.as_view(), name="backtest-sources"),
    path("backtests/optimizations/", backtests_api.OptimizationListApi.as_view(), name="backtest-optimizations"),
    path(
        "backtests/optimizations/<int:pk>/",
        backtests_api.OptimizationDetailApi.as_view(),
        name="backtest-optimization-detail",
    ),
    path(
        "backtests/optimizations/<int:pk>/cancel/",
        backtests_api.OptimizationCancelApi.as_view(),
        name="backtest-optimization-cancel",
    ),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("strategies/<int:strategy_id>/", views.strategy_page, name="strategy-page"),
    path("operations/", views.operations, name="operations-dashboard"),
    path("backtests/", backtests_views.backtests_page, name="backtests-page"),
    path("backtests/<int:backtest_id>/", backtests_views.backtest_page, name="backtest-page"),
    path(
        "backtests/optimizations/<int:optimization_id>/",
        backtests_views.optimization_page,
        name="optimization-page",
    ),
    # Password, then (for a user with a device) the one-time password; enrolment of a device.
    path("accounts/login/", signin.PasswordStepView.as_view(), name="login"),
    path("accounts/login/code/", signin.login_code, name="login-code"),
    path("account/security/", signin.security, name="account-security"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/keys/", accounts_views.api_keys, name="api-keys"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script for the Content-Security-Policy.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="swagger-ui",
    ),
    # Pages without an icon of their own (the admin, the API docs) make browsers ask for this one.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]

# Under /api/ every error is JSON {code, message}; elsewhere Django's pages (quantumleap/errors.py).
handler400 = "quantumleap.errors.bad_request"
handler403 = "quantumleap.errors.permission_denied"
handler404 = "quantumleap.errors.page_not_found"
handler500 = "quantumleap.errors.server_error"
