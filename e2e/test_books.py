"""The book list in a real browser: search, create, inline edit, submit, delete, refusals."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.accounts.tests.factories import UserFactory
from apps.bookshelf.models import Book
from apps.bookshelf.tests.factories import BookFactory
from conftest import grant

from .conftest import log_in
from .support import SCREENSHOTS, book_manager

SCREENSHOT = SCREENSHOTS / "books.png"


@pytest.fixture
def catalogue(transactional_db):
    now = timezone.now()
    BookFactory(title="Dune", author="Frank Herbert", publication_year=1965)
    for title, author, year in [
        ("Neuromancer", "William Gibson", 1984),
        ("The Left Hand of Darkness", "Ursula K. Le Guin", 1969),
        ("Emma", "Jane Austen", 1815),
        ("Middlemarch", "George Eliot", 1871),
    ]:
        BookFactory(
            title=title, author=author, publication_year=year, is_published=True, published_at=now
        )


@pytest.fixture
def managing_editor(transactional_db):
    """Edits, publishes and deletes: the whole flow of the issue in one person."""
    return book_manager("manager", "Mia", "Manager")


@pytest.fixture
def reader(transactional_db):
    return grant(UserFactory(username="reader", first_name="Rea"), "bookshelf.view_book")


def row(page: Page, title: str):
    return page.locator("#book-rows tr, #book-new-slot tr").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )


def open_menu(page: Page, title: str) -> None:
    page.get_by_role("button", name=f"Actions for {title}").click()


def test_editor_searches_creates_edits_submits_and_deletes(
    page: Page, live_server, catalogue, managing_editor
):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server.url, "manager")
    page.get_by_role("link", name="Books", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Books")
    expect(page.locator("#book-rows tr")).to_have_count(5)
    page.screenshot(path=str(SCREENSHOT))

    # Search as you type: the table and the URL follow.
    page.get_by_role("searchbox", name="Search books").press_sequentially("herbert", delay=40)
    expect(page).to_have_url(re.compile(r"/books/\?q=herbert"))
    expect(page.locator("#book-rows tr")).to_have_count(1)
    expect(row(page, "Dune")).to_be_visible()

    # Create: a form row opens at the top; the saved book replaces it, highlighted.
    page.get_by_role("link", name="+ New book").click()
    new_row = page.locator("#book-new")
    expect(new_row.get_by_label("Title")).to_be_focused()
    new_row.get_by_label("Title").fill("Solaris")
    new_row.get_by_label("Author").fill("Stanisław Lem")
    new_row.get_by_label("ISBN").fill("978-0-15-602760-1")
    new_row.get_by_label("Publication year").fill("1961")
    new_row.get_by_role("button", name="Add book").click()
    expect(page.get_by_role("status").filter(has_text="Book added")).to_be_visible()
    expect(row(page, "Solaris")).to_have_class("row-highlight")
    assert Book.objects.get(title="Solaris").isbn == "9780156027601"

    # Inline edit with a validation error first, then a good value.
    open_menu(page, "Solaris")
    page.get_by_role("link", name="Edit").click()
    edit_form = page.locator("form[data-inline-edit]")
    edit_form.get_by_label("Publication year").fill("1200")
    edit_form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("greater than or equal to 1450")).to_be_visible()
    expect(edit_form.get_by_label("Publication year")).to_be_focused()
    edit_form.get_by_label("Publication year").fill("1961")
    edit_form.get_by_label("Title").fill("Solaris (1961)")
    edit_form.get_by_role("button", name="Save").click()
    expect(row(page, "Solaris (1961)")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Book saved")).to_be_visible()

    # Submit it for review from the row menu; nobody approves their own submission.
    open_menu(page, "Solaris (1961)")
    page.get_by_role("button", name="Submit for review").click()
    expect(row(page, "Solaris (1961)").get_by_text("In review")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Submitted for review")).to_be_visible()
    open_menu(page, "Solaris (1961)")
    expect(page.get_by_role("button", name="Withdraw from review")).to_be_visible()
    expect(page.get_by_role("button", name="Approve and publish")).to_have_count(0)
    page.keyboard.press("Escape")

    # Delete: an inline confirmation, then the row goes.
    open_menu(page, "Solaris (1961)")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_text("Delete “Solaris (1961)”? This cannot be undone.")).to_be_visible()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(row(page, "Solaris (1961)")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="deleted")).to_be_visible()
    assert not Book.objects.filter(title__startswith="Solaris").exists()


def test_escape_cancels_an_inline_edit(page: Page, live_server, catalogue, managing_editor):
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/books/")
    open_menu(page, "Emma")
    page.get_by_role("link", name="Edit").click()
    title = page.locator("form[data-inline-edit]").get_by_label("Title")
    title.fill("Not saved")
    title.press("Escape")
    expect(row(page, "Emma")).to_be_visible()
    expect(page.locator("form[data-inline-edit]")).to_have_count(0)
    assert Book.objects.get(title="Emma").version == 1


def test_back_and_reload_keep_the_search_and_sort(page: Page, live_server, catalogue):
    page.goto(f"{live_server.url}/books/")
    page.get_by_role("link", name="Year").click()
    expect(page).to_have_url(re.compile(r"sort=year"))
    expect(page.locator("#book-rows tr").first).to_contain_text("Emma")
    page.get_by_role("link", name="Year ▲").click()
    expect(page).to_have_url(re.compile(r"sort=-year"))
    expect(page.locator("#book-rows tr").first).to_contain_text("Neuromancer")
    page.go_back()
    expect(page).to_have_url(re.compile(r"sort=year$"))
    expect(page.locator("#book-rows tr").first).to_contain_text("Emma")
    page.reload()
    expect(page.locator("#book-rows tr").first).to_contain_text("Emma")


def test_reader_sees_no_edit_controls_and_a_crafted_post_is_refused(
    page: Page, live_server, catalogue, reader
):
    log_in(page, live_server.url, "reader")
    page.goto(f"{live_server.url}/books/")
    expect(page.locator("#book-rows tr")).to_have_count(4)  # the draft is hidden
    expect(page.get_by_role("button", name=re.compile("^Actions for"))).to_have_count(0)
    expect(page.get_by_role("link", name="+ New book")).to_have_count(0)

    emma = Book.objects.get(title="Emma")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/books/{emma.pk}/delete/",
        form={"csrfmiddlewaretoken": token},
    )
    assert response.status == 403
    assert Book.objects.filter(pk=emma.pk).exists()


def test_a_refused_htmx_action_shows_a_toast_not_an_error_page(
    page: Page, live_server, catalogue, managing_editor, browser_problems
):
    dune = Book.objects.get(title="Dune")
    Book.objects.filter(pk=dune.pk).update(
        is_in_review=True, submitted_at=timezone.now(), submitted_by=UserFactory()
    )
    # The 403 is the point of this test; Chromium logs any 4xx it receives.
    browser_problems.expected_error_urls.add(f"{live_server.url}/books/{dune.pk}/approve/")
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/books/")
    # Permission withdrawn while the page is open: the button is stale, the server says no.
    managing_editor.user_permissions.filter(codename="can_publish_book").delete()
    open_menu(page, "Dune")
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.get_by_role("alert")).to_contain_text("You don't have permission to approve books.")
    expect(page.locator("#book-rows tr")).to_have_count(5)
    expect(page.get_by_role("heading", level=1)).to_have_text("Books")


# The fastest possible user: puts focus in a field of the new row the moment it is inserted.
# A MutationObserver callback is a microtask, so it always runs before htmx's settle timer;
# a person clicking into the field, a password manager or a test driver can be just as quick.
FOCUS_ON_ARRIVAL = """([container, selector]) => {
  new MutationObserver((records, observer) => {
    const field = document.querySelector(selector);
    if (!field) return;
    field.focus();
    if (field.select) field.select();
    observer.disconnect();
  }).observe(document.querySelector(container), {childList: true, subtree: true});
}"""


FIELDS = {
    "Title": "title",
    "Author": "author",
    "ISBN": "isbn",
    "Publication year": "publication_year",
    "Description": "description",
}


def open_list_focusing_on_arrival(page: Page, base_url: str, container: str, field: str):
    """The book list as "manager", with ``field`` focused the instant it appears in
    ``container`` (see FOCUS_ON_ARRIVAL)."""
    log_in(page, base_url, "manager")
    page.goto(f"{base_url}/books/")
    page.evaluate(FOCUS_ON_ARRIVAL, [container, field])


def type_where_focused(page: Page, field, text: str) -> None:
    """Keystrokes go wherever focus is, spread over longer than htmx's settle delay; focus
    must be in ``field`` before and after."""
    expect(field).to_be_focused()
    page.keyboard.type(text, delay=50)
    expect(field).to_be_focused()


def form_values(form) -> dict[str, str]:
    return {label: form.locator(f"[name={name}]").input_value() for label, name in FIELDS.items()}


def test_focus_placed_in_an_edit_row_at_once_is_never_moved(
    page: Page, live_server, catalogue, managing_editor
):
    """Focus is set once, when the row arrives, and never taken from where the user put it
    (it used to jump to Title after htmx's settle delay: "1200" landed in the title)."""
    emma = Book.objects.get(title="Emma")
    open_list_focusing_on_arrival(
        page, live_server.url, "#book-rows", "form[data-inline-edit] [name=publication_year]"
    )
    open_menu(page, "Emma")
    page.get_by_role("link", name="Edit").click()
    form = page.locator("form[data-inline-edit]")
    type_where_focused(page, form.get_by_label("Publication year"), "1200")
    assert form_values(form) == {
        "Title": "Emma",
        "Author": "Jane Austen",
        "ISBN": emma.isbn or "",
        "Publication year": "1200",
        "Description": "",
    }
    page.keyboard.press("Enter")
    expect(form.get_by_text("greater than or equal to 1450")).to_be_visible()
    expect(form.get_by_label("Publication year")).to_be_focused()
    emma.refresh_from_db()
    assert (emma.title, emma.publication_year, emma.version) == ("Emma", 1815, 1)


def test_focus_placed_in_the_new_book_row_at_once_is_never_moved(
    page: Page, live_server, catalogue, managing_editor
):
    open_list_focusing_on_arrival(
        page, live_server.url, "#book-new-slot", "#book-new [name=author]"
    )
    page.get_by_role("link", name="+ New book").click()
    form = page.locator("#book-new form")
    type_where_focused(page, form.get_by_label("Author"), "Ursula")
    assert form_values(form) == {
        "Title": "",
        "Author": "Ursula",
        "ISBN": "",
        "Publication year": "",
        "Description": "",
    }


def test_moving_to_cancel_in_the_delete_confirmation_at_once_cancels(
    page: Page, live_server, catalogue, managing_editor
):
    """The confirmation focuses Delete; a user who moves to Cancel straight away and presses
    Enter cancels. (With autofocus, htmx took focus back to Delete after its settle delay,
    and that Enter deleted the book.)"""
    delete_form = "#book-rows form[action$='/delete/']"
    open_list_focusing_on_arrival(
        page, live_server.url, "#book-rows", f"{delete_form} [data-cancel]"
    )
    open_menu(page, "Emma")
    page.get_by_role("link", name="Delete…").click()
    cancel = page.locator(delete_form).get_by_role("link", name="Cancel")
    expect(cancel).to_be_focused()
    page.wait_for_timeout(100)  # past htmx's settle delay (20 ms)
    expect(cancel).to_be_focused()
    page.keyboard.press("Enter")
    expect(row(page, "Emma")).to_be_visible()
    expect(page.locator(delete_form)).to_have_count(0)
    assert Book.objects.filter(title="Emma").exists()


def test_the_delete_confirmation_focuses_delete(
    page: Page, live_server, catalogue, managing_editor
):
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/books/")
    open_menu(page, "Emma")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("button", name="Delete", exact=True)).to_be_focused()
