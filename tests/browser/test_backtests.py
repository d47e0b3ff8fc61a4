"""The backtester's pages in headless Chromium on the real backend: run a backtest from the form, watch its
progress reach 100 % (pushed over /ws/backtests/ from the run's own thread or worker), then read its charts,
metrics and trades; a bad parameter is shown beside its field."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import WAIT_MS, Browsing, screenshot

pytestmark = pytest.mark.browser


def test_a_backtest_run_from_the_page_reaches_100_percent_with_charts_and_metrics(
    demo_ui, charts_installed, browsing: Browsing
):
    browsing.allow(r"status of 400 .*/api/v1/backtests/\)")  # the refused parameter, on purpose
    page = browsing.log_in(path="/backtests/")
    expect(page.locator("#backtests-table tbody")).to_contain_text("No backtest yet", timeout=WAIT_MS)

    # A refused parameter stays on the form, beside the parameters.
    page.select_option("#bt-type", "SMA_CROSSOVER")
    page.fill("#bt-parameters", '{"fast_period": 30, "slow_period": 20}')
    page.click("#bt-submit")
    expect(page.locator('[data-field="parameters"] .field-error')).to_contain_text("fast_period", timeout=WAIT_MS)
    expect(page).to_have_url(re.compile(r"/backtests/$"))

    page.fill("#bt-name", "GOOG flip")
    page.fill("#bt-parameters", '{"fast_period": 10, "slow_period": 20, "allow_short": true}')
    page.select_option("#bt-source", "sample")
    page.select_option("#bt-sample", "GOOG")
    page.select_option("#bt-sizing", "all_in")
    page.click("#bt-submit")

    expect(page).to_have_url(re.compile(r"/backtests/\d+/$"), timeout=WAIT_MS)
    expect(page.locator("#backtest-progress-text")).to_have_text("100 %", timeout=30_000)
    expect(page.locator("#backtest-page")).to_have_attribute("data-status", "completed")
    expect(page.locator("#card-final_equity")).to_have_text("81,812.37", timeout=WAIT_MS)
    expect(page.locator("#card-trades")).to_have_text("93")
    expect(page.locator('[data-metric="sharpe"] dd')).not_to_have_text("—")
    expect(page.locator("#trades-count")).to_have_text("93", timeout=WAIT_MS)
    expect(page.locator("#backtest-page")).to_have_attribute("data-chart-points", re.compile(r"^[1-9]\d+$"))
    assert page.locator("#equity-chart canvas").count() > 0
    assert page.locator("#drawdown-chart canvas").count() > 0
    screenshot(page, "backtest-result")

    # The list shows it, finished.
    page.click("#nav-backtests")
    row = page.locator("#backtests-table tbody tr").first
    expect(row).to_contain_text("GOOG flip", timeout=WAIT_MS)
    expect(row).to_contain_text("completed")
    expect(row).to_contain_text("100 %")
    screenshot(page, "backtests-list")


def test_an_optimization_from_the_page_shows_its_ranking_and_heat_map(demo_ui, browsing: Browsing):
    page = browsing.log_in(path="/backtests/")
    page.select_option("#op-type", "SMA_CROSSOVER")
    page.fill("#op-space", '{"fast_period": [5, 10], "slow_period": [20, 50]}')
    page.select_option("#op-metric", "total_return")
    page.fill("#op-train", "500")
    page.fill("#op-test", "500")
    page.click("#op-submit")
    expect(page).to_have_url(re.compile(r"/backtests/optimizations/\d+/$"), timeout=WAIT_MS)
    expect(page.locator("#optimization-progress-text")).to_have_text("100 %", timeout=60_000)
    expect(page.locator("#ranking-count")).to_have_text("4", timeout=WAIT_MS)
    expect(page.locator("#heatmap-table td.cell")).to_have_count(4)
    expect(page.locator("#heatmap-table td.best")).to_have_count(1)
    expect(page.locator("#walk-table tbody tr")).to_have_count(3)
    screenshot(page, "backtest-optimization")


def test_an_optimization_canceled_from_its_page_stops_unranked(demo_ui, browsing: Browsing):
    page = browsing.log_in(path="/backtests/")
    page.select_option("#op-type", "SMA_CROSSOVER")
    # 95 candidates, each over the whole period and 19 walk-forward windows: minutes of work, canceled at once.
    page.fill(
        "#op-space", '{"fast_period": [' + ", ".join(map(str, range(2, 21))) + '], "slow_period": [30, 40, 50, 60, 70]}'
    )
    page.fill("#op-train", "200")
    page.fill("#op-test", "100")
    page.click("#op-submit")
    expect(page).to_have_url(re.compile(r"/backtests/optimizations/\d+/$"), timeout=WAIT_MS)
    cancel = page.locator("#optimization-cancel")
    expect(cancel).to_be_visible(timeout=WAIT_MS)
    cancel.click()
    expect(page.locator("#optimization-page")).to_have_attribute("data-status", "canceled", timeout=WAIT_MS)
    expect(cancel).to_be_hidden()
    expect(page.locator("#optimization-progress-text")).not_to_have_text("100 %")
    expect(page.locator("#ranking-count")).to_have_text("0")

    page.click("#nav-backtests")
    row = page.locator("#optimizations-table tbody tr").first
    expect(row).to_contain_text("canceled", timeout=WAIT_MS)
    expect(row.locator("button")).to_have_count(0)
