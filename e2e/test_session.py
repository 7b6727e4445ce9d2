"""Session expiry in a real browser: the warning, "Stay signed in", and typed text kept
across an expiry and a new login. The idle limit is shortened to a few seconds per test."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Page, expect
from qsessions.models import Session

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from apps.bookshelf.models import Book
from apps.bookshelf.tests.factories import BookFactory
from conftest import grant

from .conftest import log_in, watch

EXPIRED = "Your session expired; sign in again to continue."
NOT_SAVED = "Your last change was not saved."


@pytest.fixture
def editor(transactional_db):
    user = UserFactory(username="manager", first_name="Mia")
    return grant(user, "bookshelf.view_book", "bookshelf.add_book", "bookshelf.change_book")


@pytest.fixture
def emma(transactional_db):
    BookFactory(title="Dune", author="Frank Herbert", publication_year=1965)
    return BookFactory(title="Emma", author="Jane Austen", publication_year=1815)


def session_end(page: Page) -> float:
    """When the server forgets the browser's session (epoch seconds)."""
    key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    return Session.objects.get(session_key=key).expire_date.timestamp()


def sign_in_again(page: Page, login: str) -> None:
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_warning_comes_before_the_idle_limit_and_stay_signed_in_keeps_the_session(
    page: Page, live_server, settings, e2e_users
):
    settings.SESSION_COOKIE_AGE = 8
    settings.SESSION_WARNING_SECONDS = 6
    log_in(page, live_server.url, "member")
    first_end = session_end(page)

    warning = page.get_by_role("alert").filter(has_text="for inactivity")
    expect(warning).to_contain_text("You'll be signed out in less than a minute for inactivity.")
    warning.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_have_count(0)
    assert session_end(page) > first_end

    # Past the end the session had before: still signed in (the browser's cookie too).
    page.wait_for_timeout(max(0, first_end - time.time() + 0.5) * 1000)
    page.goto(f"{live_server.url}/accounts/profile/")
    expect(page).to_have_url(f"{live_server.url}/accounts/profile/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")


def test_typing_survives_an_expired_session_and_comes_back_after_signing_in(
    page: Page, live_server, settings, editor, emma
):
    settings.SESSION_COOKIE_AGE = 6
    settings.SESSION_WARNING_SECONDS = 2
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/books/?q=e")

    # An edit row and a new-book row, both typed into.
    page.get_by_role("button", name="Actions for Emma").click()
    page.get_by_role("link", name="Edit").click()
    edit_form = page.locator(f"#book-{emma.pk} form[data-inline-edit]")
    edit_form.get_by_label("Title").fill("Emma (kept)")
    edit_form.get_by_label("Publication year").fill("1816")
    page.get_by_role("link", name="+ New book").click()
    new_form = page.locator("#book-new form")
    new_form.get_by_label("Title").fill("Solaris")
    new_form.get_by_label("Author").fill("Stanisław Lem")

    # The idle limit passes; the page says so, and Save leads to the login page.
    expired = page.get_by_role("alert").filter(has_text="Your session has expired")
    expect(expired).to_be_visible(timeout=15_000)
    # Really over: the browser has dropped the session cookie (it lives as long as the idle
    # limit), so the page's clock did not call it early.
    assert "sessionid" not in {cookie["name"] for cookie in page.context.cookies()}
    edit_form.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/books/%3Fq%3De")
    expect(page.get_by_text(EXPIRED)).to_be_visible()
    expect(page.get_by_text(NOT_SAVED)).to_be_visible()
    expect(page.get_by_text("We kept what you typed: it will be back")).to_be_visible()
    assert Book.objects.get(pk=emma.pk).title == "Emma"

    settings.SESSION_COOKIE_AGE = 3600  # time enough to finish
    sign_in_again(page, "manager")
    expect(page).to_have_url(f"{live_server.url}/books/?q=e")
    # Each row's form has ids of its own, so its labels find its own fields.
    edit_form = page.locator(f"#book-{emma.pk} form[data-inline-edit]")
    expect(edit_form.get_by_label("Title")).to_have_value("Emma (kept)")
    expect(edit_form.locator("[name=title]")).to_have_value("Emma (kept)")
    expect(edit_form.locator("[name=publication_year]")).to_have_value("1816")
    expect(edit_form.locator("[name=title]")).to_be_focused()
    new_form = page.locator("#book-new form")
    expect(new_form.get_by_label("Title")).to_have_value("Solaris")
    expect(new_form.get_by_label("Author")).to_have_value("Stanisław Lem")
    kept = page.get_by_role("status").filter(has_text="We kept what you typed; press Save.")
    expect(kept).to_be_visible()

    edit_form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Emma (kept)", exact=True)).to_be_visible()
    emma.refresh_from_db()
    assert (emma.title, emma.publication_year) == ("Emma (kept)", 1816)
    # Kept once: a reload does not bring the text back again.
    page.reload()
    expect(page.locator("form[data-inline-edit]")).to_have_count(0)


def test_a_plain_form_keeps_its_typing_across_an_expiry_too(
    page: Page, live_server, settings, editor, emma
):
    """The edit page posts without htmx: the text is kept when the form is sent and given
    back only if the post was refused (the next page is the login page)."""
    settings.SESSION_COOKIE_AGE = 4
    settings.SESSION_WARNING_SECONDS = 1
    log_in(page, live_server.url, "manager")
    edit_page = f"/books/{emma.pk}/edit/"
    page.goto(f"{live_server.url}{edit_page}")
    page.get_by_label("Author").fill("J. Austen")

    expect(page.get_by_text("Your session has expired")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/books/{emma.pk}/edit/")
    expect(page.get_by_text("We kept what you typed: it will be back")).to_be_visible()

    settings.SESSION_COOKIE_AGE = 3600
    sign_in_again(page, "manager")
    expect(page).to_have_url(f"{live_server.url}{edit_page}")
    expect(page.get_by_label("Author")).to_have_value("J. Austen")
    expect(page.get_by_role("status")).to_contain_text("We kept what you typed; press Save.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Book saved")).to_be_visible()
    assert Book.objects.get(pk=emma.pk).author == "J. Austen"


def test_without_javascript_the_login_page_says_the_change_was_not_saved(
    browser: Browser, live_server, settings, editor, emma, browser_problems
):
    context = watch(browser.new_context(java_script_enabled=False), browser_problems)
    page = context.new_page()
    settings.SESSION_COOKIE_AGE = 4
    page.goto(f"{live_server.url}/accounts/login/")
    sign_in_again(page, "manager")
    edit_page = f"/books/{emma.pk}/edit/"
    page.goto(f"{live_server.url}{edit_page}")
    page.get_by_label("Title").fill("Emma (lost)")

    page.wait_for_timeout(max(0, session_end(page) - time.time() + 0.5) * 1000)
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/books/{emma.pk}/edit/")
    expect(page.get_by_text(EXPIRED)).to_be_visible()
    expect(page.get_by_text(NOT_SAVED)).to_be_visible()
    expect(page.get_by_text("We kept what you typed")).to_be_hidden()  # nothing kept it

    settings.SESSION_COOKIE_AGE = 3600
    sign_in_again(page, "manager")
    expect(page).to_have_url(f"{live_server.url}{edit_page}")
    expect(page.get_by_label("Title")).to_have_value("Emma")
    assert Book.objects.get(pk=emma.pk).title == "Emma"
    context.close()
