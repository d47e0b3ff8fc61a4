"""The backtester over REST: create, validate, run, cancel, permissions, uploads, optimization ranking."""

import io
from decimal import Decimal

import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.roles import TRADER, role_add
from backtests.models import Backtest, Dataset, Optimization, Status
from strategies.core.backtest.data import sample_path
from trading.models import Event

pytestmark = pytest.mark.django_db
URL = "/api/v1/backtests/"
GOOG_SMA = {
    "strategy_type": "SMA_CROSSOVER",
    "parameters": {"fast_period": 10, "slow_period": 20, "allow_short": True},
    "source": "sample",
    "sample": "GOOG",
    "settings": {"sizing": "all_in"},
}


def test_a_backtest_of_the_goog_sample_runs_and_stores_the_oracles_figures(run, client_trader):
    answer = run(URL, GOOG_SMA)
    assert answer.status_code == 201, answer.json()
    backtest_id = answer.json()["id"]
    assert answer.json()["status"] == "queued"
    detail = client_trader.get(f"{URL}{backtest_id}/").json()
    assert detail["status"] == "completed", detail["error"]
    assert detail["progress"] == 1.0
    assert detail["bars_done"] == detail["bars_total"] == 2148
    # Equal to backtesting.py on the same conventions (strategies/core/tests/test_backtest_oracle.py).
    assert Decimal(detail["final_equity"]) == Decimal("81812.37")
    assert detail["metrics"]["trades"] == 93
    assert detail["summary"]["conventions"]["sizing"] == "all in, whole lots"
    trades = client_trader.get(f"{URL}{backtest_id}/trades/?limit=500").json()
    assert trades["count"] == 93
    assert set(trades["results"][0]) >= {"entry_time", "exit_price", "pnl", "side"}
    equity = client_trader.get(f"{URL}{backtest_id}/equity/").json()
    assert equity["curve"] and equity["daily"]
    assert Decimal(equity["curve"][-1]["equity"]) == Decimal("81812.37")
    assert all(Decimal(point["drawdown"]) >= 0 for point in equity["daily"])
    listed = client_trader.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [backtest_id]
    assert Event.objects.filter(type="backtest.finished", payload__backtest_id=backtest_id).exists()


