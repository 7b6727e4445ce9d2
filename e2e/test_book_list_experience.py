"""The book list as a keyboard user, a phone user and a user without JavaScript meet it.

Each test names the defect of issue 10 it guards: one #book-table after every swap, focus
never lost to <body>, no sideways scroll at 390 px, actions without JavaScript, long titles,
visible focus rings, conflicts without console errors, refusals that say who got there first.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from apps.bookshelf.models import Book
from apps.bookshelf.tests.factories import BookFactory

from .conftest import log_in, watch
from .pages import assert_no_sideways_scroll, htmx_settled
from .support import LAPTOP_SIZE, PHONE_SIZE, SCREENSHOTS, book_manager
from .test_books import row

PHONE_SCREENSHOT = SCREENSHOTS / "books-phone.png"


@pytest.fixture
def shelf(transactional_db):
    """Thirty published books (two pages) and one draft."""
    now = timezone.now()
    for n in range(30):
        BookFactory(
            title=f"Book {n:02d}", author=f"Author {n:02d}", is_published=True, published_at=now
        )
    BookFactory(title="A Draft", author="Someone")


@pytest.fixture
def editor_in_chief(transactional_db):
    return book_manager("chief", "Chloe", "Chief")


def open_menu(page: Page, title: str) -> None:
    """Open a row's ⋯ menu (and check it opened here, rather than leading to the book's
    page as it does before the scripts run)."""
    menu = page.get_by_role("button", name=f"Actions for {title}", exact=True)
    expect(page.locator("html.js")).to_have_count(1)
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")


def active_element(page: Page) -> str:
    """The focused element, described: tag, id, aria-label, text."""
    return page.evaluate(
        """() => { const e = document.activeElement;
        return [e.tagName, e.id, e.getAttribute('aria-label') || '',
                (e.textContent || '').trim().slice(0, 40)].join('|'); }"""
    )


def assert_focus_on(page: Page, locator) -> None:
    expect(locator).to_be_focused()
    assert not page.evaluate("() => document.activeElement === document.body")
    htmx_settled(page)


def assert_within_viewport(page: Page, locator) -> None:
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None, "not rendered"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"cut off: {box}"


# --- 1. One #book-table, whatever the swaps ------------------------------------------------


def test_the_table_never_nests_after_search_sort_and_paging(
    page: Page, live_server, shelf, editor_in_chief
):
    log_in(page, live_server.url, "chief")
    page.goto(f"{live_server.url}/books/")
    tables = page.locator("#book-table")
    status = page.locator("#book-results")
    expect(status).to_have_text("31 books, page 1 of 2")

    page.get_by_label("Search books").fill("Book 19")
    expect(row(page, "Book 19")).to_be_visible()
    expect(row(page, "Book 20")).to_have_count(0)
    expect(tables).to_have_count(1)
    expect(status).to_have_text("1 book")

    page.get_by_label("Search books").fill("")
    expect(status).to_have_text("31 books, page 1 of 2")
    page.get_by_role("link", name="Author").click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_text(re.compile("Author"))
    expect(tables).to_have_count(1)

    page.get_by_role("link", name="Next").click()
    expect(status).to_have_text("31 books, page 2 of 2")
    expect(tables).to_have_count(1)
    # One live region for the results, outside what is swapped (so it is announced).
    expect(page.locator("#book-results")).to_have_count(1)
    expect(page.locator("#book-table [aria-live], #book-table [role=status]")).to_have_count(0)


# --- 2. Focus after every swap ----------------------------------------------------------------


def test_focus_follows_every_row_swap_and_never_falls_to_body(
    page: Page, live_server, shelf, editor_in_chief
):
    log_in(page, live_server.url, "chief")
    page.goto(f"{live_server.url}/books/?q=Book 0")
    menu = page.get_by_role("button", name="Actions for Book 03")

    # Save: back on the saved row's menu button.
    open_menu(page, "Book 03")
    page.get_by_role("link", name="Edit").click()
    title = page.locator("form[data-inline-edit]").get_by_label("Title")
    assert_focus_on(page, title)
    title.fill("Book 03 revised")
    title.press("Enter")
    assert_focus_on(page, page.get_by_role("button", name="Actions for Book 03 revised"))

    # Cancel, by Escape and by the Cancel button.
    menu = page.get_by_role("button", name="Actions for Book 03 revised")
    menu.press("Enter")
    page.get_by_role("link", name="Edit").press("Enter")
    assert_focus_on(page, page.locator("form[data-inline-edit]").get_by_label("Title"))
    page.keyboard.press("Escape")
    assert_focus_on(page, menu)
    menu.press("Enter")
    page.get_by_role("link", name="Edit").press("Enter")
    assert_focus_on(page, page.locator("form[data-inline-edit]").get_by_label("Title"))
    page.locator("form[data-inline-edit]").get_by_role("link", name="Cancel").press("Enter")
    assert_focus_on(page, menu)

    # A row action from the menu: on the same row's menu, which offers the next step.
    menu.press("Enter")
    page.get_by_role("button", name="Unpublish").press("Enter")
    expect(row(page, "Book 03 revised").get_by_text("Draft")).to_be_visible()
    assert_focus_on(page, menu)

    # Delete: the next row's menu.
    menu.press("Enter")
    page.get_by_role("link", name="Delete…").press("Enter")
    assert_focus_on(page, page.get_by_role("button", name="Delete", exact=True))
    page.keyboard.press("Enter")
    expect(row(page, "Book 03 revised")).to_have_count(0)
    assert_focus_on(page, page.get_by_role("button", name="Actions for Book 04"))

    # Escape in the new-book row: back to the button that opened it.
    new_book = page.get_by_role("link", name="+ New book")
    new_book.press("Enter")
    new_title = page.locator("#book-new").get_by_label("Title")
    assert_focus_on(page, new_title)
    new_title.press("Escape")
    expect(page.locator("#book-new")).to_have_count(0)
    assert_focus_on(page, new_book)


def test_the_menu_button_opens_with_space_as_a_button_does(
    page: Page, live_server, shelf, editor_in_chief
):
    log_in(page, live_server.url, "chief")
    page.goto(f"{live_server.url}/books/?q=Book 05")
    menu = page.get_by_role("button", name="Actions for Book 05")
    menu.focus()
    page.keyboard.press(" ")
    expect(page.get_by_role("link", name="Edit")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/books/\?q="))  # stayed on the list


# --- 3. Phones ----------------------------------------------------------------------------------


def test_at_390_px_nothing_scrolls_sideways_and_every_control_is_reachable(
    page: Page, live_server, shelf, editor_in_chief
):
    page.set_viewport_size(PHONE_SIZE)
    log_in(page, live_server.url, "chief")
    page.goto(f"{live_server.url}/books/")
    assert_no_sideways_scroll(page)
    page.screenshot(path=str(PHONE_SCREENSHOT))  # README's phone picture
    menu = page.get_by_role("button", name="Actions for Book 00")
    assert_within_viewport(page, menu)
    assert_within_viewport(page, page.get_by_role("link", name="Next"))
    assert_within_viewport(page, page.get_by_role("button", name="Search"))

    menu.click()
    edit = page.get_by_role("link", name="Edit")
    assert_within_viewport(page, edit)
    edit.click()
    form = page.locator("form[data-inline-edit]")
    for label in ("Title", "Author", "ISBN", "Publication year", "Description"):
        assert_within_viewport(page, form.get_by_label(label))
    assert_within_viewport(page, form.get_by_role("button", name="Save"))
    assert_no_sideways_scroll(page)
    form.get_by_label("Title").press("Escape")

    page.get_by_role("link", name="+ New book").click()
    new = page.locator("#book-new")
    for label in ("Title", "Author", "Publication year"):
        assert_within_viewport(page, new.get_by_label(label))
    assert_no_sideways_scroll(page)

    for path in ("/books/?status=draft", f"/books/{Book.objects.get(title='Book 00').pk}/"):
        page.goto(f"{live_server.url}{path}")
        assert_no_sideways_scroll(page)


# --- 5. Without JavaScript ----------------------------------------------------------------------


def test_without_javascript_the_menu_leads_to_every_action_and_edits_return_to_the_book(
    browser: Browser, live_server, shelf, editor_in_chief, browser_problems
):
    context = watch(browser.new_context(java_script_enabled=False), browser_problems)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or email").fill("chief")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/books/?q=Book 07")
    page.get_by_role("button", name="Actions for Book 07").click()
    book = Book.objects.get(title="Book 07")
    expect(page).to_have_url(f"{live_server.url}{book.get_absolute_url()}")
    page.get_by_role("button", name="Unpublish").click()
    expect(page.get_by_text("Book unpublished; it is a draft again")).to_be_visible()
    assert not Book.objects.get(pk=book.pk).is_published

    # The edit page saves and returns to the book, not to the form.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Book 07, edited without JavaScript")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{live_server.url}{book.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book 07, edited without JavaScript")
    context.close()


# --- 7. A 200-character title ----------------------------------------------------------------


def test_a_long_unbroken_title_wraps_and_keeps_the_columns(
    page: Page, live_server, shelf, editor_in_chief
):
    BookFactory(title="W" * 200, author="Long", is_published=True, published_at=timezone.now())
    log_in(page, live_server.url, "chief")
    for size in (LAPTOP_SIZE, PHONE_SIZE):
        page.set_viewport_size(size)
        page.goto(f"{live_server.url}/books/?q=WWWW")
        assert_no_sideways_scroll(page)
        assert_within_viewport(page, page.get_by_role("button", name=re.compile("^Actions for W")))
    page.set_viewport_size({"width": 1280, "height": 800})
    headers = page.locator(".book-table thead th")
    expect(headers).to_have_count(6)
    for header in headers.all():
        assert header.bounding_box()["width"] > 0


# --- 8. Focus rings and contrast ------------------------------------------------------------


CONTRAST = """([a, b]) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}"""


def background_of(page: Page, locator) -> str:
    """The first opaque background behind the element."""
    return locator.evaluate(
        """(e) => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
        if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c; }
        return 'rgb(255, 255, 255)'; }"""
    )


def test_focus_rings_are_visible_and_the_delete_cancel_is_readable(
    page: Page, live_server, shelf, editor_in_chief
):
    log_in(page, live_server.url, "chief")
    page.goto(f"{live_server.url}/books/?q=Book 01")
    for control in (
        page.get_by_role("button", name="Actions for Book 01"),
        page.get_by_label("Search books"),
    ):
        control.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focus by keyboard, so :focus-visible applies
        style = control.evaluate(
            "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth,"
            " s.outlineColor]; }"
        )
        assert style[0] == "solid" and float(style[1].rstrip("px")) >= 2, style
        # The ring is drawn outside the control (outline-offset): against what surrounds it.
        ratio = page.evaluate(CONTRAST, [style[2], background_of(page, control.locator(".."))])
        assert ratio >= 3, (style, ratio)

    # A status pill (a radio button styled as a button).
    page.get_by_text("Drafts", exact=True).click()
    page.keyboard.press("ArrowRight")
    pill = page.locator(".btn-check:focus-visible + .btn")
    expect(pill).to_have_count(1)
    outline = pill.evaluate("e => getComputedStyle(e).outlineColor")
    assert page.evaluate(CONTRAST, [outline, background_of(page, pill.locator(".."))]) >= 3

    page.goto(f"{live_server.url}/books/?q=Book 01")
    open_menu(page, "Book 01")
    page.get_by_role("link", name="Delete…").click()
    cancel = page.locator("tr.table-danger").get_by_role("link", name="Cancel")
    colour = cancel.evaluate("e => getComputedStyle(e).color")
    assert page.evaluate(CONTRAST, [colour, background_of(page, cancel)]) >= 4.5


# --- 10. Conflicts, stale menus, times, the search button -----------------------------------


def test_an_edit_conflict_is_shown_without_a_console_error(
    page: Page, live_server, shelf, editor_in_chief
):
    """The conftest guard fails the test on any console error: a 409 to htmx logged one."""
    log_in(page, live_server.url, "chief")
    page.goto(f"{live_server.url}/books/?q=Book 02")
    open_menu(page, "Book 02")
    page.get_by_role("link", name="Edit").click()
    assert_focus_on(page, page.locator("form[data-inline-edit]").get_by_label("Title"))
    Book.objects.filter(title="Book 02").update(title="Book 02 (theirs)", version=2)
    form = page.locator("form[data-inline-edit]")
    form.get_by_label("Title").fill("Book 02 (mine)")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Nothing was overwritten.")).to_be_visible()
    expect(form.get_by_role("button", name="Apply my changes again")).to_be_visible()


def test_a_stale_menu_says_who_got_there_first_and_times_are_short(
    page: Page, live_server, shelf, editor_in_chief
):
    ada = UserFactory(username="ada", first_name="Ada", last_name="Lovelace")
    log_in(page, live_server.url, "chief")
    page.goto(f"{live_server.url}/books/?q=A Draft")
    three_minutes_ago = timezone.now() - timezone.timedelta(minutes=3, seconds=30)
    Book.objects.filter(title="A Draft").update(
        is_in_review=True,
        submitted_at=three_minutes_ago,
        submitted_by=ada,
        updated_by=ada,
        updated_at=three_minutes_ago,
    )
    open_menu(page, "A Draft")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Already in review: submitted by Ada Lovelace 3\xa0minutes ago."
    )
    updated = row(page, "A Draft").locator("time")
    expect(updated).to_have_text("3\xa0minutes ago")
    assert updated.get_attribute("title")  # the exact time on hover


def test_the_search_button_is_as_tall_as_the_search_box(page: Page, live_server, shelf):
    page.goto(f"{live_server.url}/books/")
    box = page.get_by_label("Search books").bounding_box()
    button = page.get_by_role("button", name="Search").bounding_box()
    assert abs(box["height"] - button["height"]) <= 1, (box, button)


# --- 2, on the roles page: after Add member, the search box ---------------------------------


def test_after_adding_a_member_focus_is_back_in_the_search_box(
    page: Page, live_server, transactional_db
):
    from django.contrib.auth.models import Group

    editors = Group.objects.get(name="Editors")
    admin = UserFactory(username="roleadmin", first_name="Rolf", last_name="Admin")
    admin.groups.add(Group.objects.get(name="Admins"))
    UserFactory(username="member", first_name="Max", last_name="Member")
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/{editors.pk}/")
    search = page.get_by_placeholder("Add someone: name, username or email…")
    search.press_sequentially("max", delay=40)
    add = page.get_by_role("button", name="Add Max Member")
    expect(add).to_be_visible()
    htmx_settled(page)  # the suggestions just swapped in: pressing before htmx binds them races
    add.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#members")).to_contain_text("Max Member")
    assert_focus_on(page, page.get_by_placeholder("Add someone: name, username or email…"))
