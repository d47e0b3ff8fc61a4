from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as accounts_views
from quantumleap import api as project_api
from quantumleap import health, views
from risk import api as risk_api
from strategies import api as strategies_api
from trading import api as trading_api

api_v1 = [
    path("signals/", strategies_api.SignalCreateApi.as_view(), name="signal-create"),
    path("signal-batches/", strategies_api.SignalBatchApi.as_view(), name="signal-batch"),
    # A producer's id may hold "/" (model-7/0001): sent plain or encoded as %2F, it reaches the view whole.
    path("signals/<path:external_id>/", strategies_api.SignalDetailApi.as_view(), name="signal-detail"),
    path("strategies/", strategies_api.StrategyListApi.as_view(), name="strategy-list"),
    path("strategies/<int:pk>/", strategies_api.StrategyDetailApi.as_view(), name="strategy-detail"),
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
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("strategies/<int:strategy_id>/", views.strategy_page, name="strategy-page"),
    path("operations/", views.operations, name="operations-dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/keys/", accounts_views.api_keys, name="api-keys"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]

# Under /api/ every error is JSON {code, message}; elsewhere Django's pages (quantumleap/errors.py).
handler400 = "quantumleap.errors.bad_request"
handler403 = "quantumleap.errors.permission_denied"
handler404 = "quantumleap.errors.page_not_found"
handler500 = "quantumleap.errors.server_error"
