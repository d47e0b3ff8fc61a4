"""GET strategies/{id}/performance/, trades/ (JSON pages and CSV) and attribution/: shapes and who may read."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.roles import TRADER, role_add
from accounts.services import api_key_create
from strategies.models import Strategy, TradingSignal
from strategies.performance import performance_update
from strategies.tests.test_performance import analyzed  # noqa: F401  (the fixture: fills analyzed)
from tests.browser.contract import attribution_answer, performance_answer, trades_answer


def _session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _key(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_performance_answers_in_the_contracts_shape(demo, analyzed):  # noqa: F811
    strategy, stored, _ = analyzed
    answer = _session(demo.trader).get(f"/api/v1/strategies/{strategy.pk}/performance/")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == set(performance_answer())
    assert set(performance_answer()["metrics"]) <= set(body["metrics"])
    assert body["metrics"] == stored.metrics
    assert body["equity"][0] == stored.equity[0]
    assert set(body["equity"][0]) == set(performance_answer()["equity"][0])
    assert body["version"] == 2


def test_performance_before_any_analysis_is_empty(demo):
    body = _session(demo.trader).get(f"/api/v1/strategies/{demo.strategy.pk}/performance/").json()
    assert body == {"metrics": {}, "equity": [], "updated_at": None, "version": 1}


def test_trades_are_paged_in_the_contracts_shape(demo, analyzed):  # noqa: F811
    strategy, _, _ = analyzed
    client = _session(demo.trader)
    body = client.get(f"/api/v1/strategies/{strategy.pk}/trades/?limit=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    first = body["results"][0]
    assert set(first) == set(trades_answer()["results"][0])
    assert (first["symbol"], first["side"], first["model"], first["version"]) == ("AAPL", "BUY", "model-7", 1)
    assert Decimal(first["pnl"]) == Decimal("698")  # (208 - 201) * 100 - 2 commissions
    assert first["duration"] == 2 * 86400 + 3600
    rest = client.get(f"/api/v1/strategies/{strategy.pk}/trades/?limit=2&offset=2").json()
    assert [t["side"] for t in rest["results"]] == ["SELL"]
    assert client.get(f"/api/v1/strategies/{strategy.pk}/trades/?limit=0").json()["code"] == "invalid"


@pytest.mark.parametrize("path", ["trades/?format=csv", "trades.csv"])
def test_trades_download_as_csv(demo, analyzed, path):  # noqa: F811
    strategy, _, _ = analyzed
    answer = _session(demo.trader).get(f"/api/v1/strategies/{strategy.pk}/{path}")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [(r["symbol"], r["side"]) for r in rows] == [("AAPL", "BUY"), ("MSFT", "BUY"), ("AAPL", "SELL")]
    assert Decimal(rows[0]["pnl"]) == Decimal("698")
    assert list(rows[0]) == list(trades_answer()["results"][0])


def test_attribution_per_model_with_signal_counts_and_calibration(demo, analyzed):  # noqa: F811
    strategy, _, producer = analyzed
    body = _session(demo.trader).get(f"/api/v1/strategies/{strategy.pk}/attribution/").json()
    assert set(body) == set(attribution_answer())
    models = {m["model"]: m for m in body["models"]}
    assert set(models) == {"model-7", "model-9", producer.username}
    assert (models["model-7"]["trades"], models["model-7"]["signals"], models["model-7"]["hit_rate"]) == (1, 2, "1")
    assert models["model-9"]["signals"] == 3 and models["model-9"]["trades"] == 1
    assert Decimal(models[producer.username]["pnl"]) == Decimal("-503")  # (391 - 401) * 50 - 3
    assert set(body["models"][0]) == set(attribution_answer()["models"][0])
    assert [b["bucket"] for b in body["calibration"]] == [b["bucket"] for b in attribution_answer()["calibration"]]
    assert sum(b["trades"] for b in body["calibration"]) == 3
    assert body["unconfident_trades"] == 0


@pytest.mark.parametrize("view", ["performance/", "trades/", "attribution/"])
def test_a_person_reads_only_their_own_strategies(demo, view):
    other = get_user_model().objects.create_user("someone-else")
    role_add(other, TRADER)
    answer = _session(other).get(f"/api/v1/strategies/{demo.strategy.pk}/{view}")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert Client().get(f"/api/v1/strategies/{demo.strategy.pk}/{view}").status_code in (401, 403)


@pytest.mark.parametrize("view", ["performance/", "trades/", "attribution/"])
def test_a_key_reads_only_the_strategy_it_is_scoped_to_and_only_reads(demo, view):
    other = Strategy.objects.create(
        owner=demo.trader, account=demo.account, name="other", strategy_type="EXTERNAL_AI", capital=Decimal(1000)
    )
    client = Client()
    assert client.get(f"/api/v1/strategies/{demo.strategy.pk}/{view}", **_key(demo.key)).status_code == 200
    # Another strategy of the same user, or any through an unscoped key: nothing to read (ids reveal nothing).
    refused = client.get(f"/api/v1/strategies/{other.pk}/{view}", **_key(demo.key))
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    unscoped = api_key_create(user=demo.trader, strategy=None)
    assert client.get(f"/api/v1/strategies/{demo.strategy.pk}/{view}", **_key(unscoped)).status_code == 404
    written = client.post(f"/api/v1/strategies/{demo.strategy.pk}/{view}", **_key(demo.key))
    assert written.status_code == 405


def test_a_csv_download_of_someone_elses_trades_is_a_404(demo):
    other = get_user_model().objects.create_user("csv-stranger")
    role_add(other, TRADER)
    for path in ("trades/?format=csv", "trades.csv"):
        answer = _session(other).get(f"/api/v1/strategies/{demo.strategy.pk}/{path}")
        assert answer.status_code == 404
        assert "not_found" in answer.content.decode()


def test_a_signal_without_a_model_is_attributed_to_the_key_it_came_through(demo, analyzed):  # noqa: F811
    strategy, _, producer = analyzed
    # The producer's signals name no model: attributed to the API key's name, not to the user.
    TradingSignal.objects.filter(producer=producer).update(producer_name="alpha-key")
    performance_update(strategy)
    body = _session(demo.trader).get(f"/api/v1/strategies/{strategy.pk}/attribution/").json()
    models = {m["model"]: m for m in body["models"]}
    assert "alpha-key" in models and producer.username not in models
    assert models["alpha-key"]["signals"] == 2 and models["alpha-key"]["trades"] == 1


def test_a_posted_signal_records_the_name_of_the_key_it_came_through(demo):
    named = api_key_create(user=demo.trader, strategy=demo.strategy, name="alpha-key")
    unnamed = api_key_create(user=demo.trader, strategy=demo.strategy)
    body = {"symbol": "AAPL", "signal_type": "HOLD", "confidence_score": "0.5", "position_size": "0.1"}
    body["expires_at"] = "2099-01-01T00:00:00Z"
    for key, external_id in ((named, "through-named"), (unnamed, "through-unnamed")):
        answer = Client().post(
            "/api/v1/signals/", {**body, "id": external_id}, content_type="application/json", **_key(key)
        )
        assert answer.status_code == 201, answer.json()
    assert TradingSignal.objects.get(external_id="through-named").producer_name == "alpha-key"
    assert TradingSignal.objects.get(external_id="through-unnamed").producer_name == f"ql_{unnamed.split('_')[1]}_"
    # A person's session names no key.
    answer = _session(demo.trader).post(
        "/api/v1/signals/", {**body, "id": "by-hand", "strategy_id": demo.strategy.pk}, content_type="application/json"
    )
    assert answer.status_code == 201 and TradingSignal.objects.get(external_id="by-hand").producer_name == ""
