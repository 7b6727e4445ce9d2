"""The README's five-minute tour, done as its demo users do it after `make run`: each step's
outcome asserted by role and label, and the pictures the README shows for the steps no other
test photographs (docs/screenshots/tour-*.png).

The personas and books are seed_demo's (``demo_site``, password DEMO_PASSWORD). The titles
below are the ones the README names: when the demo data changes, this test fails and the
README's tour is brought up to date with it.
"""

from __future__ import annotations

import re

from django.conf import settings
from playwright.sync_api import Page, expect

from .conftest import BrowserProblems
from .pages import (
    BookList,
    CopiesPanel,
    Desk,
    LoansPage,
    ReviewQueue,
    fill_login_form,
    htmx_settled,
    log_in,
    review_link,
    scripts_ready,
    toast,
    totp_code,
)
from .support import LAPTOP_SIZE, SCREENSHOTS, context_for

PASSWORD = settings.DEMO_PASSWORD

# What the README's tour names (seed_demo's books).
BORROWED = "The Fellowship of the Ring"  # 3 copies on the shelf: the member borrows one
HELD = "Dune"  # its only copy is with the librarian; the member waits for it
OVERDUE = "Neuromancer"  # the member's overdue loan
SENT_BACK = "Anna Karenina"  # the editor's book that a publisher sent back
NEW_BOOK = {"title": "The Lathe of Heaven", "author": "Ursula K. Le Guin", "publication_year": 1971}


def person(browser_problems: BrowserProblems, new_context) -> Page:
    """A browser of one's own (cookies), watched like ``page``'s, at the README's size."""
    return context_for(browser_problems, new_context, viewport=LAPTOP_SIZE).new_page()


def photograph(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"tour-{name}.png"))


