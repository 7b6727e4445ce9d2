"""Page objects for the browser tests: how a person logs in, works the book list and its row
menu, and ticks the roles grid, written once. When the markup changes, this file changes and
the tests read the same. Locators go by role and label; where the markup gives no role (the
table's row groups, the row menu) the id or class is named here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect

from apps.accounts.tests.factories import DEFAULT_PASSWORD

# --- Login -------------------------------------------------------------------------------------


def log_in(page: Page, base_url: str, username: str, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the login form (username or email) and land on the dashboard.

    Whoever must use two-factor (apps.accounts.two_factor.must_use_two_factor: the admins)
    gets an authenticator first, as if enrolled earlier, and types its code at the second
    step like anyone with a factor; test_two_factor.py enrols through the pages instead."""
    give_authenticator_if_required(username)
    page.goto(f"{base_url}/accounts/login/")
    fill_login_form(page, username, password)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(re.compile("Hello|Two-factor authentication"))
    if "Two-factor" in heading.inner_text():
        fill_second_factor(page, fresh_authenticator_code(username))
    expect(heading).to_contain_text("Hello")


def fill_second_factor(page: Page, code: str) -> None:
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify").click()


def totp_code(key_hex: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for this key (django-otp's TOTP, RFC 6238);
    ``steps_ahead`` 30-second steps later, as a phone shows after waiting for the next."""
    import time
    from binascii import unhexlify

    from django_otp.oath import TOTP

    totp = TOTP(unhexlify(key_hex), step=30, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def give_authenticator_if_required(username: str) -> None:
    from django.contrib.auth import get_user_model

    from apps.accounts.two_factor import has_two_factor, must_use_two_factor

    user = get_user_model()._default_manager.get_by_login(username)
    if must_use_two_factor(user) and not has_two_factor(user):
        fresh_authenticator_code(username)


def fresh_authenticator_code(username: str) -> str:
    """A new authenticator for the user and its current code. A new one for each login: a
    code is accepted once (no replay), and tests log the same person in several times
    within one 30-second step."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model()._default_manager.get_by_login(username)
    device = TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)
    return totp_code(device.key)


def fill_login_form(page: Page, username: str, password: str = DEFAULT_PASSWORD) -> None:
    """Fill and send the login form of the page that shows it (no check of the outcome)."""
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def open_user_menu(page: Page, username: str) -> Locator:
    """Open the navigation's user menu (on a phone, the collapsed navigation first)."""
    toggler = page.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
    button = page.get_by_role("button", name=username)
    button.click()
    menu = button.locator("xpath=following-sibling::ul[1]")
    expect(menu).to_be_visible()
    return menu


def log_out(page: Page, base_url: str, username: str) -> None:
    """Log out through the user menu (from the profile page) and land on the login page."""
    page.goto(f"{base_url}/accounts/profile/")
    open_user_menu(page, username).get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


# --- Focus and layout ------------------------------------------------------------------------


def assert_focus_not_on_body(page: Page) -> None:
    """Keyboard focus is on an element, not lost to <body> (where a keyboard user starts over
    from the top of the page)."""
    focused = page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body || el === document.documentElement) return null;
          return el.outerHTML.slice(0, 150);
        }"""
    )
    assert focused, f"Focus is lost to <body> on {page.url}"


# The elements sticking out past the right edge, deepest first: what makes a page scroll
# sideways (an element whose children stick out too is left to them).
OVERFLOWING_ELEMENTS = """() => {
  const limit = document.documentElement.clientWidth;
  const out = [...document.body.querySelectorAll("*")].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > limit + 0.5;
  });
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    [...el.classList].slice(0, 3).map((name) => "." + name).join("") +
    " (right edge " + Math.round(el.getBoundingClientRect().right) + " px)";
  return out.filter((el) => !out.some((other) => other !== el && el.contains(other)))
    .slice(0, 5).map(describe);
}"""


def assert_no_sideways_scroll(page: Page) -> None:
    """The page is no wider than the viewport: documentElement's scrollWidth <= clientWidth."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if widths[0] <= widths[1]:
        return
    culprits = page.evaluate(OVERFLOWING_ELEMENTS)
    raise AssertionError(
        f"{page.url} scrolls sideways at {page.viewport_size}: {widths[0]} px wide in "
        f"{widths[1]} px; sticking out: {', '.join(culprits) or 'nothing visible'}"
    )


# --- The book list -----------------------------------------------------------------------------

# Form field name -> label, for InlineForm.fill(title=..., publication_year=...).
BOOK_FIELDS = {
    "title": "Title",
    "author": "Author",
    "isbn": "ISBN",
    "publication_year": "Publication year",
    "description": "Description",
}