def test_commission_and_a_period_are_applied(run, client_trader):
    body = {
        **GOOG_SMA,
        "start": "2010-01-01T00:00:00Z",
        "end": "2011-01-01T00:00:00Z",
        "settings": {"sizing": "all_in", "commission_model": "percent", "commission": "0.2", "initial_cash": "5000"},
    }
    backtest_id = run(URL, body).json()["id"]
    detail = client_trader.get(f"{URL}{backtest_id}/").json()
    assert detail["status"] == "completed", detail["error"]
    assert detail["summary"]["start"].startswith("2010-01-04")
    assert detail["summary"]["end"] < "2011-01-01"
    assert detail["summary"]["conventions"]["commission"] == "0.2 % of value"
    assert Decimal(detail["metrics"]["commissions"]) > 0
    assert detail["metrics"]["starting_equity"] in ("5000", "5000.00")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"strategy_type": "NOPE"}, "strategy_type"),
        ({"parameters": {"fast_period": 30, "slow_period": 20}}, "parameters"),
        ({"parameters": {"unknown": 1}}, "parameters"),
        ({"sample": "AAPL"}, "sample"),
        ({"source": "dataset"}, "dataset_id"),
        ({"source": "bars", "symbol": "ZZZZ"}, "symbol"),
        ({"start": "2012-01-01T00:00:00Z", "end": "2011-01-01T00:00:00Z"}, "end"),
        ({"start": "2012-01-01T00:00:00"}, "start"),
        ({"settings": {"commission_model": "free"}}, "settings"),
        ({"settings": {"initial_cash": "-5"}}, "settings"),
        ({"strategy_type": "EXTERNAL_AI", "parameters": {}}, "strategy_id"),
        ({"strategy_id": 999999}, "strategy_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(client_trader, change, field):
    answer = client_trader.post(URL, {**GOOG_SMA, **change}, format="json")
    assert answer.status_code == 400, answer.json()
    assert answer.json()["code"] == "invalid"
    assert field in answer.json()["errors"]
    assert not Backtest.objects.exists()


def test_a_fixed_quantity_without_its_quantity_is_refused(client_trader):
    answer = client_trader.post(URL, {**GOOG_SMA, "settings": {"sizing": "fixed_quantity"}}, format="json")
    assert answer.status_code == 400
    assert "non_field_errors" in answer.json()["errors"]


def test_cancel_a_queued_run_ends_it_and_canceling_again_changes_nothing(client_trader):
    # Not run: the POST's commit never happens inside the test's transaction, so the run stays queued.
    backtest_id = client_trader.post(URL, GOOG_SMA, format="json").json()["id"]
    answer = client_trader.post(f"{URL}{backtest_id}/cancel/")
    assert answer.status_code == 200
    assert answer.json()["status"] == "canceled"
    again = client_trader.post(f"{URL}{backtest_id}/cancel/")
    assert again.json()["status"] == "canceled"
    assert Event.objects.filter(type="backtest.finished", payload__status="canceled").count() == 1


def test_a_running_backtest_stops_at_its_next_check_when_canceled(demo, monkeypatch):
    from backtests import services

    backtest = services.backtest_create(owner=demo.trader, data={**GOOG_SMA})
    checks = []

    def observer(done, total):
        checks.append(done)
        Backtest.objects.filter(pk=backtest.pk).update(cancel_requested=True)  # as POST cancel/ does meanwhile

    finished = services.backtest_run(backtest_id=backtest.pk, observer=observer)
    assert finished.status == Status.CANCELED
    assert checks and finished.bars_done == checks[0] < 2148
    assert finished.trades is not None  # what it had when it stopped is kept


def test_people_only_see_their_own(run, demo, client_trader):
    backtest_id = run(URL, GOOG_SMA).json()["id"]
    other = get_user_model().objects.create_user("other", password="x-long-password")
    role_add(other, TRADER)
    client = APIClient()
    client.force_authenticate(user=other)
    for path in ("", "trades/", "equity/"):
        assert client.get(f"{URL}{backtest_id}/{path}").status_code == 404
    assert client.post(f"{URL}{backtest_id}/cancel/").status_code == 404
    assert client.get(URL).json()["count"] == 0


def test_api_keys_are_refused(demo):
    client = APIClient()
    for path in ("", "datasets/", "optimizations/", "sources/"):
        answer = client.get(URL + path, **demo.headers())
        assert answer.status_code == 403
        assert answer.json()["code"] == "permission_denied"
    assert client.post(URL, GOOG_SMA, format="json", **demo.headers()).status_code == 403
    assert not Backtest.objects.exists()


def _csv(text: str) -> io.BytesIO:
    upload = io.BytesIO(text.encode())
    upload.name = "bars.csv"
    return upload


def test_an_upload_with_problems_lists_each_and_stores_nothing(client_trader):
    text = (
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02,10,11,9,10.5,100\n"
        "2024-01-02,10,11,9,10.5,100\n"
        "2024-01-04,10,9,11,10,100\n"
        "2024-01-03,-1,11,9,10,100\n"
    )
    answer = client_trader.post(f"{URL}datasets/", {"file": _csv(text), "symbol": "TEST"}, format="multipart")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid_ohlcv_data"
    problems = body["errors"]["file"]
    for words in ("repeats the row before", "high 9 is below", "not a positive price", "comes before"):
        assert any(words in problem for problem in problems), (words, problems)
    assert not Dataset.objects.exists()


def test_a_missing_column_and_an_unreadable_file_are_refused(client_trader):
    answer = client_trader.post(
        f"{URL}datasets/", {"file": _csv("timestamp,open,close\n2024-01-02,1,2\n"), "symbol": "T"}, format="multipart"
    )
    assert answer.json()["code"] == "invalid_ohlcv_data"
    assert any("high" in p for p in answer.json()["errors"]["file"])
    garbage = io.BytesIO(b"PAR1\x00\x01garbage")
    garbage.name = "x.parquet"
    answer = client_trader.post(f"{URL}datasets/", {"file": garbage, "symbol": "T"}, format="multipart")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_ohlcv_data"
    assert not Dataset.objects.exists()


def test_an_uploaded_parquet_dataset_is_backtested(client_trader, run, tmp_path):
    frame = pd.read_csv(sample_path("GOOG"), index_col=0, parse_dates=True)
    path = tmp_path / "goog.parquet"
    frame.to_parquet(path)
    with path.open("rb") as upload:
        answer = client_trader.post(f"{URL}datasets/", {"file": upload, "symbol": "goog"}, format="multipart")
    assert answer.status_code == 201, answer.json()
    dataset = answer.json()
    assert (dataset["symbol"], dataset["rows"], dataset["file_format"]) == ("GOOG", 2148, "parquet")
    body = {**GOOG_SMA, "source": "dataset", "dataset_id": dataset["id"]}
    body.pop("sample")
    backtest_id = run(URL, body).json()["id"]
    detail = client_trader.get(f"{URL}{backtest_id}/").json()
    assert detail["status"] == "completed", detail["error"]
    assert Decimal(detail["final_equity"]) == Decimal("81812.37")
    sources = client_trader.get(f"{URL}sources/").json()
    assert sources["samples"] == ["GOOG", "EURUSD"]
    assert [d["id"] for d in sources["datasets"]] == [dataset["id"]]


def test_an_optimization_ranks_candidates_with_walk_forward_and_a_heat_map(run, client_trader):
    body = {
        "strategy_type": "SMA_CROSSOVER",
        "source": "sample",
        "sample": "GOOG",
        "space": {"fast_period": [5, 10, 30], "slow_period": [20, 40]},
        "metric": "total_return",
        "walk_forward": {"train": 500, "test": 250},
        "settings": {"sizing": "all_in"},
    }
    answer = run(f"{URL}optimizations/", body)
    assert answer.status_code == 201, answer.json()
    optimization = client_trader.get(f"{URL}optimizations/{answer.json()['id']}/").json()
    assert optimization["status"] == "completed", optimization["error"]
    # fast 30 >= slow 20 is refused by the strategy type, listed, never run.
    assert [c["parameters"] for c in optimization["invalid"]] == [{"fast_period": 30, "slow_period": 20}]
    ranking = optimization["ranking"]
    assert len(ranking) == optimization["candidates_total"] == 5
    values = [Decimal(row["value"]) for row in ranking]
    assert values == sorted(values, reverse=True)
    assert [row["rank"] for row in ranking] == [1, 2, 3, 4, 5]
    assert all(row["out_of_sample"]["windows"] == 6 for row in ranking)
    walk = optimization["walk_forward_result"]
    assert len(walk["windows"]) == 6
    assert walk["windows"][0]["train"] == [0, 500] and walk["windows"][0]["test"] == [500, 750]
    heat = optimization["heatmap"]
    assert (heat["x"], heat["y"], heat["xs"], heat["ys"]) == (
        "fast_period",
        "slow_period",
        ["5", "10", "30"],
        ["20", "40"],
    )
    assert heat["cells"][0][2] is None  # the refused combination has no value
    best = ranking[0]["parameters"]
    row = heat["ys"].index(str(best["slow_period"]))
    column = heat["xs"].index(str(best["fast_period"]))
    assert Decimal(heat["cells"][row][column]) == values[0]


def test_an_optimization_with_no_valid_combination_is_refused(client_trader):
    body = {"strategy_type": "SMA_CROSSOVER", "source": "sample", "space": {"fast_period": [50], "slow_period": [20]}}
    answer = client_trader.post(f"{URL}optimizations/", body, format="json")
    assert answer.status_code == 400 and "space" in answer.json()["errors"]
    assert not Optimization.objects.exists()


@pytest.mark.parametrize(
    "strategy_type, sample",
    [("RSI_MEAN_REVERSION", "GOOG"), ("BOLLINGER_BREAKOUT", "GOOG"), ("MOMENTUM", "GOOG"), ("SMA_CROSSOVER", "EURUSD")],
)
def test_every_built_in_generator_runs_on_the_samples(run, client_trader, strategy_type, sample):
    body = {"strategy_type": strategy_type, "source": "sample", "sample": sample, "settings": {"sizing": "all_in"}}
    backtest_id = run(URL, body).json()["id"]
    detail = client_trader.get(f"{URL}{backtest_id}/").json()
    assert detail["status"] == "completed", detail["error"]
    assert detail["symbol"] == sample
    assert detail["metrics"]["trades"] > 0
    hourly = sample == "EURUSD"
    assert detail["summary"]["interval_seconds"] == (3600 if hourly else 86400)


def test_a_second_cancel_ends_a_run_whose_process_is_gone(demo, client_trader):
    from backtests import services

    backtest = services.backtest_create(owner=demo.trader, data={**GOOG_SMA}, dispatch=False)
    Backtest.objects.filter(pk=backtest.pk).update(status=Status.RUNNING)  # its process died while running
    first = client_trader.post(f"{URL}{backtest.pk}/cancel/").json()
    assert (first["status"], first["cancel_requested"]) == ("running", True)
    second = client_trader.post(f"{URL}{backtest.pk}/cancel/").json()
    assert second["status"] == "canceled"


def test_a_task_delivered_again_after_its_worker_died_runs_the_backtest_again(demo):
    from backtests import services

    backtest = services.backtest_create(owner=demo.trader, data={**GOOG_SMA}, dispatch=False)
    Backtest.objects.filter(pk=backtest.pk).update(status=Status.RUNNING, bars_done=1000)
    finished = services.backtest_run(backtest_id=backtest.pk)
    assert finished.status == Status.COMPLETED and finished.bars_done == 2148
    assert services.backtest_run(backtest_id=backtest.pk) is None  # finished: a third delivery does nothing


SMALL_SEARCH = {
    "strategy_type": "SMA_CROSSOVER",
    "source": "sample",
    "sample": "GOOG",
    "space": {"fast_period": [5, 10], "slow_period": [20]},
    "walk_forward": {"train": 500, "test": 250},
    "settings": {"sizing": "all_in"},
}


def test_cancel_a_queued_optimization_ends_it_and_nothing_of_it_runs(client_trader):
    from backtests import services

    # Not started: the POST's commit never happens inside the test's transaction, so it stays queued.
    optimization_id = client_trader.post(f"{URL}optimizations/", SMALL_SEARCH, format="json").json()["id"]
    answer = client_trader.post(f"{URL}optimizations/{optimization_id}/cancel/")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["ranking"]) == ("canceled", [])
    again = client_trader.post(f"{URL}optimizations/{optimization_id}/cancel/")
    assert again.json()["status"] == "canceled"
    assert Event.objects.filter(type="backtest.optimization_finished", payload__status="canceled").count() == 1
    # Its start task, delivered late, starts nothing; a candidate's task does nothing.
    assert services.optimization_start(optimization_id=optimization_id) == []
    services.candidate_evaluate(optimization_id=optimization_id, index=0)
    optimization = Optimization.objects.get(pk=optimization_id)
    assert (optimization.status, optimization.candidates_done) == (Status.CANCELED, 0)
    assert not optimization.candidates.filter(done=True).exists()


