import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from backtests import services
from backtests.models import Backtest, Dataset, Optimization
from tests.otp import otp_client

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_pages_need_a_login_and_show_only_your_runs(demo):
    assert Client().get("/backtests/").status_code == 302
    backtest = services.backtest_create(
        owner=demo.trader, data={"strategy_type": "SMA_CROSSOVER", "source": "sample"}, dispatch=False
    )
    mine = _client(demo.trader)
    page = mine.get("/backtests/").content.decode()
    assert 'id="backtest-form"' in page and "SMA crossover" in page
    assert mine.get(f"/backtests/{backtest.pk}/").status_code == 200
    other = _client(get_user_model().objects.create_user("other", password="x-long-password"))
    assert other.get(f"/backtests/{backtest.pk}/").status_code == 404
    assert other.get("/backtests/optimizations/1/").status_code == 404


@pytest.mark.parametrize("model", [Backtest, Dataset, Optimization])
def test_admin_lists_the_backtesters_models(demo, model):
    client = otp_client(get_user_model().objects.get(username="ops"))  # the admin needs a verified session
    url = f"/admin/backtests/{model._meta.model_name}/"
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "GOOG"}).status_code == 200
