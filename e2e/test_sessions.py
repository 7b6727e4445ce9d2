"""The sessions page in real browsers: one browser signs another out, on a phone, with the
keyboard, and without JavaScript."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from .conftest import BrowserProblems, watch
from .pages import assert_no_sideways_scroll, htmx_settled, log_in, scripts_ready, toast
from .support import PHONE

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def test_a_browser_signs_another_out_by_keyboard_and_focus_lands_on_the_heading(
    page: Page, browser: Browser, live_server, e2e_users, browser_problems: BrowserProblems
):
    base = live_server.url
    phone = watch(browser.new_context(**PHONE, user_agent=IPHONE_UA), browser_problems).new_page()
    log_in(phone, base, "member")
    log_in(page, base, "member")

    page.goto(f"{base}/accounts/sessions/")
    scripts_ready(page)
    rows = page.locator("#sessions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="This session")).to_have_count(1)
    other = rows.filter(has_text="iPhone")
    expect(other).to_contain_text("Mobile Safari 18.0")

    # With the keyboard: the other session's "Sign out", then Enter.
    other.get_by_role("button", name="Sign out").focus()
    page.keyboard.press("Enter")
    expect(toast(page, "That session is signed out.")).to_be_visible()
    expect(rows).to_have_count(1)
    # Nobody else to sign out: the button for "everywhere else" went with the last row.
    expect(page.get_by_role("button", name="Sign out everywhere else")).to_have_count(0)
    htmx_settled(page)
    # The row went: focus is on the page's heading, not lost to <body>.
    expect(page.get_by_role("heading", name="Your sessions")).to_be_focused()

    # The phone's next request is anonymous: to the login page.
    phone.goto(f"{base}/accounts/profile/")
    expect(phone).to_have_url(f"{base}/accounts/login/?next=/accounts/profile/")


def test_the_sessions_page_fits_a_phone_and_works_without_javascript(
    browser: Browser, live_server, e2e_users, browser_problems: BrowserProblems
):
    base = live_server.url
    laptop = watch(browser.new_context(), browser_problems).new_page()
    log_in(laptop, base, "member")
    phone = watch(
        browser.new_context(**PHONE, user_agent=IPHONE_UA, java_script_enabled=False),
        browser_problems,
    ).new_page()
    log_in(phone, base, "member")
    phone.goto(f"{base}/accounts/sessions/")
    expect(phone.locator("#sessions tbody tr")).to_have_count(2)
    assert_no_sideways_scroll(phone)

    # Without JavaScript: a plain form post and a redirect back to the list.
    phone.get_by_role("button", name="Sign out everywhere else").click()
    expect(phone.get_by_text("Signed out of 1 other session.")).to_be_visible()
    expect(phone.locator("#sessions tbody tr")).to_have_count(1)
    laptop.goto(f"{base}/accounts/profile/")
    expect(laptop).to_have_url(f"{base}/accounts/login/?next=/accounts/profile/")
