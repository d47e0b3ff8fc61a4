"""WebSocket routes of the backtester (quantumleap/asgi.py mounts them)."""

from django.urls import path

from backtests.consumers import BacktestConsumer

websocket_urlpatterns = [path("ws/backtests/", BacktestConsumer.as_asgi())]
