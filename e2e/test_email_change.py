"""E-mail change by link in a real browser: asked on the profile, confirmed from the mail,
opened in a browser that is not signed in (as a mail app would open it).

The live server runs in this process with the test settings' locmem mail backend, so the
mails it sends are read from ``django.core.mail.outbox``.
"""

from __future__ import annotations

import re

from django.core import mail
from playwright.sync_api import Browser, Page, expect

from .conftest import BrowserProblems, watch
from .pages import fill_login_form, log_in, toast

NEW = "max.new@example.net"


def test_a_new_address_is_confirmed_from_the_link_after_signing_in(
    page: Page, browser: Browser, live_server, e2e_users, browser_problems: BrowserProblems
):
    base = live_server.url
    mail.outbox.clear()
    log_in(page, base, "member")
    page.goto(f"{base}/accounts/profile/")
    email = page.get_by_label("Email address")
    email.fill(NEW)
    page.get_by_role("button", name="Save profile").click()

    expect(toast(page, f"We sent a link to {NEW}")).to_be_visible()
    expect(email).to_have_value("max@example.org")  # not changed yet
    expect(page.get_by_text(f"Waiting for confirmation: {NEW}.")).to_be_visible()
    notice, link_mail = mail.outbox
    assert notice.to == ["max@example.org"]
    assert link_mail.to == [NEW]
    link = re.search(r"http://\S+/accounts/email/confirm/\S+/", link_mail.body).group(0)

    # The mail is opened elsewhere: log in first, then the link's page.
    other = watch(browser.new_context(), browser_problems).new_page()
    other.goto(link)
    expect(other.get_by_role("heading", level=1)).to_have_text("Log in")
    fill_login_form(other, "member")
    expect(other.get_by_role("heading", level=1)).to_have_text("Confirm your new email address")
    expect(other.get_by_text(NEW)).to_be_visible()
    other.get_by_role("button", name="Confirm new address").click()

    expect(other).to_have_url(f"{base}/accounts/profile/")
    expect(toast(other, f"Your email address is now {NEW}.")).to_be_visible()
    expect(other.get_by_label("Email address")).to_have_value(NEW)

    # Used once: the same link now says so.
    other.goto(link)
    expect(other.get_by_role("alert")).to_contain_text("This link no longer works")
    page.reload()
    expect(page.get_by_text("Waiting for confirmation")).to_have_count(0)
