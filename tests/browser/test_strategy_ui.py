"""The strategy manager's pages in headless Chromium, against the REST contract answered by the test.

The real server serves the pages, the session, the static files and the live push; the strategy
manager's endpoints (/api/v1/strategies/…) are answered by ``contract.FakeStrategyApi`` with the
contract's shapes, built from the real cores. These tests pin down what the pages do with each answer
(field errors, refusals, pushed status changes, formatting) whatever the backend's state;
test_strategy_manager.py runs the same journeys end to end against the real backend.
"""

import re

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from tests.browser import contract
from tests.browser.contract import MINUS, FakeStrategyApi, shown_money, shown_percent, shown_ratio
from tests.browser.support import WAIT_MS, Browsing, in_thread, screenshot
from trading.events import EventType, event_record

pytestmark = pytest.mark.browser


def _dashboard(browsing: Browsing, strategies: list[dict]) -> tuple[Page, FakeStrategyApi]:
    page = browsing.page
    api = FakeStrategyApi(page, strategies)
    browsing.log_in()
    # Set once the page is up: still set at the end means nothing reloaded the page.
    page.evaluate("window.__sameDocument = true")
    return page, api


def _row(page: Page, strategy_id: int):
    return page.locator(f'#strategies-table tbody tr[data-strategy-id="{strategy_id}"]')


