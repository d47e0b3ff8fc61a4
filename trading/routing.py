"""WebSocket routes (quantumleap/asgi.py mounts them)."""

from django.urls import path

from trading.consumers import TradingConsumer

websocket_urlpatterns = [path("ws/trading/", TradingConsumer.as_asgi())]
