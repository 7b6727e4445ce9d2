"""The member's side of circulation over HTTP: a book's Copies panel (borrow, hold, return,
renew, cancel; plain posts and htmx), /loans/, and availability on the list and the book.

The members and the librarian hold the real roles (the groups post_migrate creates), as in
test_services.py; ``viewer`` (conftest) browses without the permission to borrow.
"""

from __future__ import annotations

import datetime
from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from apps.bookshelf.tests.factories import BookFactory
from apps.circulation.models import Copy, CopyStatus, Hold, HoldStatus, Loan
from apps.circulation.services import borrow, place_hold, return_loan
from apps.core.tests.support import htmx, in_role, text, toasts

from .helpers import book_with_copies, fresh

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
HTMX = htmx("/books/?q=x")
LOANS_URL = reverse("circulation:loans")
LIST_URL = reverse("bookshelf:book-list")
PANEL = '<section id="circulation"'


def someone_else(tag: str):
    return in_role("Members", username=f"other-{tag}")


def borrow_url(book) -> str:
    return reverse("circulation:borrow", args=[book.pk])


def hold_url(book) -> str:
    return reverse("circulation:hold", args=[book.pk])


def return_url(loan) -> str:
    return reverse("circulation:loan-return", args=[loan.pk])


def renew_url(loan) -> str:
    return reverse("circulation:loan-renew", args=[loan.pk])


def cancel_url(hold) -> str:
    return reverse("circulation:hold-cancel", args=[hold.pk])


def due(loan) -> str:
    return date_format(loan.due_at, "DATE_FORMAT")


# --- Borrowing -------------------------------------------------------------------------------


