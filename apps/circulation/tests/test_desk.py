"""The librarian's side: the desk (/circulation/: one barcode field that checks a copy in or
out, the overdue list, the hold shelf) and a book's copies (/inventory/<id>/: add,
withdraw), through ``desk_scan`` and over HTTP, plain and htmx."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import force_login_verified
from apps.bookshelf.models import Book, BookEvent
from apps.bookshelf.tests.factories import BookFactory
from apps.circulation.models import Copy, CopyStatus, Hold, HoldStatus, Loan
from apps.circulation.services import (
    CirculationRefused,
    borrow,
    desk_scan,
    place_hold,
    return_loan,
)
from apps.core.policy import PolicyDenied
from apps.core.tests.support import htmx, in_role, text, toasts

from .helpers import book_with_copies, copies

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
HTMX = htmx("/circulation/")
DESK_URL = reverse("circulation:desk")


@pytest.fixture
def desk(db):
    return in_role("Librarians", username="desk", first_name="Lia", last_name="Desk")


# --- desk_scan -------------------------------------------------------------------------------


def test_scanning_a_copy_on_loan_checks_it_in(alice, desk):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    outcome = desk_scan(barcode=f"  {loan.copy.barcode.lower()} ", member=None, actor=desk)
    assert outcome.returned and outcome.kept_for is None
    assert outcome.loan.pk == loan.pk and outcome.loan.returned_at is not None
    assert Copy.objects.get(pk=loan.copy.pk).status == CopyStatus.AVAILABLE


def test_scanning_a_returned_copy_while_someone_waits_puts_it_on_the_hold_shelf(alice, bob, desk):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    outcome = desk_scan(barcode=loan.copy.barcode, member=None, actor=desk)
    assert outcome.returned and outcome.kept_for == bob and outcome.ready_until is not None
    assert Copy.objects.get(pk=loan.copy.pk).status == CopyStatus.ON_HOLD_SHELF
    assert Hold.objects.get(book=book, member=bob).status == HoldStatus.READY


def test_a_scan_with_a_member_checks_out_that_very_copy(alice, desk):
    book = book_with_copies(3)
    third = copies(book)[2]
    outcome = desk_scan(barcode=third.barcode, member=alice, actor=desk)
    assert not outcome.returned
    assert outcome.loan.copy == third and outcome.loan.borrower == alice
    event = BookEvent.objects.filter(book_id=book.pk, action="borrowed").get()
    assert event.actor_username == "desk" and event.comment == f"for {alice}"


def test_a_free_copy_scanned_without_a_member_asks_for_one(desk):
    copy = copies(book_with_copies(1))[0]
    with pytest.raises(CirculationRefused, match="To check it out, enter the member first"):
        desk_scan(barcode=copy.barcode, member=None, actor=desk)
    assert not Loan.objects.exists()


def test_an_unknown_barcode_is_named(alice, desk):
    with pytest.raises(CirculationRefused, match="No copy has the barcode “X-404”"):
        desk_scan(barcode="X-404", member=alice, actor=desk)


def test_a_withdrawn_copy_is_not_lent(alice, desk):
    copy = copies(book_with_copies(1))[0]
    Copy.objects.filter(pk=copy.pk).update(status=CopyStatus.WITHDRAWN)
    with pytest.raises(CirculationRefused, match="is withdrawn"):
        desk_scan(barcode=copy.barcode, member=alice, actor=desk)
    assert not Loan.objects.exists()


def test_a_copy_kept_for_one_member_is_not_lent_to_another(alice, bob, desk):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)
    carol = in_role("Members", username="carol")
    with pytest.raises(CirculationRefused, match=f"waits on the hold shelf for {bob}"):
        desk_scan(barcode=loan.copy.barcode, member=carol, actor=desk)
    outcome = desk_scan(barcode=loan.copy.barcode, member=bob, actor=desk)
    assert outcome.loan.borrower == bob
    assert Hold.objects.get(book=book, member=bob).status == HoldStatus.COLLECTED


def test_taking_a_free_copy_instead_of_the_kept_one_puts_the_kept_one_back(alice, bob, desk):
    book = book_with_copies(2)
    dan = in_role("Members", username="dan")
    first, second = borrow(book=book, member=alice), borrow(book=book, member=dan)
    place_hold(book=book, member=bob)
    return_loan(loan=first, actor=alice)  # kept for bob
    return_loan(loan=second, actor=dan)  # nobody else waits: on the open shelf
    outcome = desk_scan(barcode=second.copy.barcode, member=bob, actor=desk)
    assert outcome.loan.copy == second.copy and outcome.loan.borrower == bob
    assert Hold.objects.get(book=book, member=bob).status == HoldStatus.COLLECTED
    assert Copy.objects.get(pk=first.copy.pk).status == CopyStatus.AVAILABLE
    assert not Hold.objects.filter(status=HoldStatus.READY).exists()


def test_the_desk_needs_can_manage_inventory(alice, bob):
    copy = copies(book_with_copies(1))[0]
    with pytest.raises(PolicyDenied):
        desk_scan(barcode=copy.barcode, member=bob, actor=alice)


def test_the_desk_names_the_member_at_their_loan_limit(alice, desk, settings):
    settings.BOOKSHELF_LOAN_LIMIT = 1
    borrow(book=book_with_copies(1), member=alice)
    copy = copies(book_with_copies(1))[0]
    with pytest.raises(CirculationRefused, match=f"{alice} has 1 books on loan"):
        desk_scan(barcode=copy.barcode, member=alice, actor=desk)


# --- /circulation/ over HTTP -----------------------------------------------------------------


def overdue_loan(member, *, days_late: int, **book_fields) -> Loan:
    loan = borrow(book=book_with_copies(1, **book_fields), member=member)
    now = timezone.now()
    Loan.objects.filter(pk=loan.pk).update(
        borrowed_at=now - (21 + days_late) * DAY, due_at=now - days_late * DAY
    )
    return Loan.objects.get(pk=loan.pk)


def test_the_desk_lists_overdue_loans_longest_first_and_the_hold_shelf(client, alice, bob, desk):
    late = overdue_loan(alice, days_late=3, title="Late Book")
    later = overdue_loan(bob, days_late=9, title="Very Late Book")
    borrow(book=book_with_copies(1, title="On Time"), member=alice)
    kept = book_with_copies(1, title="Kept Book")
    loan = borrow(book=kept, member=alice)
    place_hold(book=kept, member=bob)
    return_loan(loan=loan, actor=alice)

    force_login_verified(client, desk)
    response = client.get(DESK_URL)
    assert response.status_code == HTTPStatus.OK
    page = text(response)
    overdue = page.split('id="overdue-heading"', 1)[1].split("</section>", 1)[0]
    assert overdue.index("Very Late Book") < overdue.index("Late Book</a>")
    assert "On Time" not in overdue
    assert "9 days late" in overdue and "3 days late" in overdue
    assert f"{bob} · copy {later.copy.barcode}" in overdue
    assert f'name="barcode" value="{late.copy.barcode}"' in overdue  # its Check in button
    shelf = page.split('id="hold-shelf-heading"', 1)[1].split("</section>", 1)[0]
    assert "Kept Book" in shelf and f"for {bob}, until" in shelf
    assert "autofocus" in page.split('name="barcode"', 1)[1].split(">", 1)[0]


@pytest.mark.parametrize("late_loans", [1, 12])
def test_the_desk_query_count_does_not_grow_with_overdue_loans(
    client, desk, late_loans, django_assert_max_num_queries
):
    for n in range(late_loans):
        overdue_loan(in_role("Members", username=f"m{n}"), days_late=n + 1)
    force_login_verified(client, desk)
    # Session, user, permissions (2), the overdue page and count, the shelf and its count.
    with django_assert_max_num_queries(8):
        assert client.get(DESK_URL).status_code == HTTPStatus.OK


def test_htmx_check_in_answers_with_a_result_row_and_no_toast(client, alice, desk):
    loan = borrow(book=book_with_copies(1, title="Dune"), member=alice)
    force_login_verified(client, desk)
    response = client.post(DESK_URL, {"barcode": loan.copy.barcode, "member": ""}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    row = text(response)
    assert row.strip().startswith('<li class="desk-result alert alert-success')
    assert "Returned" in row
    assert f"“Dune” ({loan.copy.barcode}) from {alice}: back on the shelf." in row
    assert toasts(response) == []  # the row says it (and is announced)
    assert Loan.objects.get(pk=loan.pk).returned_at is not None


def test_htmx_check_in_of_a_late_copy_for_a_waiting_member_says_hold_shelf(
    client, alice, bob, desk
):
    loan = overdue_loan(alice, days_late=2, title="Dune")
    place_hold(book=loan.book, member=bob)
    force_login_verified(client, desk)
    row = text(client.post(DESK_URL, {"barcode": loan.copy.barcode}, **HTMX))
    assert "alert-warning" in row and "Hold shelf" in row
    assert f"put it on the hold shelf for {bob} (until" in row
    assert "It was 2 days late." in row
    # The lists come along out of band: the copy has left Overdue and is on the hold shelf.
    lists = row.split('<div id="desk-lists" hx-swap-oob="true">', 1)[1]
    assert "No loan is overdue." in lists
    assert f"Copy {loan.copy.barcode} for {bob}, until" in lists


def test_htmx_check_out_names_the_member_and_the_due_date(client, alice, desk):
    book = book_with_copies(2, title="Dune")
    copy = copies(book)[1]
    force_login_verified(client, desk)
    row = text(client.post(DESK_URL, {"barcode": copy.barcode, "member": "ALICE"}, **HTMX))
    assert "Checked out" in row and f"“Dune” ({copy.barcode}) to {alice}, due " in row
    assert Loan.objects.open().get(borrower=alice).copy == copy


def test_the_member_may_be_given_by_e_mail(client, alice, desk):
    copy = copies(book_with_copies(1))[0]
    force_login_verified(client, desk)
    client.post(DESK_URL, {"barcode": copy.barcode, "member": alice.email.upper()}, **HTMX)
    assert Loan.objects.open().get(copy=copy).borrower == alice


@pytest.mark.parametrize(
    ("data", "sentence", "field"),
    [
        ({"barcode": "", "member": "alice"}, "Scan or type a copy's barcode.", "barcode"),
        ({"barcode": "X1", "member": "nobody"}, "No member is called “nobody”", "member"),
        ({"barcode": "X1", "member": "alice"}, "No copy has the barcode “X1”.", "barcode"),
    ],
)
def test_htmx_problems_are_a_danger_row_that_says_where_to_go(
    client, alice, desk, data, sentence, field
):
    force_login_verified(client, desk)
    response = client.post(DESK_URL, data, **HTMX)
    assert response.status_code == HTTPStatus.OK
    row = text(response)
    assert "alert-danger" in row and "Not done" in row and sentence in row
    assert f'data-field="{field}"' in row
    assert not Loan.objects.exists()


def test_the_desk_cannot_lend_to_a_viewer_and_says_so_in_a_row(client, viewer, desk):
    copy = copies(book_with_copies(1))[0]
    force_login_verified(client, desk)
    row = text(client.post(DESK_URL, {"barcode": copy.barcode, "member": viewer.username}, **HTMX))
    assert f"{viewer} may not borrow books" in row and "alert-danger" in row
    assert not Loan.objects.exists()


def test_plain_scan_redirects_to_the_desk_keeping_the_member_and_says_what_happened(
    client, alice, desk
):
    book = book_with_copies(1, title="Dune")
    force_login_verified(client, desk)
    response = client.post(DESK_URL, {"barcode": copies(book)[0].barcode, "member": "alice"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{DESK_URL}?member=alice"
    page = client.get(response["Location"])
    assert f"Checked out: “Dune” ({copies(book)[0].barcode}) to {alice}, due" in text(page)
    assert 'name="member" value="alice"' in text(page)


def test_plain_refusal_is_an_error_message_after_the_redirect(client, desk):
    force_login_verified(client, desk)
    response = client.post(DESK_URL, {"barcode": "NOPE"}, follow=True)
    assert response.redirect_chain == [(DESK_URL, HTTPStatus.FOUND)]
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert messages == [("danger", "Not done: No copy has the barcode “NOPE”.")]


def test_plain_invalid_form_shows_the_page_with_the_errors(client, desk):
    force_login_verified(client, desk)
    response = client.post(DESK_URL, {"barcode": "", "member": "nobody"})
    assert response.status_code == HTTPStatus.OK
    page = text(response)
    assert "Scan or type a copy's barcode." in page and "No member is called “nobody”" in page
    assert page.count('aria-invalid="true"') == 2


def test_the_overdue_check_in_button_works_without_javascript(client, alice, desk):
    loan = overdue_loan(alice, days_late=4)
    force_login_verified(client, desk)
    response = client.post(DESK_URL, {"barcode": loan.copy.barcode}, follow=True)
    assert response.status_code == HTTPStatus.OK
    assert Loan.objects.get(pk=loan.pk).returned_at is not None
    assert "It was 4 days late." in text(response)
    assert "No loan is overdue." in text(response)


def test_members_have_no_desk(client, alice):
    force_login_verified(client, alice)
    response = client.post(DESK_URL, {"barcode": "X"}, **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Only librarians can manage the copies and the desk." in text(response)


# --- /inventory/<id>/ --------------------------------------------------------------------------


def inventory_url(book) -> str:
    return reverse("circulation:inventory", args=[book.pk])


def add_url(book) -> str:
    return reverse("circulation:copies-add", args=[book.pk])


def withdraw_url(copy) -> str:
    return reverse("circulation:copy-withdraw", args=[copy.pk])


def test_inventory_lists_every_copy_with_whom_it_is(client, alice, bob, desk):
    book = book_with_copies(3, title="Dune")
    first, second, third = copies(book)
    borrow(book=book, member=alice, copy=first)
    Copy.objects.filter(pk=third.pk).update(status=CopyStatus.WITHDRAWN)
    force_login_verified(client, desk)
    page = text(client.get(inventory_url(book)))
    assert "<h1" in page and "Copies of “Dune”" in page
    assert "1 of 2 available" in page
    listed = page.split('class="list-unstyled copy-list"', 1)[1]
    assert listed.index(first.barcode) < listed.index(second.barcode) < listed.index(third.barcode)
    assert f"With {alice}, due" in listed
    assert listed.count(">Withdraw…<") == 1  # only the copy on the shelf
    assert "Can be withdrawn once it is back." in listed
    assert "Can be withdrawn once it is back." in listed
    assert ">Withdrawn<" in listed


def test_inventory_works_for_a_book_outside_the_catalogue(client, desk):
    draft = BookFactory(title="Draft")
    force_login_verified(client, desk)
    assert client.get(inventory_url(draft)).status_code == HTTPStatus.OK
    client.post(add_url(draft), {"count": "2"})
    assert Copy.objects.filter(book=draft).count() == 2


def test_inventory_of_a_missing_book_is_not_found(client, desk):
    force_login_verified(client, desk)
    assert client.get(reverse("circulation:inventory", args=[999999])).status_code == 404


@pytest.mark.parametrize("count", [1, 15])
def test_inventory_query_count_does_not_grow_with_copies(
    client, alice, desk, count, django_assert_max_num_queries
):
    book = book_with_copies(count)
    borrow(book=book, member=alice)
    force_login_verified(client, desk)
    # Session, user, permissions (2), the book, copies, loans, kept copies, availability (2).
    with django_assert_max_num_queries(10):
        assert client.get(inventory_url(book)).status_code == HTTPStatus.OK


def test_htmx_add_copies_answers_with_the_list_highlighting_and_focusing_the_new_ones(client, desk):
    book = book_with_copies(1)
    old = copies(book)[0]
    force_login_verified(client, desk)
    response = client.post(add_url(book), {"count": "2"}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    fragment = text(response)
    assert fragment.lstrip().startswith('<section id="copies"')
    assert f'id="copy-{old.pk}">' in fragment  # not highlighted
    new = [copy for copy in copies(book) if copy != old]
    assert len(new) == 2
    for copy in new:
        assert f'id="copy-{copy.pk}" tabindex="-1" data-focus' in fragment
    assert "copy-added" in fragment and "3 of 3 available" in fragment
    assert toasts(response) == [
        {"message": f"Added 2 copies: {new[0].barcode}, {new[1].barcode}.", "level": "success"}
    ]


def test_plain_add_copies_redirects_to_the_inventory(client, desk):
    book = book_with_copies(0)
    force_login_verified(client, desk)
    response = client.post(add_url(book), {"count": "1"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == inventory_url(book)
    assert Copy.objects.filter(book=book).count() == 1


@pytest.mark.parametrize("count", ["0", "51", "three", ""])
def test_a_bad_count_adds_nothing_and_shows_the_form_with_its_error(client, desk, count):
    book = book_with_copies(1)
    force_login_verified(client, desk)
    for headers in (HTMX, {}):
        response = client.post(add_url(book), {"count": count}, **headers)
        assert response.status_code == HTTPStatus.OK
        page = text(response)
        assert 'aria-invalid="true"' in page and 'id="id_count_error"' in page
        assert ("<h1" in page) is not bool(headers)  # the section to htmx, the page otherwise
    assert Copy.objects.filter(book=book).count() == 1


def test_new_copies_go_to_the_waiting_member_first(client, alice, bob, desk):
    book = book_with_copies(1)
    borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    force_login_verified(client, desk)
    fragment = text(client.post(add_url(book), {"count": "1"}, **HTMX))
    assert f"Kept for {bob} until" in fragment
    assert Hold.objects.get(member=bob).status == HoldStatus.READY


def test_htmx_withdraw_answers_with_the_list_focusing_the_copy(client, desk):
    book = book_with_copies(2)
    copy = copies(book)[0]
    force_login_verified(client, desk)
    response = client.post(withdraw_url(copy), **HTMX)
    fragment = text(response)
    assert f'id="copy-{copy.pk}" tabindex="-1" data-focus' in fragment
    assert "1 of 1 available" in fragment
    assert toasts(response) == [{"message": f"Copy {copy.barcode} withdrawn.", "level": "success"}]
    assert Copy.objects.get(pk=copy.pk).status == CopyStatus.WITHDRAWN


def test_withdrawing_a_copy_on_loan_is_refused_with_a_message(client, alice, desk):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    force_login_verified(client, desk)
    response = client.post(withdraw_url(loan.copy), follow=True)
    assert response.redirect_chain == [(inventory_url(book), HTTPStatus.FOUND)]
    assert [str(m) for m in response.context["messages"]] == [
        f"Copy {loan.copy.barcode} is on loan: it can be withdrawn once it is back."
    ]
    assert Copy.objects.get(pk=loan.copy.pk).status == CopyStatus.ON_LOAN


def test_members_cannot_add_or_withdraw_copies(client, alice):
    book = book_with_copies(1)
    force_login_verified(client, alice)
    assert client.post(add_url(book), {"count": "3"}).status_code == HTTPStatus.FORBIDDEN
    assert client.post(withdraw_url(copies(book)[0])).status_code == HTTPStatus.FORBIDDEN
    assert Copy.objects.filter(book=book, status=CopyStatus.AVAILABLE).count() == 1


# --- Links to the desk's pages -------------------------------------------------------------------


def test_the_book_page_links_librarians_to_its_copies_and_members_to_their_loans(
    client, alice, desk
):
    book = book_with_copies(1)
    force_login_verified(client, desk)
    assert f'href="{inventory_url(book)}"' in text(client.get(book.get_absolute_url()))
    force_login_verified(client, alice)
    page = text(client.get(book.get_absolute_url()))
    assert f'href="{inventory_url(book)}"' not in page
    assert f'href="{reverse("circulation:loans")}"' in page


def test_a_draft_shows_its_copies_panel_to_librarians_only(client, desk):
    draft = BookFactory()
    force_login_verified(client, desk)
    page = text(client.get(draft.get_absolute_url()))
    assert '<section id="circulation"' in page and "No copies yet" in page
    assert "Borrow" not in page.split('<section id="circulation"', 1)[1].split("</section>")[0]


def test_the_navbar_offers_loans_to_members_and_the_desk_to_librarians(client, alice, desk):
    force_login_verified(client, alice)
    nav = text(client.get("/")).split("</nav>", 1)[0]
    assert f'href="{reverse("circulation:loans")}"' in nav and f'href="{DESK_URL}"' not in nav
    force_login_verified(client, desk)
    nav = text(client.get("/")).split("</nav>", 1)[0]
    assert f'href="{DESK_URL}"' in nav


def test_the_books_history_tells_circulation_in_sentences(client, alice, bob, desk):
    book = book_with_copies(1)
    copy = copies(book)[0]
    desk_scan(barcode=copy.barcode, member=alice, actor=desk)
    place_hold(book=book, member=bob)
    desk_scan(barcode=copy.barcode, member=None, actor=desk)
    force_login_verified(client, desk)
    page = " ".join(text(client.get(reverse("bookshelf:book-history", args=[book.pk]))).split())
    barcode = f'(<span class="font-monospace">{copy.barcode}</span>)'
    assert f"<strong>desk</strong> borrowed a copy {barcode} for {alice}" in page
    assert "<strong>bob</strong> placed a hold <time" in page
    assert f"<strong>desk</strong> returned a copy {barcode} for {alice}" in page
    assert f"<strong>desk</strong> put a copy on the hold shelf {barcode} for {bob}" in page


# --- A book with copies out cannot be deleted; one with past loans can --------------------------


def test_a_book_with_copies_on_loan_is_not_deleted_and_says_why(client, alice, superuser):
    book = book_with_copies(2, title="Dune")
    borrow(book=book, member=alice)
    force_login_verified(client, superuser)
    url = reverse("bookshelf:book-delete", args=[book.pk])
    sentence = "Copies of “Dune” are on loan: it can be deleted once they are back."
    response = client.post(url, {"version": book.version}, **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN and sentence in text(response)
    response = client.post(url, {"version": book.version})
    assert response.status_code == HTTPStatus.FORBIDDEN and sentence in text(response)
    assert Copy.objects.filter(book=book).count() == 2

    # The Django admin says the same, on the book's page and for "Delete selected".
    admin_url = reverse("admin:bookshelf_book_delete", args=[book.pk])
    response = client.post(admin_url, {"post": "yes", "loaded_version": book.version}, follow=True)
    assert response.status_code == HTTPStatus.OK and sentence in text(response)
    response = client.post(
        reverse("admin:bookshelf_book_changelist"),
        {"action": "delete_selected", "_selected_action": [book.pk], "post": "yes"},
        follow=True,
    )
    assert f"{sentence} Nothing was deleted." in text(response)
    assert Copy.objects.filter(book=book).count() == 2


def test_a_book_whose_copies_are_back_is_deleted_with_its_loans_and_holds(
    client, alice, bob, superuser
):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)  # kept for bob on the hold shelf
    force_login_verified(client, superuser)
    book.refresh_from_db()
    response = client.post(
        reverse("bookshelf:book-delete", args=[book.pk]), {"version": book.version}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert not Copy.objects.exists() and not Loan.objects.exists() and not Hold.objects.exists()


def test_days_late_are_calendar_days_as_the_due_date_reads(alice):
    loan = borrow(book=book_with_copies(1), member=alice)
    due = timezone.make_aware(datetime.datetime(2026, 11, 26, 23, 30))
    loan.due_at = due
    loan.returned_at = due - datetime.timedelta(minutes=1)
    assert loan.days_late == 0
    loan.returned_at = due + datetime.timedelta(minutes=10)  # the same evening: still late
    assert loan.days_late == 1
    loan.returned_at = due + datetime.timedelta(hours=1)  # the 27th, just after midnight
    assert loan.days_late == 1
    loan.returned_at = due + datetime.timedelta(days=9, minutes=10)  # the 5th, evening
    assert loan.days_late == 9


def test_adding_many_copies_says_the_range_not_every_barcode(client, desk):
    book = book_with_copies(0)
    force_login_verified(client, desk)
    response = client.post(add_url(book), {"count": "50"}, **HTMX)
    barcodes = [copy.barcode for copy in copies(book)]
    assert toasts(response) == [
        {"message": f"Added 50 copies: {barcodes[0]} … {barcodes[-1]}.", "level": "success"}
    ]


@pytest.mark.parametrize(
    ("count", "sentence"),
    [
        ("0", "Add at least 1 copy."),
        ("51", "Add at most 50 copies at a time."),
        ("three", "Enter how many copies to add, a whole number from 1 to 50."),
        ("", "Enter how many copies to add, a whole number from 1 to 50."),
    ],
)
def test_a_bad_count_is_said_plainly(client, desk, count, sentence):
    book = book_with_copies(1)
    force_login_verified(client, desk)
    assert sentence in text(client.post(add_url(book), {"count": count}, **HTMX))


def test_a_copy_on_the_hold_shelf_says_when_it_can_be_withdrawn(client, alice, bob, desk):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)
    force_login_verified(client, desk)
    page = text(client.get(inventory_url(book)))
    assert "Can be withdrawn once the hold ends (collected or expired)." in page
    assert "Withdraw…" not in page


def test_djangos_has_perm_asks_the_circulation_rules_about_one_object(alice, bob, desk, viewer):
    book, draft = book_with_copies(1), BookFactory()
    loan = borrow(book=book, member=alice)
    assert alice.has_perm("bookshelf.can_borrow_book", book)
    assert not alice.has_perm("bookshelf.can_borrow_book", draft)  # not in the catalogue
    assert not viewer.has_perm("bookshelf.can_borrow_book", book)
    assert alice.has_perm("bookshelf.can_return_book", loan)
    assert not bob.has_perm("bookshelf.can_return_book", loan)  # someone else's
    assert desk.has_perm("bookshelf.can_return_book", loan)
    assert desk.has_perm("bookshelf.can_manage_inventory", draft)
    assert not alice.has_perm("bookshelf.can_manage_inventory", book)
    # Without an object, the roles answer (ModelBackend), as ever.
    assert alice.has_perm("bookshelf.can_borrow_book") and not viewer.has_perm(
        "bookshelf.can_borrow_book"
    )


# --- Found in review -------------------------------------------------------------------------


def test_the_history_names_borrowers_to_the_desk_only(client, alice, bob, desk, editor):
    book = book_with_copies(1, title="Dune")
    borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    url = reverse("bookshelf:book-history", args=[book.pk])
    force_login_verified(client, editor)
    for page in (text(client.get(url)), text(client.get(book.get_absolute_url()))):
        history = page.split('class="list-unstyled book-history"', 1)[1].split("</ol>", 1)[0]
        assert "<strong>Someone</strong> borrowed a copy" in history
        assert "<strong>Someone</strong> placed a hold" in history
        for name in ("alice", "bob", str(alice), str(bob)):
            assert name not in history
        assert "<strong>desk</strong>" not in history or "added copies" in history
    force_login_verified(client, desk)
    history = text(client.get(url))
    assert "<strong>alice</strong> borrowed a copy" in history
    assert "<strong>bob</strong> placed a hold" in history


def test_a_draft_s_copies_are_for_those_who_see_the_draft(client, make_user):
    desk_only = make_user("bookshelf.view_book", "bookshelf.can_manage_inventory")
    draft = BookFactory()
    copy = Copy.objects.create(book=draft, barcode="DRAFT-1")
    force_login_verified(client, desk_only)
    assert client.get(inventory_url(draft)).status_code == HTTPStatus.NOT_FOUND
    assert client.post(add_url(draft), {"count": "1"}).status_code == HTTPStatus.NOT_FOUND
    assert client.post(withdraw_url(copy)).status_code == HTTPStatus.NOT_FOUND
    assert Copy.objects.filter(book=draft).count() == 1
    assert Copy.objects.get(pk=copy.pk).status == CopyStatus.AVAILABLE


def test_the_desk_lists_sent_after_a_scan_keep_their_check_in_url(client, alice, desk):
    late = overdue_loan(alice, days_late=2)
    other = overdue_loan(in_role("Members", username="zed"), days_late=1)
    force_login_verified(client, desk)
    answer = text(client.post(DESK_URL, {"barcode": late.copy.barcode}, **HTMX))
    lists = answer.split('<div id="desk-lists" hx-swap-oob="true">', 1)[1]
    assert other.copy.barcode in lists
    assert f'action="{DESK_URL}" hx-post="{DESK_URL}"' in lists


def test_the_panel_drawn_after_an_action_comes_back_to_the_book(client, alice):
    book = book_with_copies(2)
    force_login_verified(client, alice)
    panel = text(client.post(reverse("circulation:borrow", args=[book.pk]), **HTMX))
    assert f'name="next" value="{book.get_absolute_url()}"' in panel
    assert "/borrow/" not in panel.split('name="next"', 1)[1].split(">", 1)[0]


def test_barcodes_are_stored_in_capitals_and_found_whatever_the_case(alice, desk):
    from django.db import IntegrityError, transaction

    book = book_with_copies(1)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Copy.objects.create(book=book, barcode="b-lower")
    outcome = desk_scan(barcode=copies(book)[0].barcode.lower(), member=alice, actor=desk)
    assert outcome.loan.borrower == alice


def test_new_barcodes_skip_any_already_taken(desk):
    from apps.circulation.services import add_copies

    book = book_with_copies(0)
    Copy.objects.create(book=book, barcode=f"B{book.pk:06d}-002")  # made outside the service
    added = add_copies(book=book, count=2, actor=desk)
    assert [copy.barcode for copy in added] == [f"B{book.pk:06d}-003", f"B{book.pk:06d}-004"]
    added = add_copies(book=book, count=1, actor=desk)
    assert added[0].barcode == f"B{book.pk:06d}-005"


def test_a_book_deleted_meanwhile_is_a_refusal_not_an_error(alice):
    book = book_with_copies(1)
    Book.objects.filter(pk=book.pk).delete()
    with pytest.raises(CirculationRefused, match="no longer in the catalogue"):
        borrow(book=book, member=alice)


def test_a_member_waiting_for_a_book_is_not_deleted_from_under_the_hold_shelf(alice, bob):
    from django.db.models import ProtectedError

    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)
    with pytest.raises(ProtectedError):
        bob.delete()
    assert Copy.objects.get(book=book).status == CopyStatus.ON_HOLD_SHELF