@dataclass
class InlineForm:
    """A book's form inside the table: the edit row or the new-book row."""

    form: Locator

    def field(self, label: str) -> Locator:
        return self.form.get_by_label(label)  # "Title*": crispy marks required fields

    def fill(self, **values: Any) -> InlineForm:
        """fill(title="Dune", publication_year=1965): field names as the form has them."""
        for name, value in values.items():
            self.field(BOOK_FIELDS[name]).fill(str(value))
        return self

    def values(self) -> dict[str, str]:
        return {name: self.form.locator(f"[name={name}]").input_value() for name in BOOK_FIELDS}

    def save(self) -> None:
        self.form.get_by_role("button", name=re.compile(r"^(Save|Add book)$")).click()

    def cancel(self) -> None:
        self.field("Title").press("Escape")


@dataclass
class RowMenu:
    """A book row's ⋯ menu (the actions this user may take on this book)."""

    row: Locator

    @property
    def menu(self) -> Locator:
        return self.row.locator(".dropdown-menu")

    def item(self, name: str) -> Locator:
        return self.menu.get_by_role("link", name=name, exact=True).or_(
            self.menu.get_by_role("button", name=name, exact=True)
        )

    def items(self) -> list[str]:
        return [
            text.strip()
            for text in self.menu.locator("a, button").all_inner_texts()
            if text.strip()
        ]

    def pick(self, name: str) -> None:
        self.item(name).click()


@dataclass
class BookList:
    """/books/: search, sort, pages, a row's ⋯ menu and the inline forms."""

    page: Page
    base_url: str = ""

    def open(self, query: str = "") -> BookList:
        """Go to the list, with a query string if given ("?q=dune&sort=year")."""
        self.page.goto(f"{self.base_url}/books/{query}")
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Books")
        return self

    @property
    def rows(self) -> Locator:
        return self.page.locator("#book-rows tr")

    def titles(self) -> list[str]:
        return self.page.locator("#book-rows tr td:first-child a").all_inner_texts()

    def row(self, title: str) -> Locator:
        """The row of the book called exactly ``title`` (a new book's too)."""
        return self.page.locator("#book-rows tr, #book-new-slot tr").filter(
            has=self.page.get_by_role("link", name=title, exact=True)
        )

    @property
    def summary(self) -> Locator:
        """The live region saying how many books and which page ("5 books, page 1 of 2")."""
        return self.page.locator("#book-results")

    def search(self, text: str) -> None:
        """Type into the search box as a person does; the table and the URL follow."""
        box = self.page.get_by_role("searchbox", name="Search books")
        box.fill("")
        box.press_sequentially(text, delay=40)
        # htmx pushes the URL once the results are in (a space as %20 or +).
        words = (re.escape(quote(word, safe="")) for word in text.split(" "))
        expect(self.page).to_have_url(re.compile(r"[?&]q=" + r"(?:\+|%20)".join(words) + "(&|$)"))

    def sort_by(self, column: str) -> None:
        """Click a column heading ("Title", "Year"...); a second click reverses the order."""
        link = self.page.get_by_role("columnheader").get_by_role(
            "link", name=re.compile(rf"^{re.escape(column)}( [▲▼])?$")
        )
        before = self.page.url
        link.click()
        expect(self.page).not_to_have_url(before)

    def go_to_page(self, number: int) -> None:
        pages = self.page.get_by_role("navigation", name="Pages")
        pages.get_by_role("link", name=str(number), exact=True).click()
        expect(self.summary).to_contain_text(f"page {number} of")

    def open_menu(self, title: str) -> RowMenu:
        self.page.get_by_role("button", name=f"Actions for {title}").click()
        menu = RowMenu(self.row(title))
        expect(menu.menu).to_be_visible()
        return menu

    def pick(self, title: str, action: str) -> None:
        """Open ``title``'s ⋯ menu and choose ``action`` ("Edit", "Publish", "Delete…")."""
        self.open_menu(title).pick(action)

    def edit_form(self, title: str) -> InlineForm:
        """Open ``title``'s inline edit form (⋯ → Edit)."""
        self.pick(title, "Edit")
        form = InlineForm(self.page.locator("form[data-inline-edit]"))
        expect(form.field("Title")).to_be_visible()
        return form

    def edit(self, title: str, **values: Any) -> None:
        """Edit ``title`` inline: fill ``values``, save, and wait for the saved row."""
        self.edit_form(title).fill(**values).save()
        expect(self.row(str(values.get("title", title)))).to_be_visible()
        expect(self.page.locator("form[data-inline-edit]")).to_have_count(0)

    def new_book_form(self) -> InlineForm:
        self.page.get_by_role("link", name="+ New book").click()
        form = InlineForm(self.page.locator("#book-new form"))
        expect(form.field("Title")).to_be_visible()
        return form


