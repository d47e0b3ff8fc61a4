"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantumleap.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from backtests.routing import websocket_urlpatterns as backtest_routes  # noqa: E402
from trading.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([*websocket_urlpatterns, *backtest_routes]))
        ),
    }
)

if settings.MARKET_FEED == "simulated":
    # Only the serving process ticks the feed, never manage.py commands or tests.
    from trading.marketdata.runner import feed_start_in_background

    feed_start_in_background()

if settings.CELERY_TASK_ALWAYS_EAGER and settings.HOUSEKEEPING_IN_PROCESS:
    # Embedded default: no Celery beat, so the web process runs its schedule (reconciliation at start and
    # every RECONCILE_INTERVAL, DAY expiry, the portfolio risk monitor), with or without a feed.
    from quantumleap.housekeeping import housekeeping_start_in_background

    housekeeping_start_in_background()
