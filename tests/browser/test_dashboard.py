"""The live dashboard in real headless Chromium against the real ASGI server.

Signals are posted over REST like a producer would; the page must show their
consequences without a reload, pushed over the WebSocket.
"""

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, expect, sync_playwright

from conftest import http_post_signal
from tests.otp import otp_code, otp_device
from trading.events import EventType, event_record

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "Dashboard-test-pw-7731"
WAIT_MS = 10_000
MARKUP = "<img src=x onerror=alert(1)>"
SCREENSHOT = Path("/tmp/dashboard.png")


@pytest.fixture
def dashboard_demo(demo_committed):
    """The seeded demo (conftest) with a known password for the trader, and one stored event carrying markup."""
    demo_committed.trader.set_password(PASSWORD)
    demo_committed.trader.save()
    with transaction.atomic():
        # The feed loads it over REST when the page opens and must render it as text.
        event_record(
            type=EventType.RISK_VIOLATION,
            account=demo_committed.account,
            severity="WARNING",
            payload={"message": MARKUP},
        )
    return demo_committed


@pytest.fixture
def page(dashboard_demo, live_server_process):
    # ORM work is done above: Playwright's sync API keeps an event loop that Django would refuse to run queries in.
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=live_server_process)
        violations: list[str] = []
        context.on(
            "console", lambda message: "Content Security Policy" in message.text and violations.append(message.text)
        )
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
    # Every page is served under the Content-Security-Policy: nothing on them may break it.
    assert violations == []


def _post_signal(base_url: str, key: str, **fields) -> tuple[int, dict]:
    body = {
        "id": f"browser-{uuid.uuid4().hex[:12]}",
        "signal_type": "BUY",
        "confidence_score": "0.8",
        "position_size": "0.1",
        "expires_at": (timezone.now() + timedelta(minutes=5)).isoformat(),
        **fields,
    }
    return http_post_signal(base_url, key, body)


