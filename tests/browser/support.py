"""Helpers of the strategy manager's browser tests: Chromium, console errors, screenshots, ORM off the page's thread.

Playwright's sync API keeps an event loop running in the test's thread, where Django refuses ORM calls:
database work inside a test that drives a page goes through ``in_thread``.
"""

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A page the test answers itself (route.fulfill: the CSP test) has no address, so Chromium would treat it as
    # public and refuse its WebSocket to the loopback server; every server here is on 127.0.0.1.
    "--disable-features=LocalNetworkAccessChecks",
]
# Screenshots are test artifacts (gitignored): QL_ARTIFACTS moves them, e.g. into CI's upload folder.
ARTIFACTS = Path(os.environ.get("QL_ARTIFACTS", ROOT / "artifacts")) / "browser"
VENDOR_CHARTS = ROOT / "static" / "vendor" / "lightweight-charts.standalone.production.js"
PASSWORD = "Strategy-ui-test-pw-5521"
WAIT_MS = 10_000

screenshots_taken: list[Path] = []


def in_thread(work: Callable[[], Any]) -> Any:
    """Run ORM work in a thread of its own (Playwright's event loop owns the test's thread); returns its result."""
    from django.db import connection

    result: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as error:  # re-raised in the test's thread below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return result[0] if result else None


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot under artifacts/browser/; its path is printed and listed at the end of the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    screenshots_taken.append(path)
    return path


@dataclass
class Browsing:
    """One browser context with the console watched: every console error and uncaught page error is kept."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Tolerate console errors matching pattern (a test that makes the API fail on purpose)."""
        self.allowed.append(re.compile(pattern))

    def unexpected_errors(self) -> list[str]:
        return [error for error in self.errors if not any(p.search(error) for p in self.allowed)]

    def log_in(self, username: str = "trader", password: str = PASSWORD, *, path: str = "/", code: str = "") -> Page:
        """Sign in; ``code``: the one-time password a user with a device gives next (tests.otp.otp_code)."""
        page = self.page
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("#login-submit")
        if code:
            expect(page).to_have_url(re.compile(r"/accounts/login/code/"))
            page.fill("input[name=otp_token]", code)
            page.click("#code-submit")
        expect(page.locator("#connection-status")).to_have_text("live", timeout=WAIT_MS)
        return page
