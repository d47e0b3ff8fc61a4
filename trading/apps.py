from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"

    def ready(self) -> None:
        # Django requires models to load before the modules that use them, so these are wired here, once the
        # app registry is ready: the loops' supervision (it records events) to the event pusher, the closing
        # of a session's sockets to logout, and the Celery tasks registered in every process (services queue
        # them by name: the tasks import the services, not the other way round).
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save, pre_save

        from accounts.models import ApiKey
        from trading import consumers, loops, recorders, tasks  # noqa: F401

        user_logged_out.connect(consumers.sessions_end_on_logout, dispatch_uid="trading.sessions_end_on_logout")
        # API keys live below the event log: their changes are recorded from here (trading.recorders).
        pre_save.connect(recorders.api_key_before_save, sender=ApiKey, dispatch_uid="trading.api_key_before_save")
        post_save.connect(recorders.api_key_saved, sender=ApiKey, dispatch_uid="trading.api_key_saved")
        post_delete.connect(recorders.api_key_deleted, sender=ApiKey, dispatch_uid="trading.api_key_deleted")
        # So are a person's one-time-password devices (an authenticator or backup codes) enrolled and removed.
        for device in recorders.OTP_DEVICE_MODELS:
            label = device._meta.label_lower
            pre_save.connect(recorders.otp_device_before_save, sender=device, dispatch_uid=f"trading.{label}.before")
            post_save.connect(recorders.otp_device_saved, sender=device, dispatch_uid=f"trading.{label}.saved")
            post_delete.connect(recorders.otp_device_deleted, sender=device, dispatch_uid=f"trading.{label}.deleted")