def test_plain_borrow_goes_back_to_next_and_says_when_it_is_due(client, alice):
    book = book_with_copies(2, title="Dune")
    client.force_login(alice)
    response = client.post(borrow_url(book), {"next": "/books/?q=dune"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/books/?q=dune"
    loan = Loan.objects.get(borrower=alice, book=book)
    assert loan.returned_at is None
    assert fresh(loan.copy).status == CopyStatus.ON_LOAN
    page = text(client.get(response["Location"]))
    assert f"You borrowed “Dune”. It is due back on {due(loan)}." in page


def test_plain_borrow_without_next_or_with_an_offsite_next_goes_to_the_book(client, alice, bob):
    book = book_with_copies(2)
    client.force_login(alice)
    response = client.post(borrow_url(book))
    assert response["Location"] == book.get_absolute_url()
    client.force_login(bob)
    response = client.post(borrow_url(book), {"next": "https://evil.example/"})
    assert response["Location"] == book.get_absolute_url()
    assert Loan.objects.filter(book=book).count() == 2


def test_htmx_borrow_answers_with_the_panel_showing_the_loan_and_a_toast(client, alice):
    book = book_with_copies(3, title="Dune")
    client.force_login(alice)
    response = client.post(borrow_url(book), **HTMX)
    assert response.status_code == HTTPStatus.OK
    loan = Loan.objects.get(borrower=alice, book=book)
    body = text(response)
    assert "<html" not in body
    assert body.count(PANEL) == 1
    assert "2 of 3 available" in body
    assert f"You have copy {loan.copy.barcode}, due back on {due(loan)}." in body
    assert f'action="{return_url(loan)}"' in body
    assert ">Return</button>" in body
    assert f'action="{renew_url(loan)}"' in body
    assert f'action="{borrow_url(book)}"' not in body  # no second Borrow
    assert toasts(response) == [
        {"message": f"You borrowed “Dune”. It is due back on {due(loan)}.", "level": "success"}
    ]


def test_no_free_copy_says_place_a_hold_and_the_panel_offers_one(client, alice, bob):
    book = book_with_copies(1, title="Dune")
    borrow(book=book, member=alice)
    client.force_login(bob)
    response = client.post(borrow_url(book), **HTMX)
    assert response.status_code == HTTPStatus.OK
    (toast,) = toasts(response)
    assert toast["level"] == "danger"
    assert toast["message"] == "No copy of “Dune” is free right now. Place a hold to be next."
    body = text(response)
    assert PANEL in body
    assert "On loan" in body
    assert f'action="{hold_url(book)}"' in body
    assert ">Place a hold</button>" in body
    assert f'action="{borrow_url(book)}"' not in body
    assert not Loan.objects.filter(borrower=bob).exists()


def test_no_free_copy_with_a_plain_post_explains_after_the_redirect(client, alice, bob):
    book = book_with_copies(1, title="Dune")
    borrow(book=book, member=alice)
    client.force_login(bob)
    response = client.post(borrow_url(book))
    assert response["Location"] == book.get_absolute_url()
    page = text(client.get(response["Location"]))
    assert "Place a hold to be next." in page
    assert ">Place a hold</button>" in page
    assert not Loan.objects.filter(borrower=bob).exists()


def test_a_draft_book_cannot_be_borrowed_or_held_it_is_not_found(client, alice):
    draft = BookFactory()
    Copy.objects.create(book=draft, barcode="DRAFT-01")
    client.force_login(alice)
    assert client.post(borrow_url(draft)).status_code == HTTPStatus.NOT_FOUND
    assert client.post(hold_url(draft)).status_code == HTTPStatus.NOT_FOUND
    response = client.post(borrow_url(draft), **HTMX)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["HX-Retarget"] == "#toasts"
    assert not Loan.objects.exists()
    assert not Hold.objects.exists()


# --- Holds -----------------------------------------------------------------------------------


def test_plain_post_places_a_hold_and_the_book_page_shows_the_place_in_the_queue(
    client, alice, bob
):
    book = book_with_copies(1, title="Dune")
    borrow(book=book, member=alice)
    client.force_login(bob)
    response = client.post(hold_url(book), {"next": book.get_absolute_url()})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == book.get_absolute_url()
    hold = Hold.objects.get(member=bob, book=book)
    assert hold.status == HoldStatus.WAITING
    page = text(client.get(response["Location"]))
    assert "You are in the queue for “Dune”. We will e-mail you." in page
    assert "You are number 1 in the queue." in page
    assert "On loan · 1 waiting" in page
    assert f'action="{cancel_url(hold)}"' in page


def test_htmx_hold_answers_with_the_panel_and_a_toast(client, alice, bob):
    book = book_with_copies(1, title="Dune")
    borrow(book=book, member=alice)
    client.force_login(bob)
    response = client.post(hold_url(book), **HTMX)
    assert response.status_code == HTTPStatus.OK
    hold = Hold.objects.get(member=bob, book=book)
    body = text(response)
    assert PANEL in body
    assert "You are number 1 in the queue." in body
    assert f'action="{cancel_url(hold)}"' in body
    assert toasts(response) == [
        {"message": "You are in the queue for “Dune”. We will e-mail you.", "level": "success"}
    ]


def test_a_hold_while_a_copy_is_free_is_refused_with_a_message(client, alice):
    book = book_with_copies(1)
    client.force_login(alice)
    response = client.post(hold_url(book), **HTMX)
    assert toasts(response) == [
        {"message": "A copy is free: borrow it instead of waiting.", "level": "danger"}
    ]
    assert not Hold.objects.exists()


def test_member_cancels_their_hold_from_loans(client, alice, bob):
    book = book_with_copies(1, title="Dune")
    borrow(book=book, member=alice)
    hold = place_hold(book=book, member=bob)
    client.force_login(bob)
    assert f'action="{cancel_url(hold)}"' in client.get(LOANS_URL).text
    response = client.post(cancel_url(hold), {"next": LOANS_URL})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == LOANS_URL
    assert fresh(hold).status == HoldStatus.CANCELLED
    page = text(client.get(LOANS_URL))
    assert "Hold on “Dune” cancelled." in page
    assert f'id="hold-{hold.pk}"' not in page


def test_a_ready_hold_is_borrowed_from_the_panel(client, alice, bob):
    book = book_with_copies(1, title="Dune")
    loan = borrow(book=book, member=alice)
    hold = place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)
    hold = fresh(hold)
    assert hold.status == HoldStatus.READY
    client.force_login(bob)
    page = text(client.get(book.get_absolute_url()))
    assert "On the hold shelf" in page
    until = date_format(hold.ready_until, "DATE_FORMAT")
    assert f"A copy waits for you on the hold shelf until {until}." in page
    assert ">Borrow it now</button>" in page
    response = client.post(borrow_url(book), **HTMX)
    assert response.status_code == HTTPStatus.OK
    new_loan = Loan.objects.get(borrower=bob, returned_at=None)
    assert new_loan.copy == hold.copy
    assert fresh(hold).status == HoldStatus.COLLECTED
    assert f"You have copy {new_loan.copy.barcode}" in text(response)
    assert toasts(response)[0]["level"] == "success"


def test_htmx_cancel_of_a_ready_hold_puts_the_copy_back_and_shows_the_panel(client, alice, bob):
    book = book_with_copies(1, title="Dune")
    loan = borrow(book=book, member=alice)
    hold = place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)
    client.force_login(bob)
    response = client.post(cancel_url(hold), **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert fresh(hold).status == HoldStatus.CANCELLED
    assert fresh(hold).copy.status == CopyStatus.AVAILABLE
    body = text(response)
    assert PANEL in body
    assert "1 of 1 available" in body
    assert f'action="{borrow_url(book)}"' in body
    assert toasts(response) == [{"message": "Hold on “Dune” cancelled.", "level": "success"}]


def test_another_members_hold_cannot_be_cancelled_and_is_not_revealed(client, alice, bob):
    book = book_with_copies(1)
    borrow(book=book, member=someone_else("x"))
    hold = place_hold(book=book, member=alice)
    client.force_login(bob)
    assert client.post(cancel_url(hold)).status_code == HTTPStatus.NOT_FOUND
    response = client.post(cancel_url(hold), **HTMX)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["HX-Retarget"] == "#toasts"
    assert fresh(hold).status == HoldStatus.WAITING
    # The same answer as for a hold that does not exist.
    assert client.post(reverse("circulation:hold-cancel", args=[999999])).status_code == 404


# --- Returning and renewing ------------------------------------------------------------------


def test_member_returns_their_loan_from_loans_and_comes_back_to_it(client, alice):
    book = book_with_copies(1, title="Dune")
    loan = borrow(book=book, member=alice)
    client.force_login(alice)
    page = client.get(LOANS_URL).text
    assert f'action="{return_url(loan)}"' in page
    response = client.post(return_url(loan), {"next": LOANS_URL})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == LOANS_URL
    loan = fresh(loan)
    assert loan.returned_at is not None
    assert fresh(loan.copy).status == CopyStatus.AVAILABLE
    page = text(client.get(LOANS_URL))
    assert "“Dune” returned. Thank you!" in page
    assert "Nothing on loan." in page
    assert f"returned {date_format(loan.returned_at, 'DATE_FORMAT')}" in page


def test_member_renews_their_loan_from_loans(client, alice):
    book = book_with_copies(1, title="Dune")
    loan = borrow(book=book, member=alice)
    before = loan.due_at
    client.force_login(alice)
    page = client.get(LOANS_URL).text
    assert f'action="{renew_url(loan)}"' in page
    response = client.post(renew_url(loan), {"next": LOANS_URL})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == LOANS_URL
    loan = fresh(loan)
    assert loan.renewals == 1
    assert loan.due_at > before
    page = text(client.get(LOANS_URL))
    assert f"Renewed: “Dune” is now due on {due(loan)}." in page
    assert "renewed once" in page


def test_renewal_refused_while_someone_waits_is_a_message_not_an_error(client, alice, bob):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    client.force_login(alice)
    response = client.post(renew_url(loan), {"next": LOANS_URL})
    assert response["Location"] == LOANS_URL
    assert "Someone is waiting for this book: it cannot be renewed." in text(client.get(LOANS_URL))
    assert fresh(loan).renewals == 0


def test_htmx_return_answers_with_the_panel_offering_borrow_again(client, alice):
    book = book_with_copies(1, title="Dune")
    loan = borrow(book=book, member=alice)
    client.force_login(alice)
    response = client.post(return_url(loan), **HTMX)
    assert response.status_code == HTTPStatus.OK
    body = text(response)
    assert PANEL in body
    assert "1 of 1 available" in body
    assert f'action="{borrow_url(book)}"' in body
    assert toasts(response) == [{"message": "“Dune” returned. Thank you!", "level": "success"}]


@pytest.mark.parametrize("url_of", [return_url, renew_url], ids=["return", "renew"])
def test_another_members_loan_is_not_found_and_nothing_changes(client, alice, bob, url_of):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    client.force_login(bob)
    assert client.post(url_of(loan), {"next": LOANS_URL}).status_code == HTTPStatus.NOT_FOUND
    response = client.post(url_of(loan), **HTMX)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["HX-Retarget"] == "#toasts"
    assert "<html" not in response.text
    loan = fresh(loan)
    assert loan.returned_at is None
    assert loan.renewals == 0
    assert fresh(loan.copy).status == CopyStatus.ON_LOAN
    # Indistinguishable from a loan that does not exist.
    missing = reverse(
        "circulation:loan-return" if url_of is return_url else "circulation:loan-renew",
        args=[999999],
    )
    assert client.post(missing).status_code == HTTPStatus.NOT_FOUND


def test_a_librarian_may_return_another_members_loan(client, alice, librarian):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    client.force_login(librarian)
    response = client.post(return_url(loan))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == book.get_absolute_url()
    assert fresh(loan).returned_at is not None
    assert fresh(loan.copy).status == CopyStatus.AVAILABLE


def test_an_already_returned_loan_is_a_message(client, alice):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    return_loan(loan=loan, actor=alice)
    client.force_login(alice)
    response = client.post(return_url(loan), **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert toasts(response) == [{"message": "This loan was already returned.", "level": "danger"}]


# --- Who may ---------------------------------------------------------------------------------


def test_a_viewer_may_not_borrow(client, viewer):
    book = book_with_copies(1)
    client.force_login(viewer)
    response = client.post(borrow_url(book))
    assert response.status_code == HTTPStatus.FORBIDDEN
    response = client.post(borrow_url(book), **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["HX-Retarget"] == "#toasts"
    assert response["HX-Reswap"] == "beforeend"
    assert 'class="toast' in response.text
    assert "<html" not in response.text
    assert "You don't have permission to borrow books." in text(response)
    assert client.post(hold_url(book)).status_code == HTTPStatus.FORBIDDEN
    assert not Loan.objects.exists()
    assert not Hold.objects.exists()


def test_a_viewer_has_no_loans_page(client, viewer):
    client.force_login(viewer)
    response = client.get(LOANS_URL)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "You don't have permission to borrow books." in text(response)


def test_a_viewer_sees_availability_but_no_buttons(client, viewer):
    book = book_with_copies(2)
    client.force_login(viewer)
    page = text(client.get(book.get_absolute_url()))
    assert PANEL in page
    assert "2 of 2 available" in page
    assert f'action="{borrow_url(book)}"' not in page
    assert "Your loans and holds" not in page


def test_anonymous_is_sent_to_log_in(client):
    book = book_with_copies(1)
    login = reverse("accounts:login")
    response = client.get(LOANS_URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{login}?next={quote(LOANS_URL)}"
    response = client.post(borrow_url(book), {"next": book.get_absolute_url()})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{login}?next={quote(book.get_absolute_url())}"
    response = client.post(borrow_url(book), **HTMX)
    assert response["HX-Redirect"] == f"{login}?next=/books/%3Fq%3Dx"
    assert not Loan.objects.exists()


@pytest.mark.parametrize(
    "name", ["borrow", "hold", "hold-cancel", "loan-return", "loan-renew"], ids=str
)
def test_post_only_urls_refuse_get(client, alice, name):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    pk = loan.pk if name.startswith("loan") else book.pk
    if name == "hold-cancel":
        pk = Hold.objects.create(book=book, member=someone_else("h")).pk
    client.force_login(alice)
    response = client.get(reverse(f"circulation:{name}", args=[pk]))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "POST"
    assert fresh(loan).returned_at is None
    assert fresh(loan).renewals == 0


# --- /loans/ ---------------------------------------------------------------------------------


def make_overdue(loan, days_late: int = 3) -> Loan:
    now = timezone.now()
    Loan.objects.filter(pk=loan.pk).update(
        borrowed_at=now - (21 + days_late) * DAY, due_at=now - days_late * DAY
    )
    return fresh(loan)


def test_loans_lists_open_loans_holds_and_returned_loans(client, alice, bob):
    on_time = borrow(book=book_with_copies(1, title="Emma"), member=alice)
    late = make_overdue(borrow(book=book_with_copies(1, title="Dune"), member=alice))
    # Alice is second in Solaris's queue.
    solaris = book_with_copies(1, title="Solaris")
    borrow(book=solaris, member=someone_else("s"))
    place_hold(book=solaris, member=bob)
    second = place_hold(book=solaris, member=alice)
    # A copy of Ubik waits for her on the hold shelf.
    ubik = book_with_copies(1, title="Ubik")
    walker_loan = borrow(book=ubik, member=someone_else("u"))
    ready = place_hold(book=ubik, member=alice)
    return_loan(loan=walker_loan, actor=walker_loan.borrower)
    ready = fresh(ready)
    assert ready.status == HoldStatus.READY
    # A past loan.
    past = borrow(book=book_with_copies(1, title="Kindred"), member=alice)
    past = return_loan(loan=past, actor=alice)
    # Someone else's loan is not hers to see.
    borrow(book=book_with_copies(1, title="Not hers"), member=bob)

    client.force_login(alice)
    response = client.get(LOANS_URL)
    assert response.status_code == HTTPStatus.OK
    page = text(response)
    assert f"Copy {on_time.copy.barcode}, due {due(on_time)}" in page
    assert f"Copy {late.copy.barcode}, due {due(late)}" in page
    # Overdue first (by due date), and only the late one has the badge.
    assert page.index("Dune") < page.index("Emma")
    assert page.count(">Overdue</span>") == 1
    late_row = page[page.index(f'id="loan-{late.pk}"') : page.index(f'id="loan-{on_time.pk}"')]
    assert "Overdue" in late_row
    assert f'loan-overdue" id="loan-{late.pk}"' in page
    assert f'loan-overdue" id="loan-{on_time.pk}"' not in page
    assert "Number 2 in the queue" in page[page.index(f'id="hold-{second.pk}"') :]
    ready_until = date_format(ready.ready_until, "DATE_FORMAT")
    assert f"On the hold shelf for you until {ready_until}" in page
    assert "Kindred" in page
    assert f"returned {date_format(past.returned_at, 'DATE_FORMAT')}" in page
    assert "Not hers" not in page
    assert {row.loan for row in response.context["open_loans"]} == {on_time, late}
    assert {h.pk for h in response.context["holds"]} == {second.pk, ready.pk}


def test_empty_loans_page_points_to_the_catalogue(client, alice):
    client.force_login(alice)
    page = text(client.get(LOANS_URL))
    assert "Nothing on loan." in page
    assert "No holds." in page
    assert "Returned" not in page


def fill_loans_page(member, size: int) -> None:
    """``size`` books on loan (at most the limit), ``size`` holds, ``size`` past loans."""
    for index in range(size):
        book = book_with_copies(1, title=f"Past {size}-{index}")
        return_loan(loan=borrow(book=book, member=member), actor=member)
    for index in range(min(size, 5)):
        make_overdue(borrow(book=book_with_copies(1), member=member), days_late=index)
    for index in range(size):
        book = book_with_copies(1)
        borrow(book=book, member=someone_else(f"{size}-{index}"))
        place_hold(book=book, member=member)


@pytest.mark.parametrize("size", [1, 12])
def test_loans_query_count_is_fixed(client, alice, size, django_assert_max_num_queries):
    fill_loans_page(alice, size)
    client.force_login(alice)
    client.get(LOANS_URL)  # warm the session
    # Session, user, permissions (user, groups), open loans, who waits for them, past
    # loans, holds, queue.
    with django_assert_max_num_queries(9):
        response = client.get(LOANS_URL)
    assert len(response.context["holds"]) == size
    assert len(response.context["past_loans"]) == size


def test_loans_query_count_does_not_grow(client, alice, bob):
    def count(member, size):
        fill_loans_page(member, size)
        client.force_login(member)
        client.get(LOANS_URL)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LOANS_URL).status_code == HTTPStatus.OK
        return len(queries)

    assert count(alice, 1) == count(bob, 10)


# --- Availability on the list and the book ---------------------------------------------------


def test_list_rows_show_availability(client, alice, bob):
    two_of_three = book_with_copies(3, title="Alpha")
    borrow(book=two_of_three, member=alice)
    all_out = book_with_copies(1, title="Beta")
    borrow(book=all_out, member=alice)
    place_hold(book=all_out, member=bob)
    book_with_copies(0, title="Gamma")
    shelved = book_with_copies(1, title="Delta")
    walker = someone_else("d")
    walker_loan = borrow(book=shelved, member=walker)
    place_hold(book=shelved, member=alice)
    return_loan(loan=walker_loan, actor=walker)
    client.force_login(bob)
    response = client.get(LIST_URL)
    page = text(response)
    rows = {book.title: book.availability for book in response.context["books"]}
    assert str(rows["Alpha"]) == "2 of 3 available"
    assert str(rows["Beta"]) == "On loan · 1 waiting"
    assert rows["Gamma"].total == 0
    assert str(rows["Delta"]) == "On the hold shelf"
    assert page.count('book-availability">') == 3
    alpha = page[page.index(f'id="book-{two_of_three.pk}"') :]
    assert alpha[: alpha.index("</tr>")].count("2 of 3 available") == 1
    beta = page[page.index(f'id="book-{all_out.pk}"') :]
    assert "On loan · 1 waiting" in beta[: beta.index("</tr>")]


def test_list_query_count_does_not_grow_with_copies(client, alice):
    def count(books):
        for index in range(books):
            book = book_with_copies(3)
            if index % 2:
                borrow(book=book, member=someone_else(f"l{books}-{index}"))
        with CaptureQueriesContext(connection) as queries:
            client.get(LIST_URL)
        return len(queries)

    client.force_login(alice)
    client.get(LIST_URL)
    small = count(2)
    assert count(20) == small


def test_detail_shows_availability_and_a_login_link_to_visitors(client, alice):
    book = book_with_copies(3, title="Dune")
    borrow(book=book, member=alice)
    url = book.get_absolute_url()
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    page = text(response)
    assert PANEL in page
    assert "2 of 3 available" in page
    assert f'<a href="{reverse("accounts:login")}?next={quote(url)}">Log in</a> to borrow it.' in (
        page
    )
    assert f'action="{borrow_url(book)}"' not in page


def test_detail_shows_the_members_own_loan(client, alice):
    book = book_with_copies(1, title="Dune")
    loan = make_overdue(borrow(book=book, member=alice))
    client.force_login(alice)
    page = text(client.get(book.get_absolute_url()))
    assert f"You have copy {loan.copy.barcode}, due back on {due(loan)}." in page
    assert ">Overdue</span>" in page
    assert "On loan" in page
    assert f'href="{LOANS_URL}"' in page


def test_loans_shows_why_a_loan_cannot_be_renewed_instead_of_the_button(
    client, alice, bob, settings
):
    awaited = borrow(book=book_with_copies(1, title="Awaited"), member=alice)
    place_hold(book=awaited.book, member=bob)
    spent = borrow(book=book_with_copies(1, title="Spent"), member=alice)
    Loan.objects.filter(pk=spent.pk).update(renewals=settings.BOOKSHELF_RENEWALS)
    free = borrow(book=book_with_copies(1, title="Free"), member=alice)
    client.force_login(alice)
    page = text(client.get(LOANS_URL))

    def row(loan) -> str:
        start = page.index(f'id="loan-{loan.pk}"')
        return page[start : page.index("</li>", start)]

    assert "Someone is waiting for this book: it cannot be renewed." in row(awaited)
    assert "Renewed 2 times already, the most a loan allows." in row(spent)
    assert ">Renew<" not in row(awaited) and ">Renew<" not in row(spent)
    assert ">Renew<" in row(free) and "cannot be renewed" not in row(free)
    # The book's Copies panel says the same.
    panel = text(client.get(awaited.book.get_absolute_url())).split(PANEL, 1)[1]
    panel = panel.split("</section>", 1)[0]
    assert "Someone is waiting for this book: it cannot be renewed." in panel
    assert ">Renew<" not in panel


def test_a_ready_hold_is_borrowed_from_loans(client, alice, bob):
    book = book_with_copies(1, title="Ubik")
    loan = borrow(book=book, member=bob)
    hold = place_hold(book=book, member=alice)
    return_loan(loan=loan, actor=bob)
    client.force_login(alice)
    page = text(client.get(LOANS_URL))
    assert f'action="{borrow_url(book)}"' in page.split(f'id="hold-{hold.pk}"', 1)[1]
    response = client.post(borrow_url(book), {"next": LOANS_URL})
    assert response["Location"] == LOANS_URL
    assert Loan.objects.open().get(book=book).borrower == alice
    assert fresh(hold).status == HoldStatus.COLLECTED


def test_at_the_loan_limit_the_panel_says_so_instead_of_offering_borrow(client, alice, settings):
    settings.BOOKSHELF_LOAN_LIMIT = 1
    borrow(book=book_with_copies(1), member=alice)
    book = book_with_copies(1)
    client.force_login(alice)
    panel = text(client.get(book.get_absolute_url())).split(PANEL, 1)[1].split("</section>")[0]
    assert "You have 1 books on loan, the most at once. Return one first." in panel
    assert ">Borrow<" not in panel


def test_after_an_htmx_action_focus_goes_to_the_panels_status_not_a_button(client, alice):
    book = book_with_copies(2)
    client.force_login(alice)
    panel = text(client.post(borrow_url(book), **HTMX))
    assert panel.count("data-focus") == 1
    assert '<div class="panel-status mb-2" tabindex="-1" data-focus>' in panel


def test_htmx_actions_on_loans_answer_with_its_lists_and_focus_where_the_user_was(
    client, alice, bob
):
    kept = borrow(book=book_with_copies(1, title="Kept"), member=alice)
    gone = borrow(book=book_with_copies(1, title="Gone"), member=alice)
    client.force_login(alice)
    htmx = {**HTMX, "HTTP_HX_CURRENT_URL": f"http://testserver{LOANS_URL}"}

    response = client.post(renew_url(kept), {"next": LOANS_URL}, **htmx)
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="loans-lists">')
    assert f'id="loan-{kept.pk}" tabindex="-1" data-focus' in fragment
    assert "renewed once" in fragment
    assert [t["level"] for t in toasts(response)] == ["success"]

    response = client.post(return_url(gone), {"next": LOANS_URL}, **htmx)
    fragment = text(response)
    assert 'id="open-loans-heading" tabindex="-1" data-focus' in fragment
    assert f'id="loan-{gone.pk}"' not in fragment and "returned" in fragment

    book = book_with_copies(1, title="Waited")
    borrow(book=book, member=bob)
    hold = place_hold(book=book, member=alice)
    response = client.post(cancel_url(hold), {"next": LOANS_URL}, **htmx)
    assert 'id="holds-heading" tabindex="-1" data-focus' in text(response)
    assert fresh(hold).status == HoldStatus.CANCELLED

    # A refusal keeps the lists and says why in a toast; focus goes to the list's heading.
    Loan.objects.filter(pk=kept.pk).update(renewals=2)
    response = client.post(renew_url(kept), {"next": LOANS_URL}, **htmx)
    assert 'id="open-loans-heading" tabindex="-1" data-focus' in text(response)
    assert [t["level"] for t in toasts(response)] == ["danger"]