# --- The roles grid ----------------------------------------------------------------------------


@dataclass
class RolesGrid:
    """A role's page, /roles/<id>/: its permission grid, where each box saves as it is ticked."""

    page: Page
    base_url: str = ""

    def open(self, group: Any) -> RolesGrid:
        """Go to ``group``'s page (a Group or its pk)."""
        pk = getattr(group, "pk", group)
        self.page.goto(f"{self.base_url}/roles/{pk}/")
        if hasattr(group, "name"):
            expect(self.page.get_by_role("heading", level=1)).to_have_text(group.name)
        return self

    @property
    def grid(self) -> Locator:
        return self.page.locator("#permission-grid")

    def box(self, permission: str) -> Locator:
        """The checkbox of a permission, by the permission's name ("Can add book", "Can
        publish and unpublish books"): the grid names a box so, or by its label without the
        "Can" ("Publish and unpublish books")."""
        words = re.sub(r"^can ", "", permission, flags=re.IGNORECASE)
        name = re.compile(rf"^(can )?{re.escape(words)}$", re.IGNORECASE)
        return self.grid.get_by_role("checkbox", name=name)

    def _saving(self, pattern: str):
        return self.page.expect_response(
            lambda response: (
                re.search(pattern, response.url) is not None and response.request.method == "POST"
            )
        )

    def tick(self, permission: str) -> None:
        """Tick a box and wait for the server's answer (the grid is swapped in again)."""
        with self._saving(r"/roles/\d+/permissions/\d+/$"):
            self.box(permission).check()

    def untick(self, permission: str) -> None:
        with self._saving(r"/roles/\d+/permissions/\d+/$"):
            self.box(permission).uncheck()

    def toggle_column(self, action: str) -> None:
        """Grant or revoke a whole column ("add", "change", "delete", "view")."""
        with self._saving(rf"/roles/\d+/permissions/column/{re.escape(action)}/$"):
            self.grid.get_by_role("button", name=action.capitalize(), exact=True).click()

    def disabled_reason(self, permission: str) -> str | None:
        """Why a box cannot be changed, as the page tells it (its accessible description),
        or None for a box that can be."""
        box = self.box(permission)
        if box.is_enabled():
            return None
        return box.evaluate(
            """box => {
              const id = box.getAttribute("aria-describedby");
              const why = id && document.getElementById(id);
              return (why ? why.textContent : box.title).trim();
            }"""
        )


# --- Scripts and htmx ----------------------------------------------------------------------------


def scripts_ready(page: Page) -> None:
    """app.js has run (it marks <html> with .js): until then the row's ⋯ is a plain link to
    the book's page and "+ New book" leads to a page of its own."""
    expect(page.locator("html.js")).to_have_count(1)


def htmx_settled(page: Page) -> None:
    """htmx has bound what it last swapped in (it does so at settle time, about 20 ms after
    the swap): wait for this before pressing keys or clicking inside new content."""
    expect(page.locator(".htmx-added, .htmx-settling, .htmx-swapping")).to_have_count(0)


def toast(page: Page, text: str) -> Locator:
    """The toast saying ``text`` (a status, or an alert for an error)."""
    return page.locator("#toasts .toast").filter(has_text=text)


# --- The review queue --------------------------------------------------------------------------

FOUR_EYES_REFUSAL = "You submitted this book; another publisher must approve it."


@dataclass
class ReviewQueue:
    """/books/review/: the books in review, each row with "Approve and publish" (unless the
    publisher submitted it) and "Request changes…" (a <details> with the comment form)."""

    page: Page
    base_url: str = ""

    def open(self) -> ReviewQueue:
        self.page.goto(f"{self.base_url}/books/review/")
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Review")
        return self

    @property
    def rows(self) -> Locator:
        return self.page.locator("tr[id^='review-']")

    def row(self, title: str) -> Locator:
        """The row of the book called exactly ``title``."""
        return self.rows.filter(has=self.page.get_by_role("link", name=title, exact=True))

    def titles(self) -> list[str]:
        return self.rows.locator("td.review-book > a").all_inner_texts()

    def approve_button(self, title: str) -> Locator:
        return self.row(title).get_by_role("button", name="Approve and publish")

    def approve(self, title: str) -> None:
        """Approve and publish ``title``; its row fades out and leaves the queue."""
        row = self.row(title)
        expect(row).to_have_count(1)
        self.approve_button(title).click()
        expect(row).to_have_count(0)

    def request_changes_form(self, title: str) -> Locator:
        """Open ``title``'s "Request changes…" (unless it is open: after a refusal the row
        comes back with it open) and return its form."""
        row = self.row(title)
        details = row.locator("details").filter(
            has=self.page.locator("summary", has_text="Request changes…")
        )
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        form = row.locator("form").filter(has=self.page.get_by_label("What should change?"))
        expect(form.get_by_label("What should change?")).to_be_visible()
        return form

    def request_changes(self, title: str, comment: str) -> None:
        """Send ``title`` back to its submitter with ``comment`` (the row then leaves the
        queue, or under no JavaScript the queue is loaded again without it)."""
        form = self.request_changes_form(title)
        form.get_by_label("What should change?").fill(comment)
        form.get_by_role("button", name="Send back for changes").click()
        expect(self.row(title)).to_have_count(0)


