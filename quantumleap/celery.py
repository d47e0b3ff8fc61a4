import os

from celery import Celery
from celery.signals import task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantumleap.settings")

app = Celery("quantumleap")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _database_connection_fresh(task=None, **kwargs) -> None:
    # Each worker task starts on a usable connection (a pooled one goes back to the pool, a broken one is
    # dropped). In-process (eager) tasks run inside their caller's connection and leave it alone.
    if task is None or task.request.is_eager:
        return
    close_old_connections()
