"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools' WebAuthn domain)
plays the phone or security key. A member adds a passkey on the two-factor page, makes the
recovery codes it asks for, logs out, and gets back in with the password and the passkey;
without JavaScript the second step hides the passkey button and takes a recovery code.

The live server is http://localhost:<port>: a secure context for the browser, and a host
name it accepts as the relying party (it refuses an IP address such as 127.0.0.1)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, CDPSession, Page, expect

from .conftest import BrowserProblems, watch
from .pages import assert_no_sideways_scroll, fill_login_form, log_in, log_out
from .support import PHONE


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator that stores passkeys and verifies its user (as a phone's
    fingerprint reader does) without asking anyone."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def test_a_member_adds_a_passkey_and_logs_in_with_it(
    page: Page, live_server, e2e_users, browser_problems: BrowserProblems
):
    base = live_server.url
    cdp, authenticator = virtual_authenticator(page)
    log_in(page, base, "member")

    page.goto(f"{base}/accounts/two-factor/")
    page.get_by_role("button", name="Add a passkey or security key").click()
    # Back on the overview (passkeys.js), with the passkey listed and the codes asked for.
    factors = page.locator("#factors")
    expect(factors).to_contain_text("Passkey")
    expect(factors).to_contain_text("Passkey or security key")
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1
    page.get_by_role("button", name="Make your recovery codes").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name=re.compile("continue")).click()
    expect(page.locator("#codes-left")).to_have_text("10 unused recovery codes left.")

    # Out, and in again: the password, then the passkey.
    log_out(page, base, "member")
    page.goto(f"{base}/accounts/login/?next=/accounts/sessions/")
    fill_login_form(page, "member")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    page.get_by_role("button", name="Use a passkey or security key").click()
    expect(page).to_have_url(f"{base}/accounts/sessions/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your sessions")

    # The passkey says when it was last used.
    page.goto(f"{base}/accounts/two-factor/")
    expect(factors).to_contain_text("last used")


def test_without_javascript_the_second_step_takes_a_recovery_code(
    browser: Browser, live_server, e2e_users, browser_problems: BrowserProblems
):
    from django_otp_webauthn.models import WebAuthnCredential

    from apps.accounts.two_factor import recovery_codes_generate

    member = e2e_users["member"]
    # A passkey as one made elsewhere (never used here: no browser could answer for it).
    WebAuthnCredential.objects.create(
        user=member, name="Phone", credential_id=b"\x01" * 32, public_key=b"\x02" * 77
    )
    code = recovery_codes_generate(user=member)[0]
    page = watch(
        browser.new_context(**PHONE, java_script_enabled=False), browser_problems
    ).new_page()
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    fill_login_form(page, "member")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    # No passkey button to press in vain: it appears only when the script runs.
    expect(page.get_by_role("button", name="Use a passkey or security key")).to_have_count(0)
    assert_no_sideways_scroll(page)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{base}/accounts/two-factor/")  # told to renew what they used
    expect(page.locator("#factors")).to_contain_text("Phone")
    expect(page.get_by_role("button", name="Add a passkey or security key")).to_have_count(0)
    assert_no_sideways_scroll(page)
