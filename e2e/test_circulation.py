"""Issue 12, circulation as a member sees it in a real browser: borrow from a book's Copies
panel, renew and return from /loans/; a hold on a book whose only copy is out, served from
the hold shelf when the copy comes back; the same borrowing without JavaScript; /loans/ on a
phone.

The personas are seed_demo's (``demo_site``, password DEMO_PASSWORD). Its circulation:
every demo book has 1–3 copies; `member` has two loans (one overdue) and a hold on a
single-copy book that `librarian` has borrowed. The books each test uses are picked from the
database by their copies, not by title, so they follow the demo data.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import Browser, Page, expect

from apps.bookshelf.models import Book
from apps.circulation.models import Copy, CopyStatus, Hold, HoldStatus, Loan
from apps.circulation.services import availability

from .conftest import watch
from .pages import (
    BookList,
    CopiesPanel,
    Desk,
    LoansPage,
    assert_focus_not_on_body,
    assert_no_sideways_scroll,
    fill_login_form,
    htmx_settled,
    log_in,
    scripts_ready,
    toast,
)
from .support import PHONE_SIZE, SCREENSHOTS, context_for

PASSWORD = settings.DEMO_PASSWORD
DESK_SCREENSHOT = SCREENSHOTS / "desk.png"


def free_book(member, *, copies: int, available: int | None = None) -> Book:
    """A book in the catalogue with ``copies`` copies, ``available`` of them (default all)
    on the shelf, that ``member`` neither has on loan nor holds."""
    available = copies if available is None else available
    taken = {
        *Loan.objects.open().filter(borrower=member).values_list("book_id", flat=True),
        *Hold.objects.active().filter(member=member).values_list("book_id", flat=True),
    }
    books = list(Book.objects.public().exclude(pk__in=taken).order_by("pk"))
    counts = availability([book.pk for book in books])
    for book in books:
        if (counts[book.pk].total, counts[book.pk].available) == (copies, available):
            return book
    raise AssertionError(f"the demo data has no book with {available} of {copies} available")


def create_member(username: str, first_name: str):
    """A second member, in the Members role, who logs in with PASSWORD."""
    user = get_user_model().objects.create_user(
        username, f"{username}@example.com", first_name=first_name, last_name="Reader"
    )
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name="Members"))
    return user


def borrowed(title: str) -> str:
    return f"You borrowed “{title}”. It is due back on"


def test_a_member_borrows_renews_and_returns_a_book(
    page: Page, live_server, demo_site, browser_problems
):
    base = live_server.url
    member = demo_site["member"]
    book = free_book(member, copies=3)
    title = book.title

    # --- borrow from the book's Copies panel (htmx) -------------------------------------------
    log_in(page, base, "member", PASSWORD)
    panel = CopiesPanel(page, base).open(book.pk)
    expect(panel.availability).to_have_text("3 of 3 available")
    scripts_ready(page)
    panel.press("Borrow")
    expect(toast(page, borrowed(title))).to_be_visible()
    expect(panel.region).to_contain_text("You have copy")
    expect(panel.availability).to_have_text("2 of 3 available")
    expect(panel.button("Borrow")).to_have_count(0)
    assert_focus_not_on_body(page)
    # Focus on what happened, not on Return: Enter pressed twice must not undo the borrow.
    expect(panel.status).to_be_focused()
    loan = Loan.objects.open().get(book=book, borrower=member)
    expect(panel.region).to_contain_text(f"You have copy {loan.copy.barcode}, due back on")

    # The book list says so too.
    books = BookList(page, base).open(f"?q={title}")
    expect(books.row(title).locator(".book-availability")).to_have_text("2 of 3 available")
    panel.open(book.pk)
    expect(panel.region).to_contain_text("You have copy")

    # --- /loans/ lists it; renew it there -------------------------------------------------------
    panel.region.get_by_role("link", name="Your loans and holds").click()
    loans = LoansPage(page, base)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your loans and holds")
    expect(loans.loan(title)).to_contain_text(f"Copy {loan.copy.barcode}, due")
    expect(loans.loan(title).locator(".badge", has_text="Overdue")).to_have_count(0)
    loans.renew(title)
    expect(page).to_have_url(f"{base}/loans/")
    expect(toast(page, f"Renewed: “{title}” is now due on")).to_be_visible()
    expect(loans.loan(title)).to_contain_text("renewed once")
    expect(loans.loan(title)).to_be_focused()  # htmx: the lists swapped, focus on the row
    loan.refresh_from_db()
    assert loan.renewals == 1 and loan.returned_at is None

    # --- return it from /loans/ -----------------------------------------------------------------
    loans.give_back(title)
    expect(page).to_have_url(f"{base}/loans/")
    expect(toast(page, f"“{title}” returned. Thank you!")).to_be_visible()
    expect(loans.loan(title)).to_have_count(0)
    expect(loans.returned(title)).to_contain_text("returned")
    expect(page.get_by_role("heading", name="On loan")).to_be_focused()
    loan.refresh_from_db()
    assert loan.returned_at is not None

    # The book's panel offers it again, all copies on the shelf.
    panel.open(book.pk)
    expect(panel.availability).to_have_text("3 of 3 available")
    expect(panel.button("Borrow")).to_be_visible()


def test_a_hold_is_served_from_the_hold_shelf_when_the_copy_comes_back(
    page: Page, new_context, live_server, demo_site, browser_problems
):
    base = live_server.url
    member = demo_site["member"]
    book = free_book(member, copies=1)
    title = book.title
    rosa = create_member("rosa", "Rosa")

    # --- rosa borrows the only copy ------------------------------------------------------------
    log_in(page, base, "rosa", PASSWORD)
    rosas = CopiesPanel(page, base).open(book.pk)
    expect(rosas.availability).to_have_text("1 of 1 available")
    scripts_ready(page)
    rosas.press("Borrow")
    expect(toast(page, borrowed(title))).to_be_visible()
    expect(rosas.region).to_contain_text("You have copy")
    expect(rosas.availability).to_have_text("On loan")
    assert Loan.objects.open().get(book=book).borrower == rosa

    # --- member, in a browser of their own, finds it on loan and places a hold ----------------
    max_page = context_for(browser_problems, new_context).new_page()
    log_in(max_page, base, "member", PASSWORD)
    maxs = CopiesPanel(max_page, base).open(book.pk)
    expect(maxs.availability).to_have_text("On loan")
    expect(maxs.button("Borrow")).to_have_count(0)
    scripts_ready(max_page)
    maxs.press("Place a hold")
    expect(toast(max_page, f"You are in the queue for “{title}”.")).to_be_visible()
    expect(maxs.region).to_contain_text("You are number 1 in the queue.")
    expect(maxs.availability).to_have_text("On loan · 1 waiting")
    assert_focus_not_on_body(max_page)
    expect(maxs.status).to_be_focused()
    hold = Hold.objects.get(book=book, member=member)
    assert hold.status == HoldStatus.WAITING

    # --- rosa returns it: the copy goes to the hold shelf for member ------------------------------
    rosas.open(book.pk)  # her page learns of the queue
    expect(rosas.availability).to_have_text("On loan · 1 waiting")
    scripts_ready(page)
    rosas.press("Return")
    expect(toast(page, f"“{title}” returned. Thank you!")).to_be_visible()
    expect(rosas.region).not_to_contain_text("You have copy")
    # Not back on the open shelf: the copy is member's, so rosa cannot take it again.
    expect(rosas.button("Borrow")).to_have_count(0)
    expect(rosas.availability).not_to_have_text(re.compile(r"^1 of 1"))
    assert_focus_not_on_body(page)
    hold.refresh_from_db()
    assert hold.status == HoldStatus.READY

    # --- member reloads the book and borrows the copy waiting for them ---------------------------
    maxs.open(book.pk)
    expect(maxs.region).to_contain_text("A copy waits for you on the hold shelf until")
    scripts_ready(max_page)
    maxs.press("Borrow it now")
    expect(toast(max_page, borrowed(title))).to_be_visible()
    expect(maxs.region).to_contain_text("You have copy")
    expect(maxs.availability).to_have_text("On loan")
    assert_focus_not_on_body(max_page)
    loan = Loan.objects.open().get(book=book)
    assert loan.borrower == member
    hold.refresh_from_db()
    assert hold.status == HoldStatus.COLLECTED

    loans = LoansPage(max_page, base).open()
    expect(loans.loan(title)).to_contain_text(f"Copy {loan.copy.barcode}, due")
    expect(loans.hold(title)).to_have_count(0)


def test_without_javascript_a_member_borrows_from_the_books_page(
    browser: Browser, live_server, demo_site, browser_problems
):
    base = live_server.url
    member = demo_site["member"]
    book = free_book(member, copies=2)
    title = book.title

    page = watch(browser.new_context(java_script_enabled=False), browser_problems).new_page()
    page.goto(f"{base}/accounts/login/")
    fill_login_form(page, "member", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    panel = CopiesPanel(page, base).open(book.pk)
    expect(panel.availability).to_have_text("2 of 2 available")
    panel.press("Borrow")
    expect(page).to_have_url(f"{base}/books/{book.pk}/")
    expect(page.get_by_text(borrowed(title))).to_be_visible()
    expect(panel.region).to_contain_text("You have copy")
    expect(panel.availability).to_have_text("1 of 2 available")
    assert Loan.objects.open().filter(book=book, borrower=member).exists()


def test_loans_fit_a_phone_and_show_the_overdue_loan(page: Page, live_server, demo_site):
    member = demo_site["member"]
    overdue = [loan for loan in Loan.objects.open().filter(borrower=member) if loan.is_overdue]
    current = [loan for loan in Loan.objects.open().filter(borrower=member) if not loan.is_overdue]
    assert len(overdue) == 1 and len(current) == 1, (overdue, current)
    held = Hold.objects.active().get(member=member)

    page.set_viewport_size(PHONE_SIZE)
    log_in(page, live_server.url, "member", PASSWORD)
    loans = LoansPage(page, live_server.url).open()
    expect(loans.section("On loan").locator("li")).to_have_count(2)
    late = loans.loan(overdue[0].book.title)
    expect(late.locator(".badge", has_text="Overdue")).to_be_visible()
    expect(loans.loan(current[0].book.title).locator(".badge", has_text="Overdue")).to_have_count(0)
    expect(loans.hold(held.book.title)).to_contain_text("Number 1 in the queue")
    assert_no_sideways_scroll(page)


def test_a_librarian_checks_copies_in_and_out_by_barcode_at_the_desk(
    page: Page, live_server, demo_site
):
    base = live_server.url
    member, librarian = demo_site["member"], demo_site["librarian"]
    # seed_demo: the librarian has the only copy of a book that member waits for.
    held = Hold.objects.active().get(member=member)
    lent = Loan.objects.open().get(book=held.book, borrower=librarian)
    late = next(loan for loan in Loan.objects.open().filter(borrower=member) if loan.is_overdue)
    title, barcode = held.book.title, lent.copy.barcode

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, base, "librarian", PASSWORD)
    desk = Desk(page, base).open()
    scripts_ready(page)
    overdue = desk.section("Overdue")
    expect(overdue.locator("li")).to_have_count(1)
    expect(overdue).to_contain_text(f"{late.book.title}")
    expect(overdue).to_contain_text(f"{member} · copy {late.copy.barcode}")

    # --- check in: the copy goes to the hold shelf for the member who waits ----------------
    desk.scan(barcode)  # the field has the focus from the start
    expect(desk.results).to_have_count(1)
    expect(desk.results.first).to_contain_text(
        f"Hold shelf “{title}” ({barcode}) from {librarian}: put it on the hold shelf for {member}"
    )
    expect(desk.barcode).to_be_focused()
    expect(desk.barcode).to_have_value("")
    expect(desk.section("On the hold shelf")).to_contain_text(f"Copy {barcode} for {member}")
    assert Hold.objects.get(pk=held.pk).status == HoldStatus.READY

    # --- check out: the member comes to the desk; the copy kept for them is scanned --------
    desk.member.fill("member")
    desk.barcode.focus()
    desk.scan(barcode.lower())  # scanners and typists differ in case
    expect(desk.results).to_have_count(2)
    expect(desk.results.first).to_contain_text(
        f"Checked out “{title}” ({barcode}) to {member}, due"
    )
    expect(desk.barcode).to_be_focused()
    expect(desk.member).to_have_value("member")  # the next copy goes to the same person
    loan = Loan.objects.open().get(copy__barcode=barcode)
    assert loan.borrower == member
    assert Hold.objects.get(pk=held.pk).status == HoldStatus.COLLECTED

    # --- the member's overdue copy comes back: a plain return, said to be late ------------
    desk.scan(late.copy.barcode)
    expect(desk.results.first).to_contain_text(f"from {member}: back on the shelf.")
    expect(desk.results.first).to_contain_text("days late.")
    expect(desk.barcode).to_be_focused()
    expect(overdue).to_contain_text("No loan is overdue.")  # the lists follow each scan
    expect(desk.section("On the hold shelf")).to_contain_text("No copy waits on the hold shelf.")

    # --- mistakes: an unknown barcode keeps the focus; an unknown member sends it there ----
    desk.scan("NO-SUCH-COPY")
    expect(desk.results.first).to_contain_text("Not done No copy has the barcode “NO-SUCH-COPY”.")
    expect(desk.barcode).to_be_focused()
    desk.member.fill("nobody")
    desk.barcode.focus()
    desk.scan(late.copy.barcode)
    expect(desk.results.first).to_contain_text("No member is called “nobody”")
    expect(desk.member).to_be_focused()
    expect(desk.barcode).to_have_value(late.copy.barcode)  # back, to send again
    expect(desk.results).to_have_count(5)
    assert Copy.objects.get(pk=late.copy.pk).status == CopyStatus.AVAILABLE
    desk.member.fill("member")
    desk.barcode.fill("")
    expect(desk.barcode).to_be_focused()
    page.screenshot(path=str(DESK_SCREENSHOT))  # README's picture of the desk


def test_a_librarian_adds_and_withdraws_copies(page: Page, live_server, demo_site):
    base = live_server.url
    book = free_book(demo_site["member"], copies=1)
    log_in(page, base, "librarian", PASSWORD)
    panel = CopiesPanel(page, base).open(book.pk)
    panel.region.get_by_role("link", name="Manage copies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Copies of “{book.title}”")
    scripts_ready(page)
    page.get_by_label("Copies to add").fill("2")
    page.get_by_role("button", name="Add copies").click()
    expect(toast(page, "Added 2 copies:")).to_be_visible()
    expect(page.locator("#copies .book-availability")).to_have_text("3 of 3 available")
    assert_focus_not_on_body(page)
    new = list(Copy.objects.filter(book=book).order_by("-added_at", "-barcode")[:2])
    expect(page.locator(f"#copy-{min(c.pk for c in new)}")).to_be_focused()

    page.get_by_label("Copies to add").fill("80")
    page.get_by_role("button", name="Add copies").click()
    expect(page.get_by_text("Add at most 50 copies at a time.")).to_be_visible()
    expect(page.get_by_label("Copies to add")).to_be_focused()
    assert Copy.objects.filter(book=book).count() == 3

    gone = new[0]
    htmx_settled(page)
    row = page.locator(f"#copy-{gone.pk}")
    row.locator("summary").click()  # withdrawing cannot be undone: a second press confirms
    row.get_by_role("button", name=f"Withdraw {gone.barcode}").click()
    expect(toast(page, f"Copy {gone.barcode} withdrawn.")).to_be_visible()
    expect(page.locator("#copies .book-availability")).to_have_text("2 of 2 available")
    expect(page.locator(f"#copy-{gone.pk}")).to_be_focused()
    expect(row.locator("summary")).to_have_count(0)


def test_the_desk_keeps_every_scan_of_a_fast_scanner(page: Page, live_server, demo_site):
    """A scanner types each barcode and Enter within milliseconds, before the answer to the
    previous scan arrives: no scan may be lost, merged or cut short."""
    base = live_server.url
    loans = list(Loan.objects.open().select_related("copy").order_by("pk"))
    assert len(loans) == 3, loans  # seed_demo: member's two loans, librarian's one
    log_in(page, base, "librarian", PASSWORD)
    desk = Desk(page, base).open()
    scripts_ready(page)
    expect(desk.barcode).to_be_focused()
    page.keyboard.type("".join(f"{loan.copy.barcode}\n" for loan in loans))
    expect(desk.results).to_have_count(3)
    for loan in loans:
        expect(desk.results.filter(has_text=f"({loan.copy.barcode}) from")).to_have_count(1)
    expect(desk.results.filter(has_text="Not done")).to_have_count(0)
    expect(desk.barcode).to_be_focused()
    expect(desk.barcode).to_have_value("")
    assert not Loan.objects.open().exists()


def test_without_javascript_loans_the_desk_and_the_copies_work(
    browser: Browser, live_server, demo_site, browser_problems
):
    """Every circulation action is a plain form post that comes back to its page."""
    base = live_server.url
    member = demo_site["member"]
    current = next(
        loan for loan in Loan.objects.open().filter(borrower=member) if not loan.is_overdue
    )

    # The member renews on /loans/.
    page = watch(browser.new_context(java_script_enabled=False), browser_problems).new_page()
    page.goto(f"{base}/accounts/login/")
    fill_login_form(page, "member", PASSWORD)
    loans = LoansPage(page, base).open()
    loans.renew(current.book.title)
    expect(page).to_have_url(f"{base}/loans/")
    expect(page.get_by_text(f"Renewed: “{current.book.title}” is now due on")).to_be_visible()
    expect(loans.loan(current.book.title)).to_contain_text("renewed once")

    # The librarian checks the member's copy in at the desk: a message after the redirect.
    desk_page = watch(browser.new_context(java_script_enabled=False), browser_problems).new_page()
    desk_page.goto(f"{base}/accounts/login/")
    fill_login_form(desk_page, "librarian", PASSWORD)
    desk = Desk(desk_page, base).open()
    desk.barcode.fill(current.copy.barcode)
    desk.barcode.press("Enter")
    expect(desk_page).to_have_url(f"{base}/circulation/")
    expect(desk_page.get_by_text(f"Returned: “{current.book.title}”")).to_be_visible()
    assert Loan.objects.get(pk=current.pk).returned_at is not None

    # …and withdraws that copy: the confirmation opens without JavaScript too (<details>).
    desk_page.goto(f"{base}/inventory/{current.book.pk}/")
    row = desk_page.locator(f"#copy-{current.copy.pk}")
    row.locator("summary").click()
    row.get_by_role("button", name=f"Withdraw {current.copy.barcode}").click()
    expect(desk_page.get_by_text(f"Copy {current.copy.barcode} withdrawn.")).to_be_visible()
    expect(row).to_contain_text("Withdrawn")
    assert Copy.objects.get(pk=current.copy.pk).status == CopyStatus.WITHDRAWN
