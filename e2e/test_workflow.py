"""Issue 11, the editorial workflow in a real browser: draft → in review → published with
two people, changes requested with a comment on the way, the four-eyes rule, the review
queue on a phone and without JavaScript.

The personas are seed_demo's (``demo_site``, password DEMO_PASSWORD): `editor` writes and
submits, `publisher` reviews. The demo data already has two books in review, submitted by
`editor` ("Moby-Dick", the oldest, then "A Wizard of Earthsea"), so the queue has rows
around the one a test adds.
"""

from __future__ import annotations

import re

from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from apps.bookshelf.models import Book
from apps.bookshelf.services import book_apply_action, book_create

from .conftest import watch
from .pages import (
    FOUR_EYES_REFUSAL,
    BookList,
    ReviewQueue,
    assert_focus_not_on_body,
    assert_no_sideways_scroll,
    fill_login_form,
    htmx_settled,
    log_in,
    review_link,
    scripts_ready,
    toast,
)
from .support import LAPTOP_SIZE, PHONE_SIZE, SCREENSHOTS, context_for

SCREENSHOT = SCREENSHOTS / "review.png"
PASSWORD = settings.DEMO_PASSWORD

TITLE = "Kindred"
COMMENT = "The description is missing: add a few sentences about the book itself."
DESCRIPTION = "Dana, a writer in 1976 Los Angeles, is pulled back to a Maryland plantation."


def open_book_menu(books: BookList, title: str):
    """The row's ⋯ menu, once the scripts have run and htmx has bound the row."""
    scripts_ready(books.page)
    htmx_settled(books.page)
    return books.open_menu(title)


def status_of(books: BookList, title: str):
    return books.row(title).locator("td.book-status")