def test_the_readme_tour_as_each_demo_user(live_server, demo_site, new_context, browser_problems):
    base = live_server.url
    books_by_title = {book.title: book for book in _demo_books()}

    # --- member: loans and holds, borrow a book, place a hold ----------------------------------
    member = person(browser_problems, new_context)
    log_in(member, base, "member", PASSWORD)
    navbar = member.get_by_role("navigation", name="Main")
    expect(navbar.get_by_role("link", name="Loans")).to_be_visible()
    BookList(member, base).open().search("fellowship")
    member.get_by_role("link", name=BORROWED, exact=True).click()
    panel = CopiesPanel(member, base)
    expect(panel.availability).to_have_text("3 of 3 available")
    expect(panel.button("Borrow")).to_be_visible()
    photograph(member, "member-book")
    scripts_ready(member)
    panel.press("Borrow")
    expect(toast(member, f"You borrowed “{BORROWED}”. It is due back on")).to_be_visible()
    expect(panel.region).to_contain_text("You have copy")
    expect(panel.availability).to_have_text("2 of 3 available")

    panel.open(books_by_title[HELD].pk)
    expect(panel.availability).to_have_text("On loan · 1 waiting")
    expect(panel.region).to_contain_text("You are number 1 in the queue.")
    scripts_ready(member)
    panel.press("Cancel the hold")
    expect(panel.button("Place a hold")).to_be_visible()  # no copy on the shelf: a hold
    panel.press("Place a hold")
    expect(toast(member, f"You are in the queue for “{HELD}”.")).to_be_visible()
    expect(panel.region).to_contain_text("You are number 1 in the queue.")

    loans = LoansPage(member, base).open()
    expect(loans.loan(BORROWED)).to_be_visible()
    expect(loans.loan(OVERDUE).locator(".badge", has_text="Overdue")).to_be_visible()
    expect(loans.hold(HELD)).to_contain_text("Number 1 in the queue")
    photograph(member, "member-loans")

    # --- librarian: the barcode on the copies page, then the desk ------------------------------
    librarian = person(browser_problems, new_context)
    log_in(librarian, base, "librarian", PASSWORD)
    CopiesPanel(librarian, base).open(books_by_title[HELD].pk)
    librarian.get_by_role("link", name="Manage copies").click()
    expect(librarian.get_by_role("heading", level=1)).to_have_text(f"Copies of “{HELD}”")
    copy = librarian.locator("#copies li").filter(has_text="With Lia Librarian")
    expect(copy).to_have_count(1)
    barcode = copy.locator(".font-monospace").inner_text()
    photograph(librarian, "inventory")

    librarian.get_by_role("navigation", name="Main").get_by_role("link", name="Desk").click()
    desk = Desk(librarian, base)
    expect(librarian.get_by_role("heading", level=1)).to_have_text("Circulation desk")
    scripts_ready(librarian)
    desk.scan(barcode)
    expect(desk.results.first).to_contain_text(
        f"Hold shelf “{HELD}” ({barcode}) from Lia Librarian: "
        "put it on the hold shelf for Max Member"
    )
    desk.member.fill("member")
    desk.barcode.focus()
    desk.scan(barcode)
    expect(desk.results.first).to_contain_text(
        f"Checked out “{HELD}” ({barcode}) to Max Member, due"
    )
    overdue = desk.section("Overdue")
    late = overdue.locator("li").filter(has_text=OVERDUE)
    shown = re.search(r"copy (\S+)", late.inner_text())  # "Max Member · copy B… · due …"
    assert shown, late.inner_text()
    desk.barcode.focus()
    desk.scan(shown.group(1))
    expect(desk.results.first).to_contain_text("from Max Member: back on the shelf.")
    expect(overdue).to_contain_text("No loan is overdue.")

    # --- editor: a new book, submitted for review ----------------------------------------------
    editor = person(browser_problems, new_context)
    log_in(editor, base, "editor", PASSWORD)
    in_review = editor.get_by_role("region", name=re.compile(r"^Your books in review"))
    expect(in_review.get_by_role("link", name="Moby-Dick", exact=True)).to_be_visible()
    sent_back = editor.get_by_role("region", name=re.compile(r"^Changes requested"))
    expect(sent_back.get_by_role("link", name=SENT_BACK, exact=True)).to_be_visible()
    books = BookList(editor, base).open()
    scripts_ready(editor)
    books.new_book_form().fill(**NEW_BOOK).save()
    expect(toast(editor, "Book added")).to_be_visible()
    title = NEW_BOOK["title"]
    expect(books.row(title).locator("td.book-status")).to_contain_text("Draft")
    htmx_settled(editor)
    menu = books.open_menu(title)
    expect(menu.item("Submit for review")).to_be_visible()
    photograph(editor, "editor")
    menu.pick("Submit for review")
    expect(toast(editor, "Submitted for review; a publisher will look at it")).to_be_visible()
    expect(books.row(title).locator("td.book-status")).to_contain_text("In review")

    # --- publisher: approve it from the queue, then feature it ---------------------------------
    publisher = person(browser_problems, new_context)
    log_in(publisher, base, "publisher", PASSWORD)
    awaiting = publisher.get_by_role("region", name=re.compile(r"^Awaiting your review"))
    expect(awaiting.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(review_link(publisher)).to_have_text(re.compile(r"^Review\s+3\s+waiting$"))
    review_link(publisher).click()
    queue = ReviewQueue(publisher, base)
    expect(queue.row(title)).to_have_count(1)
    scripts_ready(publisher)
    queue.approve(title)
    expect(toast(publisher, "Approved: the book is published")).to_be_visible()
    books = BookList(publisher, base).open("?q=lathe")
    scripts_ready(publisher)
    htmx_settled(publisher)
    books.pick(title, "Feature")
    expect(toast(publisher, "Book featured")).to_be_visible()
    expect(books.row(title).locator("td.book-status")).to_contain_text("Featured")
    publisher.get_by_role("link", name="Bookshelf", exact=True).click()
    featured = publisher.get_by_role("region", name="Featured books")
    expect(featured.get_by_role("link", name=title, exact=True)).to_be_visible()

    # --- roleadmin: a second factor on the way to Roles, then a role for the member ------------
    admin = person(browser_problems, new_context)
    admin.goto(f"{base}/accounts/login/")
    fill_login_form(admin, "roleadmin", PASSWORD)
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Hello")
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Roles").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    expect(admin.locator("#two-factor-required")).to_contain_text("needs a second factor")
    admin.get_by_role("link", name="Add an authenticator app").click()
    expect(admin.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    photograph(admin, "two-factor")
    key = _key_shown(admin)
    admin.get_by_label("Code from the app").fill(totp_code(key))
    admin.get_by_role("button", name="Turn on").click()
    expect(admin.locator("#recovery-codes li")).to_have_count(10)
    admin.get_by_role("link", name=re.compile("continue")).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Roles")

    admin.get_by_role("link", name="Editors", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Editors")
    scripts_ready(admin)
    admin.get_by_placeholder("Add someone: name, username or email…").press_sequentially(
        "max", delay=40
    )
    admin.get_by_role("button", name="Add Max Member").click()
    expect(
        admin.get_by_role("status").filter(has_text="Max Member now has the role Editors")
    ).to_be_visible()
    assert demo_site["member"].groups.filter(name="Editors").exists()


def _demo_books():
    from apps.bookshelf.models import Book

    return Book.objects.filter(title__in=[BORROWED, HELD, OVERDUE, SENT_BACK])


def _key_shown(page: Page) -> str:
    """The authenticator key in hex, from the base32 text the page shows under the QR code."""
    from base64 import b32decode

    return b32decode(page.locator("#totp-secret").inner_text().replace(" ", "")).hex()
