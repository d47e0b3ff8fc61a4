"""The Content-Security-Policy the server sends, as Chromium enforces it: the pages outside the dashboards (sign-in,
the API docs, the admin) run with no violation (one would be a console error, failing the test)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import WAIT_MS, Browsing

pytestmark = pytest.mark.browser


def test_the_sign_in_page_and_the_api_docs_run_under_the_policy(demo_ui, browsing: Browsing):
    page = browsing.page
    response = page.goto("/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    browsing.log_in()
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("QuantumLeap", timeout=WAIT_MS)
    expect(page.locator(".opblock-tag").first).to_be_visible()
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/api/docs/"))