def review_link(page: Page) -> Locator:
    """The navbar's "Review" link, its name carrying the count ("Review 3 waiting")."""
    return page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(r"^Review\b")
    )


# --- Circulation: a book's Copies panel and /loans/ -------------------------------------------


@dataclass
class CopiesPanel:
    """A book's "Copies" panel (/books/<id>/, <section id="circulation">): availability, the
    reader's own loan or hold, and the button they may press. Under htmx each button swaps
    the panel and a toast says what happened; without JavaScript it is a form post that
    comes back to the book's page."""

    page: Page
    base_url: str = ""

    def open(self, book_id: int) -> CopiesPanel:
        self.page.goto(f"{self.base_url}/books/{book_id}/")
        expect(self.region).to_be_visible()
        return self

    @property
    def region(self) -> Locator:
        return self.page.get_by_role("region", name="Copies", exact=True)

    @property
    def availability(self) -> Locator:
        return self.region.locator(".book-availability")

    @property
    def status(self) -> Locator:
        """Availability and the reader's own loan or hold: where focus goes after a swap."""
        return self.region.locator(".panel-status")

    def button(self, name: str) -> Locator:
        return self.region.get_by_role("button", name=name, exact=True)

    def press(self, name: str) -> None:
        """Press the panel's button ``name`` once htmx has bound the panel (after a swap it
        does so about 20 ms later; a click before then would post the form without htmx)."""
        if self.page.locator("html.js").count():
            htmx_settled(self.page)
        self.button(name).click()


@dataclass
class LoansPage:
    """/loans/: "On loan" (Return and Renew per loan, an "Overdue" badge), "Holds" (the place
    in the queue or "Ready") and "Returned". Its buttons swap the lists (htmx), or are plain
    form posts back here."""

    page: Page
    base_url: str = ""

    def open(self) -> LoansPage:
        self.page.goto(f"{self.base_url}/loans/")
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Your loans and holds")
        return self

    def section(self, name: str) -> Locator:
        """ "On loan", "Holds" or "Returned"."""
        return self.page.get_by_role("region", name=name, exact=True)

    def _item(self, section: str, title: str) -> Locator:
        return (
            self.section(section)
            .locator("li")
            .filter(has=self.page.get_by_role("link", name=title, exact=True))
        )

    def loan(self, title: str) -> Locator:
        return self._item("On loan", title)

    def hold(self, title: str) -> Locator:
        return self._item("Holds", title)

    def returned(self, title: str) -> Locator:
        return self._item("Returned", title)

    def _press(self, button: Locator) -> None:
        """Once htmx has bound the page when it runs (see ``CopiesPanel.press``)."""
        if self.page.locator("html.js").count():
            htmx_settled(self.page)
        button.click()

    def renew(self, title: str) -> None:
        self._press(self.loan(title).get_by_role("button", name=f"Renew {title}", exact=True))

    def give_back(self, title: str) -> None:
        self._press(self.loan(title).get_by_role("button", name=f"Return {title}", exact=True))


@dataclass
class Desk:
    """/circulation/: the member field, the barcode field (keeps the focus; Enter checks the
    copy in or out) and the results, newest on top; the Overdue and hold-shelf lists."""

    page: Page
    base_url: str = ""

    def open(self, query: str = "") -> Desk:
        self.page.goto(f"{self.base_url}/circulation/{query}")
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Circulation desk")
        return self

    @property
    def member(self) -> Locator:
        return self.page.get_by_label("Member")

    @property
    def barcode(self) -> Locator:
        return self.page.get_by_label("Barcode")

    @property
    def results(self) -> Locator:
        return self.page.locator("#desk-results > li")

    def scan(self, barcode: str) -> None:
        """Type a barcode as a scanner does (characters, then Enter) into the focused field."""
        expect(self.barcode).to_be_focused()
        self.page.keyboard.type(barcode)
        self.page.keyboard.press("Enter")

    def section(self, name: str) -> Locator:
        return self.page.get_by_role("region", name=re.compile(rf"^{name}\b"))
