"""Fixtures of the strategy manager's browser tests (helpers in support.py)."""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, sync_playwright

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, PASSWORD, VENDOR_CHARTS, Browsing, screenshots_taken


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if screenshots_taken:
        terminalreporter.section("browser screenshots")
        for path in screenshots_taken:
            terminalreporter.write_line(str(path))


@pytest.fixture
def browsing(live_server_process: str) -> Iterator[Browsing]:
    """Chromium on the live server; the test fails if the page logged a console error or threw."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, base_url=live_server_process)
        session = Browsing(context=context, page=context.new_page())

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                location = message.location or {}
                session.errors.append(f"console: {message.text} ({location.get('url', '')})")

        context.on("console", console)
        context.on("weberror", lambda error: session.errors.append(f"page error: {error.error}"))
        try:
            yield session
        finally:
            context.close()
            browser.close()
    unexpected = session.unexpected_errors()
    assert not unexpected, "the browser logged errors:\n" + "\n".join(unexpected)


@pytest.fixture
def charts_installed() -> None:
    if not VENDOR_CHARTS.exists():
        pytest.fail(f"{VENDOR_CHARTS} is missing: run `make static` (npm ci of the pinned lightweight-charts)")


@pytest.fixture
def demo_ui(demo_committed: Any) -> Any:
    """The seeded demo (root conftest) with a known password for the trader; ORM work before the browser starts."""
    demo_committed.trader.set_password(PASSWORD)
    demo_committed.trader.save()
    return demo_committed
