from django.apps import AppConfig


class BacktestsConfig(AppConfig):
    name = "backtests"

    def ready(self) -> None:
        # Django requires models to load first: the tasks register here, so services can queue them by name.
        from backtests import tasks  # noqa: F401