def test_a_running_optimization_canceled_skips_the_candidates_not_started_and_ranks_nothing(demo, client_trader):
    from backtests import services

    optimization = services.optimization_create(owner=demo.trader, data={**SMALL_SEARCH, "walk_forward": {}})
    assert services.optimization_start(optimization_id=optimization.pk) == [0, 1]
    services.candidate_evaluate(optimization_id=optimization.pk, index=0)
    answer = client_trader.post(f"{URL}optimizations/{optimization.pk}/cancel/").json()
    assert (answer["status"], answer["candidates_done"], answer["ranking"]) == ("canceled", 1, [])
    services.candidate_evaluate(optimization_id=optimization.pk, index=1)
    optimization.refresh_from_db()
    assert (optimization.status, optimization.candidates_done, optimization.ranking) == (Status.CANCELED, 1, [])
    assert optimization.candidates.get(index=0).evaluation is not None
    assert not optimization.candidates.get(index=1).done


def test_a_candidate_stops_before_its_next_window_once_its_optimization_is_canceled(demo, monkeypatch):
    from backtests import services
    from backtests.services import optimizations

    optimization = services.optimization_create(owner=demo.trader, data=SMALL_SEARCH)
    services.optimization_start(optimization_id=optimization.pk)
    runs = []
    evaluate = optimizations.evaluate

    def cancel_during_the_whole_period_run(*args, **kwargs):
        runs.append(args)
        if len(runs) == 1:
            services.optimization_cancel(optimization=optimization)  # as POST cancel/ does meanwhile
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(optimizations, "evaluate", cancel_during_the_whole_period_run)
    services.candidate_evaluate(optimization_id=optimization.pk, index=0)
    assert len(runs) == 1  # the whole period only: no window was run after the cancel
    candidate = optimization.candidates.get(index=0)
    assert (candidate.done, candidate.evaluation) == (False, None)
    optimization.refresh_from_db()
    assert (optimization.status, optimization.candidates_done) == (Status.CANCELED, 0)


def test_a_finished_optimization_is_left_as_it_is_and_others_cannot_cancel_it(demo, client_trader):
    optimization_id = client_trader.post(f"{URL}optimizations/", SMALL_SEARCH, format="json").json()["id"]
    Optimization.objects.filter(pk=optimization_id).update(status=Status.COMPLETED)
    answer = client_trader.post(f"{URL}optimizations/{optimization_id}/cancel/")
    assert (answer.status_code, answer.json()["status"]) == (200, "completed")
    other = get_user_model().objects.create_user("other", password="x-long-password")
    role_add(other, TRADER)
    client = APIClient()
    client.force_authenticate(user=other)
    refused = client.post(f"{URL}optimizations/{optimization_id}/cancel/")
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert not Event.objects.filter(type="backtest.optimization_finished").exists()
