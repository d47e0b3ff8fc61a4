import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _runs_in_this_thread(settings, tasks_in_process):
    """Runs happen in the test's own thread, as eager Celery tasks, when the request's transaction commits."""
    settings.BACKTESTS_IN_THREAD = False


@pytest.fixture
def client_trader(demo) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=demo.trader)
    return client


@pytest.fixture
def run(client_trader, django_capture_on_commit_callbacks):
    """POST a backtest and let its task run (after commit); returns the answer of the POST."""

    def post(path: str, body: dict, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client_trader.post(path, body, format=kwargs.get("format", "json"))

    return post
