"""Session expiry in a real browser: the warning, "Stay signed in", and typed text kept
across an expiry and a new login. Time passes when the test moves the clock (support.Clock:
the server's sessions, the browser's cookies and its scripts' clock together), so no test
waits for a limit; the limits are short all the same, and long enough that the real time a
slow machine takes never reaches them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from apps.bookshelf.models import Book
from apps.bookshelf.tests.factories import BookFactory
from conftest import grant

from .conftest import log_in, watch
from .support import Clock

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


def sign_in_again(page: Page, login: str) -> None:
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_warning_comes_before_the_idle_limit_and_stay_signed_in_keeps_the_session(
    page: Page, live_server, settings, e2e_users
):
    settings.SESSION_COOKIE_AGE = 50
    settings.SESSION_WARNING_SECONDS = 40
    clock = Clock(page)
    log_in(page, live_server.url, "member")
    first_end = clock.session_end()

    clock.move(12)  # into the last 40 seconds
    warning = page.get_by_role("alert").filter(has_text="for inactivity")
    expect(warning).to_contain_text("You'll be signed out in less than a minute for inactivity.")
    warning.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_have_count(0)
    assert clock.session_end() > first_end

    # Past the end the session had before: still signed in (the browser's cookie too).
    clock.move(first_end - clock.now() + 0.5)
    page.goto(f"{live_server.url}/accounts/profile/")
    expect(page).to_have_url(f"{live_server.url}/accounts/profile/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")


def test_typing_survives_an_expired_session_and_comes_back_after_signing_in(
    page: Page, live_server, settings, editor, emma
):
    settings.SESSION_COOKIE_AGE = 60
    settings.SESSION_WARNING_SECONDS = 20
    clock = Clock(page)
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
    clock.move(clock.session_end() - clock.now() + 0.5)
    expired = page.get_by_role("alert").filter(has_text="Your session has expired")
    expect(expired).to_be_visible()
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
    settings.SESSION_COOKIE_AGE = 60
    settings.SESSION_WARNING_SECONDS = 20
    clock = Clock(page)
    log_in(page, live_server.url, "manager")
    edit_page = f"/books/{emma.pk}/edit/"
    page.goto(f"{live_server.url}{edit_page}")
    page.get_by_label("Author").fill("J. Austen")

    clock.move(clock.session_end() - clock.now() + 0.5)
    expect(page.get_by_text("Your session has expired")).to_be_visible()
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
    settings.SESSION_COOKIE_AGE = 60
    clock = Clock(page, scripts=False)
    page.goto(f"{live_server.url}/accounts/login/")
    sign_in_again(page, "manager")
    edit_page = f"/books/{emma.pk}/edit/"
    page.goto(f"{live_server.url}{edit_page}")
    page.get_by_label("Title").fill("Emma (lost)")

    clock.move(clock.session_end() - clock.now() + 0.5)
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
