"""Two-step sign-in in real headless Chromium: enrol an authenticator from the page's QR code key, sign in with
password and code, a wrong code refused, the admin closed to a session without its code, operations users sent
to enrolment first. The pages run under the enforced Content-Security-Policy (a violation is a console error,
which fails the test)."""

import base64
import re
import time

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD, WAIT_MS, Browsing, in_thread, screenshot

pytestmark = pytest.mark.browser


def authenticator(secret: str, *, ahead: int = 0) -> str:
    """What an authenticator app shows for the page's key (base32), now or ``ahead`` time steps later."""
    return str(totp(base64.b32decode(secret), drift=ahead)).zfill(6)


def enrol(page: Page) -> tuple[str, list[str]]:
    """On /account/security/: scan (read the key), type the first code; returns the key and the backup codes."""
    expect(page.locator("#security-state")).to_have_attribute("data-enrolled", "false")
    expect(page.locator("#totp-qr svg")).to_be_visible()
    page.locator(".provisioning summary").click()
    secret = page.locator("#totp-secret").inner_text()
    expect(page.locator("#totp-uri")).to_contain_text(f"secret={secret}")
    screenshot(page, "mfa-enrol")
    page.fill("#enrol-otp", authenticator(secret))
    page.click("#enrol-submit")
    expect(page.locator("#security-state")).to_have_attribute("data-enrolled", "true")
    codes = page.locator("#backup-codes code").all_inner_texts()
    return secret, codes


def password_step(page: Page, username: str, *, path: str = "/") -> None:
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")


def test_enrol_then_sign_in_with_password_and_code_and_a_wrong_code_is_refused(demo_ui, browsing: Browsing):
    page = browsing.log_in()
    page.click("#security-link")
    secret, codes = enrol(page)
    assert len(codes) == 10 == len(set(codes))
    screenshot(page, "mfa-enrolled")
    page.reload()
    expect(page.locator("#backup-codes")).to_have_count(0)  # shown once
    expect(page.locator("#backup-codes-left")).to_have_text("10")
    page.goto("/")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    password_step(page, "trader")
    expect(page).to_have_url(re.compile(r"/accounts/login/code/"))
    expect(page.locator("#code-user")).to_have_text("trader")
    page.goto("/")  # the password alone opens nothing
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))

    password_step(page, "trader")
    right = authenticator(secret, ahead=1)  # the enrolment used this step's code; the next one is accepted
    page.fill("input[name=otp_token]", str((int(right) + 1) % 1_000_000).zfill(6))
    page.click("#code-submit")
    expect(page.locator("#code-errors")).to_contain_text("not right")
    time.sleep(1.2)  # each wrong code makes the device wait (1 s after the first)
    page.fill("input[name=otp_token]", right)
    page.click("#code-submit")
    expect(page.locator("#dashboard")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#connection-status")).to_have_text("live", timeout=WAIT_MS)


def test_a_backup_code_signs_in_when_the_phone_is_away(demo_ui, browsing: Browsing):
    page = browsing.log_in()
    page.goto("/account/security/")
    _, codes = enrol(page)
    page.goto("/")
    page.get_by_role("button", name="Log out").click()
    browsing.log_in(code=codes[4])  # password, then the backup code; the dashboard goes live


def test_operations_enrol_first_and_the_admin_needs_the_code(demo_ui, browsing: Browsing, live_server_process):
    def ops_password() -> None:
        from django.contrib.auth import get_user_model

        ops = get_user_model().objects.get(username="ops")
        ops.set_password(PASSWORD)
        ops.save()

    in_thread(ops_password)
    page = browsing.page
    password_step(page, "ops", path="/admin/")
    # Signed in with the password, but an operations user without a device goes to enrolment first.
    expect(page).to_have_url(re.compile(r"/account/security/\?next=%2Fadmin%2F$"))
    page.goto("/operations/")
    expect(page).to_have_url(re.compile(r"/account/security/\?next=%2Foperations%2F$"))
    secret, _ = enrol(page)
    page.click("#security-continue")
    expect(page).to_have_url(re.compile(r"/operations/$"))
    page.goto("/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto("/admin/risk/killswitch/")
    expect(page.locator("#changelist")).to_be_visible()
    screenshot(page, "mfa-admin-verified")

    # Another browser: the password alone does not open the admin.
    other = browsing.context.browser.new_context(base_url=live_server_process)
    try:
        elsewhere = other.new_page()
        password_step(elsewhere, "ops", path="/admin/")
        expect(elsewhere).to_have_url(re.compile(r"/accounts/login/code/"))
        elsewhere.goto("/admin/")
        expect(elsewhere).to_have_url(re.compile(r"/accounts/login/\?next=%2Fadmin%2F$"))
        expect(elsewhere.locator("#site-name")).to_have_count(0)
        elsewhere.goto("/admin/risk/killswitch/")
        expect(elsewhere.locator("#changelist")).to_have_count(0)
        password_step(elsewhere, "ops", path="/admin/")
        elsewhere.fill("input[name=otp_token]", authenticator(secret, ahead=1))
        elsewhere.click("#code-submit")
        expect(elsewhere.locator("#site-name")).to_be_visible()
    finally:
        other.close()
