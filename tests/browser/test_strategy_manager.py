"""The strategy manager end to end in headless Chromium: the real pages on the real REST backend and live push.

A trader creates a strategy from the form (a bad parameter is shown beside its field), deploys it with
a TOTP code, watches a signal become an order and a fill live, pauses, resumes and stops it with
flatten, and reads its page (charts, metrics, trades, signals, versions, attribution).

The signal comes from an EXTERNAL_AI strategy's producer over REST (POST signals/ with a key scoped to
the new strategy) in the journey; a built-in generator deployed from the page trades on its own on a web
process whose simulated feed runs 60 times faster (a 1-minute bar a second).

test_strategy_ui.py covers the same pages against the REST contract answered by the test itself.
"""

import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import daphne_start, http_post_signal
from tests.browser.support import WAIT_MS, Browsing, in_thread, screenshot

pytestmark = pytest.mark.browser


# ---------- one-time passwords ----------
@pytest.fixture
def totp_device(demo_ui) -> int:
    """A confirmed TOTP device for the trader (ORM work before the browser starts)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=demo_ui.trader, name="test phone", confirmed=True).pk


def _device_enrol(trader_pk: int) -> int:
    def work() -> int:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        return TOTPDevice.objects.create(user_id=trader_pk, name="late phone", confirmed=True).pk

    return in_thread(work)


def _totp_code(device_pk: int) -> str:
    """The device's current code, as an authenticator app shows it (tests.otp.otp_code: accepted even when this
    time step's code was used already, by the sign-in's second step a moment ago)."""

    def work() -> str:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from tests.otp import otp_code

        return otp_code(TOTPDevice.objects.get(pk=device_pk))

    return in_thread(work)


# ---------- the page ----------
def _strategy_row(page: Page, name: str):
    return page.locator("#strategies-table tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))


def _create_from_form(page: Page, name: str, strategy_type: str, capital: str, **parameters: str) -> None:
    page.get_by_role("button", name="New strategy").click()
    dialog = page.locator("#strategy-form-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Type", exact=True).select_option(strategy_type)
    dialog.get_by_label("Capital").fill(capital)
    for field, value in parameters.items():
        if field == "symbols":
            dialog.get_by_label("Symbols").fill(value)
        else:
            dialog.locator(f"#sf-param-{field}").fill(value)
    dialog.get_by_role("button", name="Create strategy").click()


def _confirm(page: Page, action: str, *, otp_device: int | None = None, reason: str = "", flatten: bool = False):
    dialog = page.locator("#strategy-action-dialog")
    expect(dialog).to_be_visible()
    otp = dialog.get_by_label("One-time password")
    if otp_device is not None and otp.is_visible():
        otp.fill(_totp_code(otp_device))
    if reason:
        dialog.get_by_label("Reason").fill(reason)
    if flatten:
        dialog.get_by_label(re.compile("Flatten")).check()
    dialog.get_by_role("button", name=action).click()
    return dialog


def _post_signal(base_url: str, key: str, **fields) -> tuple[int, dict]:
    body = {
        "id": f"e2e-{uuid.uuid4().hex[:12]}",
        "signal_type": "BUY",
        "confidence_score": "0.8",
        "position_size": "0.1",
        "expires_at": (timezone.now() + timedelta(minutes=5)).isoformat(),
        "metadata": {"model": "e2e-model"},
        **fields,
    }
    return http_post_signal(base_url, key, body)


def _signal_key(trader_pk: int, strategy_pk: int) -> str:
    def work() -> str:
        from django.contrib.auth import get_user_model

        from accounts.services import api_key_create
        from strategies.models import Strategy

        trader = get_user_model().objects.get(pk=trader_pk)
        return api_key_create(user=trader, strategy=Strategy.objects.get(pk=strategy_pk))

    return in_thread(work)


def _same_document(page: Page) -> bool:
    return page.evaluate("window.__sameDocument === true")


# ---------- the journeys ----------
def test_a_trader_creates_a_strategy_from_the_form(demo_ui, browsing: Browsing):
    browsing.allow(r"status of 400 .*/api/v1/strategies/\)$")
    page = browsing.log_in()
    _create_from_form(page, "sma-e2e", "SMA_CROSSOVER", "20000", fast_period="50", symbols="AAPL, MSFT")
    dialog = page.locator("#strategy-form-dialog")
    fast_error = dialog.locator('[data-field="parameters.fast_period"] .field-error')
    expect(fast_error).to_contain_text("shorter than the slow period", timeout=WAIT_MS)
    expect(dialog.locator("#sf-param-fast_period")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "e2e-form-field-error")

    dialog.locator("#sf-param-fast_period").fill("5")
    dialog.get_by_role("button", name="Create strategy").click()
    expect(dialog).to_be_hidden(timeout=WAIT_MS)
    row = _strategy_row(page, "sma-e2e")
    expect(row.locator(".status")).to_have_text("DRAFT", timeout=WAIT_MS)
    expect(row.locator(".type")).to_have_text("SMA crossover")
    expect(row.locator(".capital")).to_have_text("20,000.00")
    expect(row.locator("button")).to_have_text(["Deploy", "Delete"])

    row.get_by_role("link", name="sma-e2e").click()
    expect(page).to_have_url(re.compile(r"/strategies/\d+/$"), timeout=WAIT_MS)
    expect(page.locator("#strategy-status .status")).to_have_text("DRAFT")
    expect(page.locator('#strategy-parameters [data-param="fast_period"]')).to_contain_text("5")
    expect(page.locator("#strategy-symbols")).to_have_text("AAPL, MSFT")
    expect(page.locator("#versions-table tbody tr[data-version]")).to_have_count(1, timeout=WAIT_MS)
    screenshot(page, "e2e-new-strategy-page")


def test_deploy_a_signal_fills_live_then_pause_resume_and_stop_with_flatten(
    demo_ui, totp_device, browsing: Browsing, charts_installed, live_server_process
):
    page = browsing.log_in(code=_totp_code(totp_device))
    page.evaluate("window.__sameDocument = true")
    _create_from_form(page, "ai-e2e", "EXTERNAL_AI", "50000")
    row = _strategy_row(page, "ai-e2e")
    expect(row.locator(".status")).to_have_text("DRAFT", timeout=WAIT_MS)

    # Deploy: the one-time password from the trader's device.
    row.get_by_role("button", name="Deploy").click()
    expect(page.get_by_label("One-time password")).to_be_visible()
    _confirm(page, "Deploy", otp_device=totp_device)
    expect(page.locator("#strategy-action-dialog")).to_be_hidden(timeout=WAIT_MS)
    expect(row.locator(".status")).to_have_text("RUNNING", timeout=WAIT_MS)
    expect(row.locator(".status-note")).to_have_text("taking entries")
    expect(row.locator("button")).to_have_text(["Pause", "Stop"])

    # The producer's signal becomes an order and a fill, pushed to the page.
    strategy_pk = int(row.get_attribute("data-strategy-id"))
    key = _signal_key(demo_ui.trader.pk, strategy_pk)
    status, answer = _post_signal(live_server_process, key, symbol="AAPL")
    assert status == 201, answer
    assert answer["order_id"], answer
    order_row = page.locator(f'#orders-table tbody tr[data-order-id="{answer["order_id"]}"]')
    expect(order_row.locator(".status")).to_have_text("FILLED", timeout=WAIT_MS)
    expect(page.locator(f'#fills-table tbody tr[data-order-id="{answer["order_id"]}"]').first).to_be_visible(
        timeout=WAIT_MS
    )
    position = page.locator('#positions-table tbody tr[data-symbol="AAPL"]').filter(has_text="ai-e2e")
    expect(position).to_have_count(1, timeout=WAIT_MS)
    screenshot(page, "e2e-deployed-and-filled")

    # Pause: entries stopped, the position stays (protection never stops).
    row.get_by_role("button", name="Pause").click()
    _confirm(page, "Pause", reason="lunch")
    expect(row.locator(".status")).to_have_text("PAUSED", timeout=WAIT_MS)
    expect(row.locator(".status-note")).to_have_text("entries stopped")
    expect(position).to_have_count(1)
    status, refused = _post_signal(live_server_process, key, symbol="MSFT")
    assert refused["status"] == "rejected", refused

    # Resume (the password only if the API asks for it).
    row.get_by_role("button", name="Resume").click()
    _confirm(page, "Resume", otp_device=totp_device)
    expect(row.locator(".status")).to_have_text("RUNNING", timeout=WAIT_MS)

    # Stop and flatten: the position is closed at market.
    row.get_by_role("button", name="Stop").click()
    _confirm(page, "Stop", flatten=True, reason="done")
    expect(row.locator(".status")).to_have_text("STOPPED", timeout=WAIT_MS)
    expect(row.locator("button")).to_have_text(["Deploy", "Delete"])
    expect(position).to_have_count(0, timeout=WAIT_MS)
    assert _same_document(page)
    screenshot(page, "e2e-stopped-and-flat")

    # Its page: the signal's outcome, the closed round trip, figures and charts.
    row.get_by_role("link", name="ai-e2e").click()
    expect(page.locator("#connection-status")).to_have_text("live", timeout=WAIT_MS)
    signal = page.locator(f'#signals-table tr[data-signal-id="{answer["id"]}"]')
    expect(signal.locator(".outcome")).to_have_text("executed", timeout=WAIT_MS)
    expect(signal.locator(".order")).to_have_text(f"#{answer['order_id']}")
    expect(page.locator(f'#signals-table tr[data-signal-id="{refused["id"]}"] .outcome')).to_have_text("rejected")
    trades = page.locator("#trades-table tbody tr[data-symbol]")
    expect(trades).to_have_count(1, timeout=WAIT_MS)
    expect(trades.first.locator(".side")).to_have_text("Long")
    expect(page.locator('#metrics [data-metric="trades"] dd')).to_have_text("1", timeout=WAIT_MS)
    expect(page.locator("#equity-chart canvas").first).to_be_visible()
    expect(page.locator("#models-table tbody tr[data-model]").first).to_be_visible()
    expect(page.locator("#versions-table tbody tr[data-version]").first).to_be_visible()
    expect(page.locator(".unavailable")).to_have_count(0)
    screenshot(page, "e2e-strategy-page")


def test_deploy_refusals_are_shown_in_the_dialog(demo_ui, browsing: Browsing):
    browsing.allow(r"status of 403 .*/deploy/\)$")
    page = browsing.log_in()
    page.evaluate("window.__sameDocument = true")
    _create_from_form(page, "refused-e2e", "EXTERNAL_AI", "10000")
    row = _strategy_row(page, "refused-e2e")
    expect(row.locator(".status")).to_have_text("DRAFT", timeout=WAIT_MS)
    dialog = page.locator("#strategy-action-dialog")
    error = dialog.locator("#action-error")

    # No device yet: the refusal and how to enrol one.
    row.get_by_role("button", name="Deploy").click()
    dialog.get_by_label("One-time password").fill("000000")
    dialog.get_by_role("button", name="Deploy").click()
    expect(error).to_contain_text("otp_not_enrolled", timeout=WAIT_MS)
    expect(dialog.locator("#action-enrol-hint")).to_be_visible()
    screenshot(page, "e2e-deploy-not-enrolled")

    dialog.get_by_role("button", name="Cancel").click()
    assert _same_document(page)

    # A device (enrolling one ends the sessions that did not give its code: sign in again), but a wrong code.
    device = _device_enrol(demo_ui.trader.pk)
    page = browsing.log_in(code=_totp_code(device))
    row = _strategy_row(page, "refused-e2e")
    row.get_by_role("button", name="Deploy").click()
    right = _totp_code(device)
    dialog.get_by_label("One-time password").fill(f"{(int(right) + 500_000) % 1_000_000:06d}")
    dialog.get_by_role("button", name="Deploy").click()
    expect(error).to_contain_text("otp_invalid", timeout=WAIT_MS)
    dialog.get_by_role("button", name="Cancel").click()
    expect(row.locator(".status")).to_have_text("DRAFT")


@pytest.fixture
def auto_paused_demo(demo_ui):
    """The demo strategy as the auto-pause monitor leaves it (ORM work before the browser starts)."""
    from strategies.models import Strategy

    Strategy.objects.filter(pk=demo_ui.strategy.pk).update(status="AUTO_PAUSED")
    return demo_ui


def test_an_auto_paused_strategy_says_entries_stopped_and_resumes_with_a_password(
    auto_paused_demo, totp_device, browsing: Browsing
):
    page = browsing.log_in(code=_totp_code(totp_device))
    row = _strategy_row(page, "demo-ai")
    expect(row.locator(".status")).to_have_text("AUTO_PAUSED", timeout=WAIT_MS)
    expect(row.locator(".status")).to_have_class(re.compile(r"\bstatus-auto_paused\b"))
    expect(row.locator(".status-note")).to_have_text("entries stopped by an auto-pause rule")
    expect(row.locator("button")).to_have_text(["Resume", "Stop"])
    screenshot(page, "e2e-auto-paused")
    row.get_by_role("button", name="Resume").click()
    expect(page.get_by_label("One-time password")).to_be_visible()
    _confirm(page, "Resume", otp_device=totp_device, reason="reviewed the drawdown")
    expect(row.locator(".status")).to_have_text("RUNNING", timeout=WAIT_MS)


# ---------- a built-in generator on the live feed ----------
@pytest.fixture
def feed_server(live_server_process, tmp_path) -> Iterator[str]:
    """A second web process on the test database that runs the simulated feed, its clock 60 times faster than
    the wall clock (a 1-minute bar closes every second), and the built-in generators on its bars."""
    server, url = daphne_start(
        tmp_path / "feed-server.log",
        env={"MARKET_FEED": "simulated", "MARKET_FEED_CLOCK_SPEEDUP": "60", "MARKET_FEED_INTERVAL_MS": "100"},
    )
    try:
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_a_generator_deployed_from_the_page_trades_on_the_live_feed(
    demo_ui, totp_device, feed_server, browsing: Browsing
):
    # feed_server before browsing: the browser (and its socket to that server) closes before the server stops.
    page = browsing.log_in(path=f"{feed_server}/", code=_totp_code(totp_device))
    _create_from_form(page, "sma-e2e", "SMA_CROSSOVER", "50000", fast_period="2", slow_period="3", symbols="AAPL")
    row = _strategy_row(page, "sma-e2e")
    expect(row.locator(".status")).to_have_text("DRAFT", timeout=WAIT_MS)
    row.get_by_role("button", name="Deploy").click()
    _confirm(page, "Deploy", otp_device=totp_device)
    expect(row.locator(".status")).to_have_text("RUNNING", timeout=WAIT_MS)

    # Nobody posts a signal: the SMA 2/3 crossover's own, on the feed's closed bars, becomes an order and a
    # fill through the same intake, pushed to the page.
    position = page.locator('#positions-table tbody tr[data-symbol="AAPL"]').filter(has_text="sma-e2e")
    expect(position).to_have_count(1, timeout=120_000)
    expect(page.locator("#fills-table tbody tr[data-exec-id]").first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#events-feed")).to_contain_text("signal", timeout=WAIT_MS)
    screenshot(page, "e2e-generator-filled")
