from django.apps import AppConfig


class StrategiesConfig(AppConfig):
    name = "strategies"

    def ready(self) -> None:
        # Django requires models to load before the modules that use them: a signal's status follows its
        # entry order's events from here on.
        from strategies.services import signal_follow_order
        from strategies.tasks import strategy_fill_observed
        from trading.events import EventType, event_hook

        event_hook([EventType.ORDER_FILLED, EventType.ORDER_REJECTED, EventType.ORDER_CANCELED], signal_follow_order)
        # The Strategy Analyzer runs after fills (coalesced per strategy, after commit).
        event_hook([EventType.ORDER_FILLED, EventType.ORDER_PARTIALLY_FILLED], strategy_fill_observed)