def _same_document(page: Page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def _push_strategy_event(demo, status: str) -> None:
    """A strategy.updated event recorded in this process, as the backend's services record them: it reaches
    the browser through the shared channel layer (Redis) of the real stack, never the embedded in-memory one."""

    def work() -> None:
        with transaction.atomic():
            event_record(
                type=EventType.STRATEGY_UPDATED,
                account=demo.account,
                strategy=demo.strategy,
                payload={"name": demo.strategy.name, "status": status},
            )

    in_thread(work)


def test_the_new_strategy_form_is_built_from_each_types_spec(demo_ui, browsing: Browsing):
    page, _api = _dashboard(browsing, [])
    page.get_by_role("button", name="New strategy").click()
    dialog = page.locator("#strategy-form-dialog")
    expect(dialog).to_be_visible()

    dialog.get_by_label("Type", exact=True).select_option("SMA_CROSSOVER")
    fast = dialog.get_by_label("Fast period", exact=True)
    expect(fast).to_have_value("10")
    expect(fast).to_have_attribute("min", "2")
    expect(fast).to_have_attribute("max", "10000")
    expect(fast).to_have_attribute("step", "1")
    expect(dialog.locator('[data-param="fast_period"] .field-help')).to_have_text(
        "Bars in the fast moving average. Range: 2 to 10,000."
    )
    size = dialog.get_by_label("Position size", exact=True)
    expect(size).to_have_value("0.1")
    expect(size).to_have_attribute("step", "0.000001")
    expect(size).to_have_attribute("min", "0")
    expect(size).to_have_attribute("max", "1")
    expect(dialog.locator('[data-param="position_size"] .field-help')).to_contain_text("Range: more than 0, at most 1.")
    stop = dialog.get_by_label("Stop loss (fraction)", exact=True)
    expect(stop).to_have_value("")
    expect(stop).to_have_attribute("placeholder", "none")
    expect(dialog.get_by_label("Allow short")).not_to_be_checked()
    expect(dialog.get_by_label("Symbols")).to_be_visible()
    screenshot(page, "strategy-form-sma")

    dialog.get_by_label("Type", exact=True).select_option("RSI_MEAN_REVERSION")
    expect(dialog.get_by_label("Period", exact=True)).to_have_value("14")
    expect(dialog.get_by_label("Oversold", exact=True)).to_have_value("30")
    expect(dialog.get_by_label("Overbought", exact=True)).to_have_value("70")
    expect(dialog.get_by_label("Fast period", exact=True)).to_have_count(0)

    # An external producer's strategy has no parameters and names its symbols in each signal.
    dialog.get_by_label("Type", exact=True).select_option("EXTERNAL_AI")
    expect(page.locator("#sf-parameters")).to_be_hidden()
    expect(dialog.get_by_label("Symbols")).to_be_hidden()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()


def test_field_errors_are_shown_next_to_their_fields_until_the_strategy_is_created(demo_ui, browsing: Browsing):
    # Chromium logs every refused request as a console error: the refusals this test provokes, and only those.
    browsing.allow(r"status of (400|409) .*/api/v1/strategies/\)$")
    page, api = _dashboard(browsing, [])
    page.get_by_role("button", name="New strategy").click()
    dialog = page.locator("#strategy-form-dialog")
    dialog.get_by_label("Name").fill("sma-1")
    dialog.get_by_label("Type", exact=True).select_option("SMA_CROSSOVER")
    dialog.get_by_label("Capital").fill("25000")
    dialog.get_by_label("Fast period", exact=True).fill("50")
    dialog.get_by_label("Symbols").fill("aapl, msft")

    fast_error = "The fast period (50) must be shorter than the slow period (20)."
    api.queue(
        "POST",
        "strategies/",
        (
            400,
            {
                "code": "invalid",
                "message": "The request is not valid.",
                "errors": {
                    "parameters": {"fast_period": [fast_error]},
                    "name": ["You already have a strategy so named."],
                },
            },
        ),
    )
    dialog.get_by_role("button", name="Create strategy").click()
    expect(dialog.locator('[data-field="parameters.fast_period"] .field-error')).to_have_text(fast_error)
    expect(dialog.locator('[data-field="name"] > .field-error')).to_have_text("You already have a strategy so named.")
    expect(dialog.get_by_label("Fast period", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator("#strategy-form-error")).to_contain_text("invalid")
    expect(dialog.locator('[data-field="capital"] > .field-error')).to_be_hidden()
    # Decimals go as the text typed, never through a float; empty optional ones as null.
    assert api.bodies("POST", "strategies/") == [
        {
            "name": "sma-1",
            "strategy_type": "SMA_CROSSOVER",
            "capital": "25000",
            "parameters": {
                "fast_period": "50",
                "slow_period": "20",
                "position_size": "0.1",
                "confidence": "0.6",
                "stop_loss_pct": None,
                "take_profit_pct": None,
                "allow_short": False,
            },
            "symbols": ["AAPL", "MSFT"],
        }
    ]
    screenshot(page, "strategy-form-field-errors")

    too_much = "The capital (2,500,000.00) is more than the account's equity (1,000,000.00)."
    figures = {"capital": "2500000.00", "equity": "1000000.00"}  # a 409's errors are figures, not field errors
    api.queue("POST", "strategies/", (409, {"code": "capital_exceeds_equity", "message": too_much, "errors": figures}))
    dialog.get_by_label("Fast period", exact=True).fill("5")
    dialog.get_by_label("Capital").fill("2500000")
    dialog.get_by_role("button", name="Create strategy").click()
    expect(dialog.locator('[data-field="capital"] > .field-error')).to_have_text(too_much)
    expect(dialog.locator('[data-field="parameters.fast_period"] .field-error')).to_be_hidden()
    expect(dialog.locator("#strategy-form-error")).to_contain_text("capital_exceeds_equity")

    created = contract.strategy(9001, "sma-1", "DRAFT", strategy_type="SMA_CROSSOVER", capital="25000.00")

    def create(body):
        api.strategies[9001] = created
        return 201, created

    api.queue("POST", "strategies/", create)
    dialog.get_by_label("Capital").fill("25000")
    dialog.get_by_role("button", name="Create strategy").click()
    expect(dialog).to_be_hidden()
    row = _row(page, 9001)
    expect(row.locator(".status")).to_have_text("DRAFT")
    expect(row.locator(".type")).to_have_text("SMA crossover")
    expect(row.locator(".capital")).to_have_text("25,000.00")
    expect(row.locator("button")).to_have_text(["Deploy", "Delete"])
    expect(row.get_by_role("link", name="sma-1")).to_have_attribute("href", "/strategies/9001/")
    assert _same_document(page)


def test_lifecycle_buttons_follow_allowed_actions_and_dialogs_show_refusals(demo_ui, browsing: Browsing):
    draft = contract.strategy(9101, "alpha-draft", "DRAFT")
    running = contract.strategy(9102, "beta-running", "RUNNING")
    auto = contract.strategy(9103, "gamma-auto", "AUTO_PAUSED")
    browsing.allow(r"status of (403|409) .*/api/v1/strategies/91\d\d/(deploy|pause)/\)$")
    page, api = _dashboard(browsing, [draft, running, auto])
    dialog = page.locator("#strategy-action-dialog")
    error = dialog.locator("#action-error")

    expect(_row(page, 9101).locator("button")).to_have_text(["Deploy", "Delete"])
    expect(_row(page, 9102).locator("button")).to_have_text(["Pause", "Stop"])
    expect(_row(page, 9103).locator("button")).to_have_text(["Resume", "Stop"])
    expect(_row(page, 9102).locator(".status-note")).to_have_text("taking entries")
    # Auto-paused is its own colour and says entries stopped, never "trading stopped".
    expect(_row(page, 9103).locator(".status")).to_have_class(re.compile(r"\bstatus-auto_paused\b"))
    expect(_row(page, 9103).locator(".status-note")).to_have_text("entries stopped by an auto-pause rule")
    expect(page.locator("#strategies-table")).not_to_contain_text("trading stopped")

    # Deploy asks for the one-time password; each refusal is shown in the dialog, code and sentence.
    api.queue(
        "POST",
        "strategies/9101/deploy/",
        (403, {"code": "otp_not_enrolled", "message": "You have no confirmed authenticator device."}),
        (403, {"code": "otp_invalid", "message": "The one-time password is wrong or was already used."}),
        lambda body: (200, contract.strategy(9101, "alpha-draft", "RUNNING")),
    )
    _row(page, 9101).get_by_role("button", name="Deploy").click()
    otp = dialog.get_by_label("One-time password")
    expect(otp).to_be_visible()
    expect(dialog.locator("#action-reason-field")).to_be_hidden()
    otp.fill("123456")
    dialog.get_by_role("button", name="Deploy").click()
    expect(error).to_contain_text("otp_not_enrolled")
    expect(error).to_contain_text("You have no confirmed authenticator device.")
    expect(dialog.locator("#action-enrol-hint")).to_be_visible()
    screenshot(page, "deploy-otp-not-enrolled")
    otp.fill("654321")
    dialog.get_by_role("button", name="Deploy").click()
    expect(error).to_contain_text("otp_invalid")
    expect(error).to_contain_text("The one-time password is wrong or was already used.")
    otp.fill("111222")
    dialog.get_by_role("button", name="Deploy").click()
    expect(dialog).to_be_hidden()
    expect(_row(page, 9101).locator(".status")).to_have_text("RUNNING")
    expect(_row(page, 9101).locator("button")).to_have_text(["Pause", "Stop"])
    assert api.bodies("POST", "strategies/9101/deploy/") == [{"otp": "123456"}, {"otp": "654321"}, {"otp": "111222"}]

    # Pause: no password, an optional reason, and what pausing does (entries only).
    api.queue(
        "POST",
        "strategies/9102/pause/",
        (409, {"code": "illegal_strategy_transition", "message": "A STOPPED strategy cannot be paused."}),
        lambda body: (200, contract.strategy(9102, "beta-running", "PAUSED")),
    )
    _row(page, 9102).get_by_role("button", name="Pause").click()
    expect(dialog.locator("#action-otp-field")).to_be_hidden()
    expect(dialog).to_contain_text("Open positions stay protected")
    dialog.get_by_label("Reason").fill("earnings at 16:00")
    dialog.get_by_role("button", name="Pause").click()
    expect(error).to_contain_text("illegal_strategy_transition")
    expect(error).to_contain_text("A STOPPED strategy cannot be paused.")
    dialog.get_by_role("button", name="Pause").click()
    expect(dialog).to_be_hidden()
    expect(_row(page, 9102).locator(".status")).to_have_text("PAUSED")
    expect(_row(page, 9102).locator(".status-note")).to_have_text("entries stopped")
    assert api.bodies("POST", "strategies/9102/pause/") == [{"reason": "earnings at 16:00"}] * 2

    # Resuming after an auto-pause is a re-approval: the password again. Cancel sends nothing.
    _row(page, 9103).get_by_role("button", name="Resume").click()
    expect(dialog.get_by_label("One-time password")).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert api.bodies("POST", "strategies/9103/resume/") == []

    # Stop asks whether to flatten.
    api.queue("POST", "strategies/9102/stop/", lambda body: (200, contract.strategy(9102, "beta-running", "STOPPED")))
    _row(page, 9102).get_by_role("button", name="Stop").click()
    flatten = dialog.get_by_label(re.compile(r"Flatten"))
    expect(flatten).not_to_be_checked()
    flatten.check()
    screenshot(page, "stop-with-flatten")
    dialog.get_by_role("button", name="Stop").click()
    expect(dialog).to_be_hidden()
    expect(_row(page, 9102).locator(".status")).to_have_text("STOPPED")
    expect(_row(page, 9102).locator("button")).to_have_text(["Deploy", "Delete"])
    assert api.bodies("POST", "strategies/9102/stop/") == [{"flatten": True}]
    assert _same_document(page)


def test_the_strategy_page_shows_charts_metrics_trades_versions_attribution_and_signals(
    demo_ui, browsing: Browsing, charts_installed
):
    sid = demo_ui.strategy.pk
    shown = contract.strategy(
        sid, "demo-ai", "RUNNING", capital="120000.00", version=2, configuration={"parameters": {}, "symbols": []}
    )
    page = browsing.page
    FakeStrategyApi(page, [shown])
    browsing.log_in(path=f"/strategies/{sid}/")
    performance = contract.performance_answer()
    metrics = performance["metrics"]

    expect(page.locator("#strategy-status .status")).to_have_text("RUNNING")
    expect(page.locator("#strategy-capital")).to_have_text("120,000.00")
    expect(page.locator("#strategy-version")).to_have_text("v2")
    expect(page.locator("#strategy-actions button")).to_have_text(["Pause", "Stop"])

    # Charts: both drawn from the equity curve, from the vendored library.
    expect(page.locator("#strategy-page")).to_have_attribute("data-chart-points", str(len(performance["equity"])))
    expect(page.locator("#equity-chart canvas").first).to_be_visible()
    expect(page.locator("#drawdown-chart canvas").first).to_be_visible()
    last = performance["equity"][-1]
    expect(page.locator("#equity-last")).to_have_text(f"{shown_money(last['equity'])} on {last['day']}")

    def metric(key: str):
        return page.locator(f'#metrics [data-metric="{key}"] dd')

    expect(metric("total_return")).to_have_text(shown_percent(metrics["total_return"]))
    expect(metric("annualized_return")).to_have_text(shown_percent(metrics["annualized_return"]))
    expect(metric("volatility")).to_have_text(shown_percent(metrics["volatility"]))
    expect(metric("sharpe")).to_have_text(shown_ratio(metrics["sharpe"]))
    expect(metric("sortino")).to_have_text(shown_ratio(metrics["sortino"]))
    expect(metric("max_drawdown")).to_have_text(shown_percent(metrics["max_drawdown"]))
    expect(metric("max_drawdown_duration_days")).to_have_text(f"{metrics['max_drawdown_duration_days']} days")
    expect(metric("win_rate")).to_have_text("60.00%")
    expect(metric("profit_factor")).to_have_text(shown_ratio(metrics["profit_factor"]))
    expect(metric("total_pnl")).to_have_text("+825.00")
    expect(metric("average_loss")).to_have_text(shown_money(metrics["average_loss"]))
    expect(metric("ending_equity")).to_have_text(shown_money(metrics["ending_equity"]))
    expect(metric("exposure")).to_have_text(shown_percent(metrics["exposure"]))
    expect(metric("alpha")).to_have_text("—")
    expect(page.locator("#card-win_rate")).to_have_text("60.00%")
    days = int(metrics["days"])
    expect(page.locator("#metrics-period")).to_have_text(f"2026-09-01 to 2026-10-10 · {days} days")
    expect(page.locator("#performance-updated")).to_have_text("updated 2026-10-10 16:00:00 UTC · v2")

    trades = page.locator("#trades-table tbody tr")
    expect(trades).to_have_count(5)
    expect(trades.first.locator("td")).to_have_text(
        [
            "2026-09-15 14:00:00 UTC",
            "2026-09-16 15:00:00 UTC",
            "KO",
            "Long",
            "100",
            "62.10",
            "62.40",
            "+29.00",
            "+0.47%",
            "1 d 1 h",
            "1.00",
            "—",
            "—",
        ]
    )
    expect(page.locator('#trades-table tbody tr[data-symbol="MSFT"] .side')).to_have_text("Short")
    expect(page.locator('#trades-table tbody tr[data-symbol="NVDA"] .pnl')).to_have_text(MINUS + "552.00")
    expect(page.locator("#trades-table tbody tr", has_text="231.125")).to_have_count(1)
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", f"/api/v1/strategies/{sid}/trades/?format=csv"
    )

    second = page.locator('#versions-table tr[data-version="2"]')
    expect(second).to_contain_text("more capital, wider stop")
    expect(second).to_contain_text("2026-10-02 09:30:00 UTC")
    expect(second.locator(".diff-list li")).to_have_text(
        ["capital: 100000.00 → 120000.00", "parameters.stop_loss_pct: none → 0.02"]
    )
    expect(page.locator('#versions-table tr[data-version="1"] .diff')).to_have_text("created")

    models = page.locator("#models-table tbody tr")
    expect(models).to_have_count(3)
    expect(page.locator('#models-table tr[data-model="model-7"] td')).to_have_text(
        ["model-7", "6", "2", "1", "1", "50.00%", re.compile(rf"^[+{MINUS}]?\d+\.\d\d%$"), "+74.50"]
    )
    expect(page.locator("#calibration-table tbody tr")).to_have_count(6)
    expect(page.locator('#calibration-table tr[data-bucket="[0.8, 0.9)"] td').nth(3)).to_have_text("100.00%")
    expect(page.locator('#calibration-table tr[data-bucket="[0.5, 0.6)"] td').nth(3)).to_have_text("0.00%")
    expect(page.locator("#unscored")).to_have_text("1 trade without a confidence, left out")

    rejected = page.locator('#signals-table tr[data-signal-id="model-7/0002"]')
    expect(rejected.locator(".outcome")).to_have_text("rejected")
    expect(rejected.locator(".violations")).to_have_text(
        "max_position_size_exceeded: The position would be 12% of equity; the limit is 10%."
    )
    expect(rejected.locator("td").first).to_have_text("2026-10-03 14:05:00 UTC")
    executed = page.locator('#signals-table tr[data-signal-id="model-7/0001"]')
    expect(executed.locator(".outcome")).to_have_text("executed")
    expect(executed.locator(".order")).to_have_text("#31")
    screenshot(page, "strategy-page")


@pytest.mark.realstack
def test_pushed_strategy_events_update_the_list_and_the_page(demo_ui, browsing: Browsing):
    sid = demo_ui.strategy.pk
    page, api = _dashboard(browsing, [contract.strategy(sid, "demo-ai", "RUNNING")])
    row = _row(page, sid)
    expect(row.locator(".status")).to_have_text("RUNNING")

    api.strategies[sid] = contract.strategy(sid, "demo-ai", "AUTO_PAUSED")
    _push_strategy_event(demo_ui, "AUTO_PAUSED")
    expect(row.locator(".status")).to_have_text("AUTO_PAUSED", timeout=WAIT_MS)
    expect(row.locator(".status-note")).to_have_text("entries stopped by an auto-pause rule")
    expect(row.locator("button")).to_have_text(["Resume", "Stop"])
    assert _same_document(page)

    page.goto(f"/strategies/{sid}/")
    expect(page.locator("#connection-status")).to_have_text("live", timeout=WAIT_MS)
    expect(page.locator("#strategy-status .status")).to_have_text("AUTO_PAUSED")
    api.strategies[sid] = contract.strategy(sid, "demo-ai", "RUNNING")
    _push_strategy_event(demo_ui, "RUNNING")
    expect(page.locator("#strategy-status .status")).to_have_text("RUNNING", timeout=WAIT_MS)
    expect(page.locator("#strategy-status .status-note")).to_have_text("taking entries")


def test_the_pages_say_what_the_api_could_not_answer_and_keep_working(demo_ui, browsing: Browsing):
    sid = demo_ui.strategy.pk
    page = browsing.page
    api = FakeStrategyApi(page, [contract.strategy(sid, "demo-ai", "RUNNING")])
    api.missing = {r"strategies/types/", r"strategies/\d+/(trades|attribution|versions|signals)/"}
    # The browser logs each failed request as a console error: expected here, and only these.
    browsing.allow(r"status of (404|500)")
    browsing.log_in()

    row = _row(page, sid)
    expect(row.locator(".status")).to_have_text("RUNNING")
    page.get_by_role("button", name="New strategy").click()
    form_error = page.locator("#strategy-form-error")
    expect(form_error).to_contain_text("not_available")
    expect(form_error).to_contain_text("The strategy types could not be loaded")
    expect(page.get_by_role("button", name="Create strategy")).to_be_disabled()
    page.locator("#strategy-form-dialog").get_by_role("button", name="Cancel").click()

    api.queue("POST", f"strategies/{sid}/pause/", (500, {"code": "error", "message": "Something went wrong."}))
    row.get_by_role("button", name="Pause").click()
    dialog = page.locator("#strategy-action-dialog")
    dialog.get_by_role("button", name="Pause").click()
    expect(dialog.locator("#action-error")).to_contain_text("Something went wrong.")
    dialog.get_by_role("button", name="Cancel").click()

    # The strategy page without its charting library and with most sections missing.
    page.route(re.compile(r"/static/vendor/"), lambda route: route.fulfill(status=404, body=""))
    page.goto(f"/strategies/{sid}/")
    expect(page.locator("#strategy-status .status")).to_have_text("RUNNING")
    expect(page.locator("#charts-note")).to_contain_text("Charts are unavailable")
    expect(page.locator('#metrics [data-metric="total_return"] dd')).to_have_text(
        shown_percent(contract.performance_answer()["metrics"]["total_return"])
    )
    for table in ("trades-table", "signals-table", "versions-table", "models-table", "calibration-table"):
        expect(page.locator(f"#{table} tbody tr.unavailable")).to_contain_text("Not available yet")
    expect(page.locator("#connection-status")).to_have_text("live", timeout=WAIT_MS)
    screenshot(page, "strategy-page-degraded")


STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def test_the_pages_run_under_a_strict_content_security_policy(demo_ui, browsing: Browsing, charts_installed):
    """No inline script, handler or style, nothing from elsewhere: the pages work unchanged under a strict CSP
    (a later security issue adds the header; here the test adds it to each page it loads)."""
    sid = demo_ui.strategy.pk
    page = browsing.page
    FakeStrategyApi(page, [contract.strategy(sid, "demo-ai", "RUNNING")])
    browsing.log_in()

    def with_csp(route):
        response = route.fetch(max_redirects=0)
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route(re.compile(r"^https?://[^/]+/(strategies/\d+/)?$"), with_csp)
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))

    page.goto("/")
    expect(page.locator("#connection-status")).to_have_text("live", timeout=WAIT_MS)
    expect(_row(page, sid).locator("button")).to_have_text(["Pause", "Stop"])
    page.get_by_role("button", name="New strategy").click()
    expect(page.locator("#sf-param-fast_period")).to_be_visible()
    page.locator("#strategy-form-dialog").get_by_role("button", name="Cancel").click()

    page.goto(f"/strategies/{sid}/")
    expect(page.locator("#connection-status")).to_have_text("live", timeout=WAIT_MS)
    expect(page.locator("#strategy-page")).to_have_attribute(
        "data-chart-points", str(len(contract.performance_answer()["equity"]))
    )
    expect(page.locator("#equity-chart canvas").first).to_be_visible()
    expect(page.locator('#calibration-table tr[data-bucket="[0.8, 0.9)"] .bar-fill')).to_be_visible()
    assert violations == []
