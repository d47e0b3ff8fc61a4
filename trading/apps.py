from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"

    def ready(self) -> None:
        # Django requires models to load before the modules that use them, so these are wired here, once the
        # app registry is ready: the loops' supervision (it records events) to the event pusher, and the
        # closing of a session's sockets to logout.
        from django.contrib.auth.signals import user_logged_out

        from trading import consumers, loops  # noqa: F401

        user_logged_out.connect(consumers.sessions_end_on_logout, dispatch_uid="trading.sessions_end_on_logout")