def _log_in(page: Page, code: str | None = None) -> None:
    """Sign in as the trader: the password, then the one-time password when the trader has a device."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", "trader")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    if code is not None:
        page.fill("input[name=otp_token]", code)
        page.click("#code-submit")
    expect(page.locator("#dashboard")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#connection-status")).to_have_text("live", timeout=WAIT_MS)


def test_login_form_shows_errors(page: Page):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "trader")
    page.fill("input[name=password]", "wrong-password")
    page.click("#login-submit")
    expect(page.locator("#login-errors")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#dashboard")).to_have_count(0)


def test_accepted_signal_shows_order_fill_and_position_live(page: Page, dashboard_demo, live_server_process):
    _log_in(page)
    expect(page.locator("#strategies-table tbody tr", has_text="demo-ai")).to_be_visible()
    expect(page.locator("#summary-cash")).to_have_text("1,000,000.00", timeout=WAIT_MS)
    expect(page.locator("#orders-table tbody tr[data-order-id]")).to_have_count(0)

    status, answer = _post_signal(live_server_process, dashboard_demo.key, symbol="AAPL")
    assert status == 201, answer
    assert answer["order_id"], answer

    order_row = page.locator(f'#orders-table tbody tr[data-order-id="{answer["order_id"]}"]')
    expect(order_row.locator(".status")).to_have_text("FILLED", timeout=WAIT_MS)
    expect(order_row).to_contain_text("AAPL")
    position_row = page.locator('#positions-table tbody tr[data-symbol="AAPL"]')
    expect(position_row.locator(".qty")).to_have_text(re.compile(r"^[1-9][\d,]*(\.\d+)?$"), timeout=WAIT_MS)
    expect(page.locator(f'#fills-table tbody tr[data-order-id="{answer["order_id"]}"]').first).to_be_visible(
        timeout=WAIT_MS
    )
    expect(page.locator('#events-feed li[data-type="order.filled"]').first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#events-feed li").first).to_contain_text(re.compile(r"\w+\.\w+"))
    # Buying spent cash: the summary was refreshed from the push, not a reload.
    expect(page.locator("#summary-cash")).not_to_have_text("1,000,000.00", timeout=WAIT_MS)
    expect(page.locator("#connection-status")).to_have_text("live")
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_rejected_signal_appears_in_feed_without_order(page: Page, dashboard_demo, live_server_process):
    _log_in(page)

    status, answer = _post_signal(live_server_process, dashboard_demo.key, symbol="ZZZZ")
    assert status in (200, 201), answer
    assert answer["status"] == "rejected", answer
    assert answer["order_id"] is None, answer

    rejected = page.locator('#events-feed li[data-type="signal.rejected"]')
    expect(rejected.first).to_be_visible(timeout=WAIT_MS)
    expect(rejected.first).to_contain_text("ZZZZ")
    expect(page.locator("#orders-table tbody tr[data-order-id]")).to_have_count(0)


def test_data_is_shown_as_text_never_as_markup(page: Page):
    _log_in(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    alert = page.locator('#events-feed li[data-type="risk.violation"]')
    expect(alert).to_contain_text(MARKUP, timeout=WAIT_MS)
    expect(alert).to_have_class(re.compile(r"severity-warning"))
    expect(page.locator("#events-feed img")).to_have_count(0)
    assert dialogs == []


def test_a_person_closes_a_position_from_the_dashboard(page: Page, dashboard_demo, live_server_process):
    _log_in(page)
    status, answer = _post_signal(live_server_process, dashboard_demo.key, symbol="KO", stop_loss="60")
    assert status == 201, answer
    position_row = page.locator('#positions-table tbody tr[data-symbol="KO"]')
    expect(position_row.locator(".qty")).not_to_have_text("0", timeout=WAIT_MS)
    stop_row = page.locator("#orders-table tbody tr", has_text="stop 60.00")
    expect(stop_row.locator(".status")).to_have_text("ACCEPTED", timeout=WAIT_MS)

    position_row.get_by_role("button", name="Close").click()

    # The close goes out at market, the protective stop is canceled, the position is flat: all pushed live.
    close_row = page.locator("#orders-table tbody tr").filter(has_text="SELL").filter(has_text="MARKET")
    expect(close_row.locator(".status")).to_have_text("FILLED", timeout=WAIT_MS)
    expect(stop_row.locator(".status")).to_have_text("CANCELED", timeout=WAIT_MS)
    expect(page.locator('#positions-table tbody tr[data-symbol="KO"]')).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator('#events-feed li[data-type="order.canceled"]').first).to_be_visible()
    expect(page.locator("#notice")).to_have_count(0)


def _in_thread(work):
    """ORM work from inside a test that drives the page (Playwright's event loop owns this thread); its result."""
    import threading

    from django.db import connection

    errors: list[BaseException] = []
    result: list = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as error:  # reported in the test's thread below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if errors:
        raise errors[0]
    return result[0] if result else None


def _api_post(page: Page, path: str, body: dict) -> dict:
    """A person's POST from the page's session (cookie and CSRF token), as another tab of the same user would."""
    return page.evaluate(
        """async ([path, body]) => {
            const token = (document.cookie.match(/(?:^|;\\s*)csrftoken=([^;]+)/) || [])[1] || "";
            const response = await fetch("/api/v1/" + path, {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(token)},
                body: JSON.stringify(body),
            });
            return {status: response.status, body: await response.json()};
        }""",
        [path, body],
    )


def test_the_trading_state_badge_shows_an_engaged_kill_switch(page: Page, dashboard_demo):
    # Releasing the kill switch needs the trader's one-time password: the trader has a device and signs in with it.
    device = _in_thread(lambda: otp_device(dashboard_demo.trader))
    _log_in(page, _in_thread(lambda: otp_code(device)))
    badge = page.locator("#trading-state")
    expect(badge).to_have_text("ACTIVE")
    engaged = _api_post(page, "risk/kill-switch/", {"action": "engage", "scope": "ACCOUNT", "reason": "drill"})
    assert engaged["status"] == 201, engaged
    expect(badge).to_have_text("KILL SWITCH", timeout=WAIT_MS)
    release = {"action": "release", "kill_switch_id": engaged["body"]["id"], "reason": "done"}
    refused = _api_post(page, "risk/kill-switch/", release)
    assert (refused["status"], refused["body"]["code"]) == (403, "otp_required"), refused
    expect(badge).to_have_text("KILL SWITCH")
    released = _api_post(page, "risk/kill-switch/", {**release, "otp": _in_thread(lambda: otp_code(device))})
    assert released["status"] == 200, released
    expect(badge).to_have_text("ACTIVE", timeout=WAIT_MS)


def test_a_strategy_paused_in_the_admin_changes_on_screen(page: Page, dashboard_demo, live_server_process):
    _log_in(page)
    status = page.locator("#strategies-table tbody tr", has_text="demo-ai").locator(".status")
    expect(status).to_have_text("RUNNING")

    def ops_password():
        from django.contrib.auth import get_user_model

        ops = get_user_model().objects.get(username="ops")
        ops.set_password(PASSWORD)
        ops.save()
        return otp_device(ops)  # the admin needs a session verified by a one-time password

    device = _in_thread(ops_password)
    admin = page.context.browser.new_context(base_url=live_server_process)
    try:
        ops_page = admin.new_page()
        ops_page.goto(f"/admin/strategies/strategy/{dashboard_demo.strategy.pk}/change/")
        ops_page.fill("input[name=username]", "ops")
        ops_page.fill("input[name=password]", PASSWORD)
        ops_page.click("#login-submit")
        ops_page.fill("input[name=otp_token]", _in_thread(lambda: otp_code(device)))
        ops_page.click("#code-submit")
        ops_page.select_option("select[name=status]", "PAUSED")
        ops_page.click("input[name=_save]")
        expect(ops_page.locator(".messagelist")).to_be_visible(timeout=WAIT_MS)
    finally:
        admin.close()
    expect(status).to_have_text("PAUSED", timeout=WAIT_MS)


def test_logging_out_in_another_tab_ends_this_tabs_live_push(page: Page):
    _log_in(page)
    other = page.context.new_page()
    other.goto("/")
    expect(other.locator("#connection-status")).to_have_text("live", timeout=WAIT_MS)
    other.get_by_role("button", name="Log out").click()
    expect(page.locator("#connection-status")).to_have_text("signed out", timeout=WAIT_MS)
    expect(page.locator("#notice")).to_contain_text("session has ended")


@pytest.mark.realstack
def test_live_events_are_shown_in_the_order_they_happened(page: Page, dashboard_demo):
    # Two transactions: the first records its event first (lower id) but commits last, so its push arrives last.
    import threading

    _log_in(page)
    recorded, committed = threading.Event(), threading.Event()

    def earlier() -> None:
        with transaction.atomic():
            event_record(
                type=EventType.RISK_LIMIT_BREACHED, account=dashboard_demo.account, payload={"message": "first"}
            )
            recorded.set()
            committed.wait(timeout=20)

    def later() -> None:
        recorded.wait(timeout=20)
        with transaction.atomic():
            event_record(
                type=EventType.RISK_LIMIT_BREACHED, account=dashboard_demo.account, payload={"message": "second"}
            )
        committed.set()

    first = threading.Thread(target=_in_thread, args=(earlier,))
    first.start()
    _in_thread(later)
    first.join(timeout=30)
    items = page.locator('#events-feed li[data-type="risk.limit_breached"]')
    expect(items).to_have_count(2, timeout=WAIT_MS)
    expect(items.nth(0)).to_contain_text("second")
    expect(items.nth(1)).to_contain_text("first")
