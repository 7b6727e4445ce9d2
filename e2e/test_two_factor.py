"""Two-factor authentication in a real browser, as the demo's role admin meets it: sent to
enrolment on the way to /roles/, enrols an authenticator (codes computed from the key the
page shows, as a phone would), gets back in with a code, and with a recovery code once."""

from __future__ import annotations

import re

from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from .conftest import BrowserProblems, watch
from .pages import (
    assert_no_sideways_scroll,
    fill_login_form,
    fill_second_factor,
    log_out,
    totp_code,
)
from .support import PHONE

PASSWORD = settings.DEMO_PASSWORD


def key_shown(page: Page) -> str:
    """The key in hex, from the base32 text the page shows for typing into an app."""
    from base64 import b32decode

    text = page.locator("#totp-secret").inner_text().replace(" ", "")
    return b32decode(text).hex()


def test_roleadmin_enrols_on_the_way_to_roles_then_logs_in_with_codes(
    page: Page, live_server, demo_site, browser_problems: BrowserProblems
):
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    fill_login_form(page, "roleadmin", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    # The first visit to a privileged page: enrolment, with the reason.
    page.goto(f"{base}/roles/")
    expect(page).to_have_url(f"{base}/accounts/two-factor/?next=%2Froles%2F")
    expect(page.locator("#two-factor-required")).to_contain_text("needs a second factor")
    page.get_by_role("link", name="Add an authenticator app").click()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth > 0", qr.element_handle())
    key = key_shown(page)

    # A wrong code first: a clear error, still on the page.
    wrong = f"{(int(totp_code(key)) + 500_000) % 1_000_000:06d}"
    page.get_by_label("Code from the app").fill(wrong)
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("That code does not match")).to_be_visible()
    page.get_by_label("Code from the app").fill(totp_code(key))
    page.get_by_role("button", name="Turn on").click()

    # Recovery codes, shown once; then on to where they were going.
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text()
    page.get_by_role("link", name=re.compile("continue")).click()
    expect(page).to_have_url(f"{base}/roles/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Roles")

    # Out, and in again with the password and the app's next code.
    log_out(page, base, "roleadmin")
    page.goto(f"{base}/accounts/login/?next=/roles/")
    fill_login_form(page, "roleadmin", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    expect(page.get_by_label("Code")).to_be_focused()
    # The code that turned the app on is spent: the phone shows the next one.
    fill_second_factor(page, totp_code(key, steps_ahead=1))
    expect(page).to_have_url(f"{base}/roles/")

    # A recovery code works once.
    log_out(page, base, "roleadmin")
    fill_login_form(page, "roleadmin", PASSWORD)
    fill_second_factor(page, recovery)
    expect(page).to_have_url(f"{base}/accounts/two-factor/")  # told to make new ones
    expect(page.get_by_text("You used a recovery code; 9 are left.")).to_be_visible()
    log_out(page, base, "roleadmin")
    fill_login_form(page, "roleadmin", PASSWORD)
    fill_second_factor(page, recovery)
    expect(page.get_by_text("That code is not right, or was used already.")).to_be_visible()


def test_enrolment_fits_a_phone_and_works_without_javascript(
    browser: Browser, live_server, demo_site, browser_problems: BrowserProblems
):
    base = live_server.url
    page = watch(
        browser.new_context(**PHONE, java_script_enabled=False), browser_problems
    ).new_page()
    page.goto(f"{base}/accounts/login/")
    fill_login_form(page, "member", PASSWORD)
    page.goto(f"{base}/accounts/two-factor/")
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="Add an authenticator app").click()
    assert_no_sideways_scroll(page)
    key = key_shown(page)
    page.get_by_label("Name").fill("My phone")
    page.get_by_label("Code from the app").fill(totp_code(key))
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name=re.compile("continue")).click()
    expect(page.locator("#factors")).to_contain_text("My phone")
    assert_no_sideways_scroll(page)
