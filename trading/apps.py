from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"

    def ready(self) -> None:
        # Django requires models to load before the modules that use them, so these are wired here, once the
        # app registry is ready: the loops' supervision (it records events) to the event pusher, the closing
        # of a session's sockets to logout, and the Celery tasks registered in every process (services queue
        # them by name: the tasks import the services, not the other way round).
        from django.contrib.auth.signals import user_logged_out

        from trading import consumers, loops, tasks  # noqa: F401

        user_logged_out.connect(consumers.sessions_end_on_logout, dispatch_uid="trading.sessions_end_on_logout")