def test_a_book_goes_from_draft_through_review_and_changes_to_the_catalogue(
    page: Page, new_context, live_server, demo_site, browser_problems
):
    base = live_server.url

    # --- editor writes a book in the list's new-book row and submits it ---------------------
    log_in(page, base, "editor", PASSWORD)
    books = BookList(page, base).open()
    scripts_ready(page)
    books.new_book_form().fill(
        title=TITLE, author="Octavia E. Butler", publication_year=1979
    ).save()
    expect(toast(page, "Book added")).to_be_visible()
    expect(status_of(books, TITLE)).to_contain_text("Draft")
    menu = open_book_menu(books, TITLE)
    assert "Approve and publish" not in menu.items()  # an editor only submits
    menu.pick("Submit for review")
    expect(toast(page, "Submitted for review; a publisher will look at it")).to_be_visible()
    expect(status_of(books, TITLE)).to_contain_text("In review")
    book = Book.objects.get(title=TITLE)
    assert book.is_in_review and book.submitted_by == demo_site["editor"]
    page.goto(f"{base}/")
    mine = page.get_by_role("region", name=re.compile(r"^Your books in review"))
    expect(mine.get_by_role("link", name=TITLE, exact=True)).to_be_visible()

    # An anonymous visitor does not find it yet: it is not public.
    visitor = context_for(browser_problems, new_context).new_page()
    catalogue = BookList(visitor, base).open(f"?q={TITLE}")
    expect(catalogue.row(TITLE)).to_have_count(0)
    expect(visitor.get_by_text(f"No books match “{TITLE}”.")).to_be_visible()

    # --- publisher, in a browser of their own, sees it waiting and sends it back ------------
    publisher = context_for(browser_problems, new_context).new_page()
    log_in(publisher, base, "publisher", PASSWORD)
    awaiting = publisher.get_by_role("region", name=re.compile(r"^Awaiting your review"))
    expect(awaiting.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    expect(review_link(publisher)).to_have_text(re.compile(r"^Review\s+3\s+waiting$"))
    review_link(publisher).click()
    expect(publisher.get_by_role("heading", level=1)).to_have_text("Review")
    queue = ReviewQueue(publisher, base)
    assert queue.titles() == ["Moby-Dick", "A Wizard of Earthsea", TITLE]  # oldest first
    expect(queue.row(TITLE).locator("td.review-submitter")).to_contain_text("Eddie")
    scripts_ready(publisher)
    # Sent without a comment first: the row comes back with its form open and the error.
    form = queue.request_changes_form(TITLE)
    form.get_by_role("button", name="Send back for changes").click()
    comment = queue.row(TITLE).get_by_label("What should change?")
    expect(queue.row(TITLE)).to_contain_text("Say what should change: the comment is required.")
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(comment).to_be_focused()
    htmx_settled(publisher)
    queue.request_changes(TITLE, COMMENT)
    expect(toast(publisher, "Changes requested; the book is a draft again")).to_be_visible()
    assert_focus_not_on_body(publisher)
    book.refresh_from_db()
    assert not book.is_in_review and book.review_comment == COMMENT

    # --- editor reads the comment (dashboard, book page), edits and resubmits ---------------
    page.goto(f"{base}/")
    changes = page.get_by_role("region", name=re.compile(r"^Changes requested"))
    expect(changes.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    expect(changes).to_contain_text(COMMENT)
    changes.get_by_role("link", name=TITLE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    alert = page.locator(".alert").filter(
        has_text="Changes requested before this book can be published:"
    )
    expect(alert).to_contain_text(COMMENT)
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("requested changes")
    expect(history).to_contain_text(COMMENT)
    expect(history).to_contain_text("submitted for review")

    books.open(f"?q={TITLE}")
    scripts_ready(page)
    expect(status_of(books, TITLE)).to_contain_text("Changes requested")
    books.edit(TITLE, description=DESCRIPTION)
    expect(toast(page, "Book saved")).to_be_visible()
    open_book_menu(books, TITLE).pick("Submit for review")
    expect(status_of(books, TITLE)).to_contain_text("In review")
    book.refresh_from_db()
    assert book.is_in_review and book.description == DESCRIPTION and not book.review_comment

    # --- publisher approves from the queue ------------------------------------------------------
    queue.open()
    expect(review_link(publisher)).to_have_text(re.compile(r"^Review\s+3\s+waiting$"))
    scripts_ready(publisher)
    queue.approve(TITLE)
    expect(toast(publisher, "Approved: the book is published")).to_be_visible()
    assert_focus_not_on_body(publisher)
    # Focus went to a neighbouring row's first control (ours was the last row: the previous
    # one), or to the heading when the queue is empty.
    focused = publisher.evaluate(
        """() => { const el = document.activeElement;
          const row = el.closest("tr[id^='review-']");
          return row ? row.querySelector("td.review-book a").textContent.trim() + ": "
            + el.textContent.trim() : el.tagName; }"""
    )
    assert focused == "A Wizard of Earthsea: Approve and publish", focused
    assert queue.titles() == ["Moby-Dick", "A Wizard of Earthsea"]
    book.refresh_from_db()
    assert book.is_published and not book.is_in_review and book.published_at

    # --- the anonymous visitor finds it in the public catalogue now -----------------------------
    catalogue.open(f"?q={TITLE}")
    expect(catalogue.row(TITLE)).to_be_visible()
    expect(status_of(catalogue, TITLE)).to_contain_text("Published")
    catalogue.row(TITLE).get_by_role("link", name=TITLE, exact=True).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(visitor.get_by_text(DESCRIPTION)).to_be_visible()


def test_a_publisher_cannot_approve_a_book_they_submitted(page: Page, live_server, demo_site):
    base = live_server.url
    pia = demo_site["publisher"]
    own = book_create(
        fields={"title": "Pia's Own Book", "author": "Pia Publisher", "publication_year": 2024},
        user=pia,
    )
    own = book_apply_action(book=own, action="submit", user=pia)
    assert own.is_in_review

    log_in(page, base, "publisher", PASSWORD)
    queue = ReviewQueue(page, base).open()
    row = page.locator(f"#review-{own.pk}")
    expect(row).to_contain_text(FOUR_EYES_REFUSAL)
    expect(row.get_by_role("button", name="Approve and publish")).to_have_count(0)
    # Requesting changes stays possible; the others' books can be approved.
    expect(row.locator("summary", has_text="Request changes…")).to_be_visible()
    expect(queue.approve_button("Moby-Dick")).to_be_visible()

    # The book's page offers no approval either, and says why.
    page.goto(f"{base}/books/{own.pk}/")
    expect(page.get_by_role("button", name="Approve and publish")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text=FOUR_EYES_REFUSAL)).to_be_visible()

    # Posting anyway, with a valid CSRF token, is refused with the rule's sentence.
    queue.open()
    token = page.locator(f"#review-{own.pk} input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.request.post(
        f"{base}/books/{own.pk}/approve/",
        form={"csrfmiddlewaretoken": token, "next": "/books/review/"},
        max_redirects=0,
    )
    assert response.status == 403, response.status
    assert FOUR_EYES_REFUSAL in response.text()
    own.refresh_from_db()
    assert own.is_in_review and not own.is_published


def test_without_javascript_changes_are_requested_and_the_book_resubmitted(
    browser: Browser, live_server, demo_site, browser_problems
):
    base = live_server.url
    title = "A Wizard of Earthsea"
    book = Book.objects.get(title=title)
    assert book.is_in_review

    # publisher, without JavaScript: the queue's <details> opens natively, the form posts.
    publisher = watch(browser.new_context(java_script_enabled=False), browser_problems).new_page()
    publisher.goto(f"{base}/accounts/login/")
    fill_login_form(publisher, "publisher", PASSWORD)
    expect(publisher.get_by_role("heading", level=1)).to_contain_text("Hello")
    queue = ReviewQueue(publisher, base).open()

    # No comment: the form comes back on a page of its own, with the error.
    form = queue.request_changes_form(title)
    form.get_by_role("button", name="Send back for changes").click()
    expect(publisher.get_by_role("heading", level=1)).to_have_text(f"Request changes to “{title}”")
    comment = publisher.get_by_label("What should change?")
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(
        publisher.get_by_text("Say what should change: the comment is required.")
    ).to_be_visible()
    book.refresh_from_db()
    assert book.is_in_review

    comment.fill(COMMENT)
    publisher.get_by_role("button", name="Send back for changes").click()
    expect(publisher).to_have_url(f"{base}/books/review/")
    expect(publisher.get_by_text("Changes requested; the book is a draft again")).to_be_visible()
    expect(queue.row(title)).to_have_count(0)
    book.refresh_from_db()
    assert not book.is_in_review and book.review_comment == COMMENT

    # editor, without JavaScript: reads the comment and resubmits from the book's page.
    editor = watch(browser.new_context(java_script_enabled=False), browser_problems).new_page()
    editor.goto(f"{base}/accounts/login/")
    fill_login_form(editor, "editor", PASSWORD)
    expect(editor.get_by_role("heading", level=1)).to_contain_text("Hello")
    editor.goto(f"{base}/books/{book.pk}/")
    expect(
        editor.locator(".alert").filter(has_text="Changes requested before this book")
    ).to_contain_text(COMMENT)
    editor.get_by_role("button", name="Submit for review").click()
    expect(editor).to_have_url(f"{base}/books/{book.pk}/")
    expect(editor.get_by_text("Submitted for review; a publisher will look at it")).to_be_visible()
    expect(editor.locator(".badge", has_text="In review")).to_be_visible()
    book.refresh_from_db()
    assert book.is_in_review and book.submitted_by == demo_site["editor"]


def test_the_review_queue_fits_a_phone_and_is_photographed(page: Page, live_server, demo_site):
    """README's picture of the queue (1280×800), then the same queue at 390×844."""
    log_in(page, live_server.url, "publisher", PASSWORD)
    page.set_viewport_size(LAPTOP_SIZE)
    queue = ReviewQueue(page, live_server.url).open()
    expect(queue.rows).to_have_count(2)
    page.screenshot(path=str(SCREENSHOT))

    page.set_viewport_size(PHONE_SIZE)
    queue.open()
    assert_no_sideways_scroll(page)
    queue.request_changes_form("Moby-Dick")  # the open comment form must fit too
    assert_no_sideways_scroll(page)


def test_a_publisher_requests_changes_from_the_book_list_row(
    page: Page, live_server, demo_site, browser_problems
):
    """The ⋯ menu's "Request changes…" opens a form in the row: the comment is required, the
    keyboard user lands in it, and the row comes back as a draft with changes requested."""
    title = "Moby-Dick"
    log_in(page, live_server.url, "publisher", PASSWORD)
    books = BookList(page, live_server.url).open(f"?q={title}")
    expect(status_of(books, title)).to_contain_text("In review")
    open_book_menu(books, title).pick("Request changes…")
    comment = page.get_by_label("What should change?")
    expect(comment).to_be_visible()
    expect(page.get_by_role("heading", name=f"Request changes to “{title}”")).to_be_visible()
    assert_focus_not_on_body(page)
    expect(comment).to_be_focused()
    browser_problems.check_accessibility(page, "the row's request-changes form")

    # Sent without a comment: the form stays, says why, and focus is on the comment.
    htmx_settled(page)
    page.get_by_role("button", name="Send back for changes").click()
    expect(page.get_by_text("Say what should change: the comment is required.")).to_be_visible()
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(comment).to_be_focused()
    assert Book.objects.get(title=title).is_in_review

    htmx_settled(page)
    comment.fill(COMMENT)
    page.get_by_role("button", name="Send back for changes").click()
    expect(toast(page, "Changes requested; the book is a draft again")).to_be_visible()
    expect(status_of(books, title)).to_contain_text("Changes requested")
    expect(page.get_by_role("button", name=f"Actions for {title}")).to_be_focused()
    book = Book.objects.get(title=title)
    assert not book.is_in_review and book.review_comment == COMMENT
