"""Circulation services and policy: borrow, return, renew, holds, copies, availability.

The members and librarians below hold the real roles (the groups post_migrate creates from
apps/roles/definitions.py), not a copy of their permissions.
"""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.bookshelf.models import BookEvent
from apps.bookshelf.tests.factories import BookFactory, PublishedBookFactory
from apps.circulation import policy
from apps.circulation.models import Copy, CopyStatus, Hold, HoldStatus, Loan
from apps.circulation.services import (
    CirculationRefused,
    add_copies,
    availability,
    borrow,
    cancel_hold,
    expire_holds,
    place_hold,
    renew,
    return_loan,
    withdraw_copy,
)
from apps.core.policy import PolicyDenied
from apps.core.tests.support import in_role

from .helpers import book_with_copies, fresh

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
# Services stamp "now" themselves: a computed date is compared within this slack.
SLACK = datetime.timedelta(minutes=1)


def carol_for(book):
    """Another member who takes a copy of ``book`` (so no copy stays free)."""
    return in_role("Members", username=f"walker{book.pk}")


def status_of(copy: Copy) -> str:
    copy.refresh_from_db()
    return copy.status


def events(book, action: str) -> list[BookEvent]:
    return list(BookEvent.objects.filter(book_id=book.pk, action=action).order_by("id"))


def close(a: datetime.datetime, b: datetime.datetime) -> bool:
    return abs(a - b) < SLACK


# --- Borrowing -------------------------------------------------------------------------------


def test_borrow_takes_an_available_copy_due_in_21_days_and_records_it(alice):
    book = book_with_copies(2)
    before = timezone.now()
    loan = borrow(book=book, member=alice)
    assert loan.borrower == alice
    assert loan.book == book
    assert loan.returned_at is None
    assert loan.renewals == 0
    assert status_of(loan.copy) == CopyStatus.ON_LOAN
    assert close(loan.due_at, before + 21 * DAY)
    assert loan.due_at - loan.borrowed_at == 21 * DAY
    (event,) = events(book, BookEvent.Action.BORROWED)
    assert event.actor_id == alice.pk
    assert event.changes == {"copy": [None, loan.copy.barcode]}
    assert event.comment == ""
    assert availability([book.pk])[book.pk].available == 1


def test_borrow_is_refused_when_no_copy_is_free_and_offers_a_hold(alice, bob):
    book = book_with_copies(1, title="Dune")
    borrow(book=book, member=alice)
    with pytest.raises(CirculationRefused) as excinfo:
        borrow(book=book, member=bob)
    assert excinfo.value.offer_hold is True
    assert "Place a hold" in str(excinfo.value)
    assert "Dune" in str(excinfo.value)
    assert not Loan.objects.filter(borrower=bob).exists()


def test_no_free_copy_does_not_offer_a_hold_to_someone_already_queued(alice, bob):
    book = book_with_copies(1)
    borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    with pytest.raises(CirculationRefused) as excinfo:
        borrow(book=book, member=bob)
    assert excinfo.value.offer_hold is False


def test_a_book_without_copies_cannot_be_borrowed(alice):
    book = PublishedBookFactory()
    with pytest.raises(CirculationRefused) as excinfo:
        borrow(book=book, member=alice)
    assert excinfo.value.offer_hold is True


def test_borrow_is_refused_when_the_member_already_has_the_book(alice):
    book = book_with_copies(2)
    borrow(book=book, member=alice)
    with pytest.raises(CirculationRefused, match="already have this book"):
        borrow(book=book, member=alice)
    assert Loan.objects.open().filter(borrower=alice).count() == 1
    assert availability([book.pk])[book.pk].available == 1


def test_borrow_is_refused_at_the_loan_limit_of_5(alice, settings):
    assert settings.BOOKSHELF_LOAN_LIMIT == 5
    for _ in range(5):
        borrow(book=book_with_copies(1), member=alice)
    sixth = book_with_copies(1)
    with pytest.raises(CirculationRefused, match="5 books on loan"):
        borrow(book=sixth, member=alice)
    assert Loan.objects.open().filter(borrower=alice).count() == 5
    assert availability([sixth.pk])[sixth.pk].available == 1


def test_a_returned_loan_frees_a_place_under_the_limit(alice):
    loans = [borrow(book=book_with_copies(1), member=alice) for _ in range(5)]
    return_loan(loan=loans[0], actor=alice)
    borrow(book=book_with_copies(1), member=alice)
    assert Loan.objects.open().filter(borrower=alice).count() == 5


@pytest.mark.parametrize(
    "fields",
    [{}, {"is_archived": True}],
    ids=["draft", "archived"],
)
def test_a_book_outside_the_catalogue_cannot_be_borrowed(alice, fields):
    book = BookFactory(**fields)
    Copy.objects.create(book=book, barcode="X1")
    with pytest.raises(PolicyDenied, match="Only books in the catalogue"):
        borrow(book=book, member=alice)
    with pytest.raises(PolicyDenied, match="Only books in the catalogue"):
        place_hold(book=book, member=alice)
    assert not Loan.objects.exists()
    assert not Hold.objects.exists()


def test_borrowing_needs_can_borrow_book(member, make_user):
    book = book_with_copies(1)
    with pytest.raises(PolicyDenied, match="permission to borrow"):
        borrow(book=book, member=member)  # `member` (conftest): no role, no permission
    only_return = make_user("bookshelf.can_return_book")
    with pytest.raises(PolicyDenied, match="permission to borrow"):
        borrow(book=book, member=only_return)
    with pytest.raises(PolicyDenied, match="permission to borrow"):
        place_hold(book=book, member=member)
    assert not Loan.objects.exists()
    # The permission alone suffices (no role needed).
    assert borrow(book=book, member=make_user("bookshelf.can_borrow_book"))


def test_an_inactive_member_cannot_borrow(alice):
    alice.is_active = False
    alice.save()
    with pytest.raises(PolicyDenied):
        borrow(book=book_with_copies(1), member=alice)


def test_a_librarian_checks_out_to_a_member_at_the_desk(librarian, alice):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice, actor=librarian)
    assert loan.borrower == alice
    assert not Loan.objects.filter(borrower=librarian).exists()
    (event,) = events(book, BookEvent.Action.BORROWED)
    assert event.actor_id == librarian.pk
    assert event.comment == f"for {alice}"


def test_a_member_cannot_check_out_to_someone_else(alice, bob):
    book = book_with_copies(1)
    with pytest.raises(PolicyDenied, match="Only librarians can check books out"):
        borrow(book=book, member=bob, actor=alice)
    assert not Loan.objects.exists()


def test_the_desk_cannot_lend_to_someone_without_can_borrow_book(librarian, member):
    with pytest.raises(PolicyDenied, match="may not borrow"):
        borrow(book=book_with_copies(1), member=member, actor=librarian)


# --- Returning and the hold shelf ------------------------------------------------------------


def test_return_puts_the_copy_back_on_the_shelf(alice):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    returned = return_loan(loan=loan, actor=alice)
    assert returned.returned_at is not None
    assert status_of(loan.copy) == CopyStatus.AVAILABLE
    assert str(availability([book.pk])[book.pk]) == "1 of 1 available"
    (event,) = events(book, BookEvent.Action.RETURNED)
    assert event.changes == {"copy": [None, loan.copy.barcode]}
    with pytest.raises(CirculationRefused, match="already returned"):
        return_loan(loan=loan, actor=alice)


def test_return_serves_the_first_waiting_member_and_mails_after_commit(
    alice, bob, carol, django_capture_on_commit_callbacks
):
    book = book_with_copies(1, title="Dune")
    loan = borrow(book=book, member=alice)
    first = place_hold(book=book, member=bob)
    second = place_hold(book=book, member=carol)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        return_loan(loan=loan, actor=alice)
        assert mail.outbox == []  # not before the commit
    assert len(callbacks) == 1
    assert status_of(loan.copy) == CopyStatus.ON_HOLD_SHELF
    first = fresh(first)
    assert first.status == HoldStatus.READY
    assert first.copy == loan.copy
    assert close(first.ready_until, before + 7 * DAY)
    assert fresh(second).status == HoldStatus.WAITING
    assert fresh(second).copy is None
    (message,) = mail.outbox
    assert message.to == [bob.email]
    assert "Dune" in message.subject
    assert "/loans/" in message.body
    (event,) = events(book, BookEvent.Action.HOLD_READY)
    assert event.changes == {"copy": [None, loan.copy.barcode]}
    assert event.comment == f"for {bob}"
    # Never on the open shelf while someone waits.
    assert availability([book.pk])[book.pk].available == 0
    assert str(availability([book.pk])[book.pk]) == "On loan · 1 waiting"


def test_no_mail_when_the_return_rolls_back(alice, bob, django_capture_on_commit_callbacks):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    hold = place_hold(book=book, member=bob)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        return_loan(loan=loan, actor=alice)
        raise RuntimeError("the request failed after the return")
    assert callbacks == []
    assert mail.outbox == []
    assert fresh(hold).status == HoldStatus.WAITING
    assert fresh(loan).returned_at is None


def test_the_member_whose_hold_is_ready_takes_that_very_copy(alice, bob):
    book = book_with_copies(2)
    first = borrow(book=book, member=alice)
    borrow(book=book, member=carol_for(book))
    hold = place_hold(book=book, member=bob)
    return_loan(loan=first, actor=alice)
    assert fresh(hold).copy == first.copy
    loan = borrow(book=book, member=bob)
    assert loan.copy == first.copy
    hold = fresh(hold)
    assert hold.status == HoldStatus.COLLECTED
    assert hold.ready_until is None
    assert hold.closed_at is not None
    assert status_of(first.copy) == CopyStatus.ON_LOAN


def test_a_walk_in_cannot_take_a_copy_waiting_for_someone_else(alice, bob, carol):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)
    with pytest.raises(CirculationRefused) as excinfo:
        borrow(book=book, member=carol)
    assert excinfo.value.offer_hold is True
    assert status_of(loan.copy) == CopyStatus.ON_HOLD_SHELF
    assert not Loan.objects.filter(borrower=carol).exists()
    # Nor can the desk hand it to them.
    librarian = in_role("Librarians", username="desk")
    with pytest.raises(CirculationRefused):
        borrow(book=book, member=carol, actor=librarian)
    assert borrow(book=book, member=bob).copy == loan.copy


def test_a_waiting_hold_is_collected_by_a_walk_in_borrow_of_its_member(alice, bob, librarian):
    book = book_with_copies(1)
    borrow(book=book, member=alice)
    hold = place_hold(book=book, member=bob)
    (new_copy,) = add_copies(book=book, count=1, actor=librarian)  # served to bob
    assert fresh(hold).status == HoldStatus.READY
    assert borrow(book=book, member=bob).copy == new_copy
    assert fresh(hold).status == HoldStatus.COLLECTED


# --- Renewing --------------------------------------------------------------------------------


def test_renew_adds_21_days_to_the_due_date(alice):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    due = loan.due_at
    renewed = renew(loan=loan, actor=alice)
    assert renewed.renewals == 1
    assert renewed.due_at == due + 21 * DAY
    (event,) = events(book, BookEvent.Action.RENEWED)
    assert event.changes == {"copy": [None, loan.copy.barcode]}


def test_renewing_an_overdue_loan_counts_from_today(alice):
    loan = borrow(book=book_with_copies(1), member=alice)
    now = timezone.now()
    Loan.objects.filter(pk=loan.pk).update(borrowed_at=now - 30 * DAY, due_at=now - 9 * DAY)
    renewed = renew(loan=loan, actor=alice)
    assert close(renewed.due_at, now + 21 * DAY)
    assert renewed.due_at > now + 20 * DAY


def test_renew_at_most_twice(alice, settings):
    assert settings.BOOKSHELF_RENEWALS == 2
    loan = borrow(book=book_with_copies(1), member=alice)
    renew(loan=loan, actor=alice)
    loan = renew(loan=loan, actor=alice)
    due = loan.due_at
    with pytest.raises(CirculationRefused, match="2 times already"):
        renew(loan=loan, actor=alice)
    loan = fresh(loan)
    assert loan.renewals == 2
    assert loan.due_at == due


def test_renew_is_refused_while_someone_waits(alice, bob):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    with pytest.raises(CirculationRefused, match="Someone is waiting"):
        renew(loan=loan, actor=alice)
    assert fresh(loan).renewals == 0
    assert not events(book, BookEvent.Action.RENEWED)


def test_a_returned_loan_cannot_be_renewed(alice):
    loan = borrow(book=book_with_copies(1), member=alice)
    return_loan(loan=loan, actor=alice)
    with pytest.raises(CirculationRefused, match="already returned"):
        renew(loan=loan, actor=alice)


# --- Another member's loan or hold; the desk ----------------------------------------------


def test_another_member_cannot_return_renew_or_cancel(alice, bob):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    other = book_with_copies(1)
    borrow(book=other, member=carol_for(other))
    hold = place_hold(book=other, member=alice)
    with pytest.raises(PolicyDenied):
        return_loan(loan=loan, actor=bob)
    with pytest.raises(PolicyDenied):
        renew(loan=loan, actor=bob)
    with pytest.raises(PolicyDenied):
        cancel_hold(hold=hold, actor=bob)
    loan = fresh(loan)
    assert loan.returned_at is None
    assert loan.renewals == 0
    assert fresh(hold).status == HoldStatus.WAITING
    assert not policy.sees_loan(bob, loan)
    assert policy.sees_loan(alice, loan)


def test_the_desk_returns_renews_and_cancels_for_a_member(alice, librarian):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    assert renew(loan=loan, actor=librarian).renewals == 1
    assert return_loan(loan=loan, actor=librarian).returned_at is not None
    (event,) = events(book, BookEvent.Action.RETURNED)
    assert event.actor_id == librarian.pk
    assert event.comment == f"for {alice}"
    other = book_with_copies(1)
    borrow(book=other, member=carol_for(other))
    hold = place_hold(book=other, member=alice)
    assert cancel_hold(hold=hold, actor=librarian).status == HoldStatus.CANCELLED
    assert policy.sees_loan(librarian, loan)


def test_returning_needs_can_return_book(make_user):
    borrower = make_user("bookshelf.can_borrow_book")
    loan = borrow(book=book_with_copies(1), member=borrower)
    with pytest.raises(PolicyDenied, match="permission to return"):
        return_loan(loan=loan, actor=borrower)
    assert renew(loan=loan, actor=borrower).renewals == 1  # renewing is a borrow right


# --- Holds -----------------------------------------------------------------------------------


def test_place_hold_is_refused_while_a_copy_is_free(alice):
    book = book_with_copies(1)
    with pytest.raises(CirculationRefused, match="A copy is free"):
        place_hold(book=book, member=alice)
    assert not Hold.objects.exists()


def test_place_hold_is_refused_when_already_in_the_queue(alice, bob):
    book = book_with_copies(1)
    borrow(book=book, member=alice)
    place_hold(book=book, member=bob)
    with pytest.raises(CirculationRefused, match="already in the queue"):
        place_hold(book=book, member=bob)
    assert Hold.objects.filter(member=bob).count() == 1


def test_place_hold_is_refused_when_the_member_has_the_book_on_loan(alice):
    book = book_with_copies(1)
    borrow(book=book, member=alice)
    with pytest.raises(CirculationRefused, match="already have this book on loan"):
        place_hold(book=book, member=alice)
    assert not Hold.objects.exists()


def test_place_hold_records_the_event(alice, bob):
    book = book_with_copies(1)
    borrow(book=book, member=alice)
    hold = place_hold(book=book, member=bob)
    assert hold.status == HoldStatus.WAITING
    (event,) = events(book, BookEvent.Action.HOLD_PLACED)
    assert event.actor_id == bob.pk


def test_the_queue_is_first_come_first_served(alice, bob, carol, librarian):
    book = book_with_copies(1)
    loan = borrow(book=book, member=librarian)
    holds = [place_hold(book=book, member=m) for m in (carol, alice, bob)]
    assert list(Hold.objects.queue(book)) == holds
    return_loan(loan=loan, actor=librarian)
    assert [fresh(h).status for h in holds] == [
        HoldStatus.READY,
        HoldStatus.WAITING,
        HoldStatus.WAITING,
    ]
    borrow(book=book, member=carol)
    added = add_copies(book=book, count=2, actor=librarian)
    assert fresh(holds[1]).copy == added[0]
    assert fresh(holds[2]).copy == added[1]


def test_cancelling_a_ready_hold_passes_the_copy_to_the_next_member(
    alice, bob, carol, django_capture_on_commit_callbacks
):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    first = place_hold(book=book, member=bob)
    second = place_hold(book=book, member=carol)
    return_loan(loan=loan, actor=alice)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = cancel_hold(hold=first, actor=bob)
    assert cancelled.status == HoldStatus.CANCELLED
    assert cancelled.ready_until is None
    second = fresh(second)
    assert second.status == HoldStatus.READY
    assert second.copy == loan.copy
    assert status_of(loan.copy) == CopyStatus.ON_HOLD_SHELF
    assert [m.to for m in mail.outbox] == [[carol.email]]
    with pytest.raises(CirculationRefused, match="no longer active"):
        cancel_hold(hold=first, actor=bob)


def test_cancelling_the_last_ready_hold_puts_the_copy_back_on_the_shelf(alice, bob):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    hold = place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)
    cancel_hold(hold=hold, actor=bob)
    assert status_of(loan.copy) == CopyStatus.AVAILABLE
    assert str(availability([book.pk])[book.pk]) == "1 of 1 available"


def test_cancelling_a_waiting_hold_leaves_the_copies_alone(alice, bob):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    hold = place_hold(book=book, member=bob)
    cancel_hold(hold=hold, actor=bob)
    assert status_of(loan.copy) == CopyStatus.ON_LOAN
    assert renew(loan=loan, actor=alice).renewals == 1  # nobody waits any more


def test_expire_holds_passes_uncollected_copies_on_and_is_idempotent(alice, bob, carol):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    first = place_hold(book=book, member=bob)
    second = place_hold(book=book, member=carol)
    return_loan(loan=loan, actor=alice)
    assert expire_holds() == 0  # still within its 7 days
    assert fresh(first).status == HoldStatus.READY
    Hold.objects.filter(pk=first.pk).update(ready_until=timezone.now() - DAY)
    assert expire_holds() == 1
    first = fresh(first)
    assert first.status == HoldStatus.EXPIRED
    assert first.ready_until is None
    assert first.closed_at is not None
    second = fresh(second)
    assert second.status == HoldStatus.READY
    assert second.copy == loan.copy
    assert status_of(loan.copy) == CopyStatus.ON_HOLD_SHELF
    assert len(events(book, BookEvent.Action.HOLD_EXPIRED)) == 1
    assert expire_holds() == 0
    assert fresh(second).status == HoldStatus.READY
    assert len(events(book, BookEvent.Action.HOLD_EXPIRED)) == 1


def test_an_expired_hold_with_nobody_next_puts_the_copy_back(alice, bob):
    book = book_with_copies(1)
    loan = borrow(book=book, member=alice)
    hold = place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)
    assert expire_holds(now=timezone.now() + 8 * DAY) == 1
    assert fresh(hold).status == HoldStatus.EXPIRED
    assert status_of(loan.copy) == CopyStatus.AVAILABLE
    assert expire_holds(now=timezone.now() + 8 * DAY) == 0
    with pytest.raises(CirculationRefused, match="A copy is free"):
        place_hold(book=book, member=bob)


# --- Copies ----------------------------------------------------------------------------------


def test_add_copies_generates_unique_barcodes(librarian):
    book = PublishedBookFactory()
    other = PublishedBookFactory()
    first = add_copies(book=book, count=3, actor=librarian)
    second = add_copies(book=book, count=2, actor=librarian)
    third = add_copies(book=other, count=2, actor=librarian)
    barcodes = [c.barcode for c in first + second + third]
    assert len(set(barcodes)) == 7
    assert all(barcodes)
    assert all(c.status == CopyStatus.AVAILABLE for c in first + second + third)
    assert str(availability([book.pk])[book.pk]) == "5 of 5 available"
    assert len(events(book, BookEvent.Action.COPIES_ADDED)) == 2


def test_add_copies_after_a_withdrawal_still_gives_unique_barcodes(librarian):
    book = PublishedBookFactory()
    first = add_copies(book=book, count=2, actor=librarian)
    withdraw_copy(copy=first[0], actor=librarian)
    more = add_copies(book=book, count=2, actor=librarian)
    assert len({c.barcode for c in first + more}) == 4


@pytest.mark.parametrize("count", [0, -1, 51])
def test_add_copies_refuses_a_count_outside_1_to_50(librarian, count):
    book = PublishedBookFactory()
    with pytest.raises(CirculationRefused, match="between 1 and 50"):
        add_copies(book=book, count=count, actor=librarian)
    assert not Copy.objects.exists()


def test_add_copies_accepts_50(librarian):
    assert len(add_copies(book=PublishedBookFactory(), count=50, actor=librarian)) == 50


def test_add_copies_needs_can_manage_inventory(alice):
    with pytest.raises(PolicyDenied, match="Only librarians"):
        add_copies(book=PublishedBookFactory(), count=1, actor=alice)
    assert not Copy.objects.exists()


def test_new_copies_serve_waiting_holds_first(alice, bob, carol, librarian):
    book = book_with_copies(1)
    borrow(book=book, member=alice)
    hold_bob = place_hold(book=book, member=bob)
    hold_carol = place_hold(book=book, member=carol)
    added = add_copies(book=book, count=3, actor=librarian)
    assert fresh(hold_bob).copy == added[0]
    assert fresh(hold_carol).copy == added[1]
    assert [status_of(c) for c in added] == [
        CopyStatus.ON_HOLD_SHELF,
        CopyStatus.ON_HOLD_SHELF,
        CopyStatus.AVAILABLE,
    ]
    assert str(availability([book.pk])[book.pk]) == "1 of 4 available"


def test_withdraw_copy_is_refused_while_on_loan_or_on_the_hold_shelf(alice, bob, librarian):
    book = book_with_copies(2)
    loan = borrow(book=book, member=alice)
    with pytest.raises(CirculationRefused, match="once it is back"):
        withdraw_copy(copy=loan.copy, actor=librarian)
    spare = Copy.objects.exclude(pk=loan.copy.pk).get(book=book)
    borrow(book=book, member=carol_for(book))
    place_hold(book=book, member=bob)
    return_loan(loan=loan, actor=alice)
    assert status_of(loan.copy) == CopyStatus.ON_HOLD_SHELF
    with pytest.raises(CirculationRefused, match="kept on the hold shelf: .* once the hold ends"):
        withdraw_copy(copy=loan.copy, actor=librarian)
    assert status_of(loan.copy) == CopyStatus.ON_HOLD_SHELF
    assert status_of(spare) == CopyStatus.ON_LOAN


def test_a_withdrawn_copy_leaves_availability(alice, librarian):
    book = book_with_copies(3)
    copies = list(Copy.objects.filter(book=book))
    withdrawn = withdraw_copy(copy=copies[0], actor=librarian)
    assert withdrawn.status == CopyStatus.WITHDRAWN
    assert str(availability([book.pk])[book.pk]) == "2 of 2 available"
    (event,) = events(book, BookEvent.Action.COPY_WITHDRAWN)
    assert event.changes == {"copy": [None, copies[0].barcode]}
    with pytest.raises(CirculationRefused, match="already withdrawn"):
        withdraw_copy(copy=copies[0], actor=librarian)
    borrow(book=book, member=alice)
    borrow(book=book, member=carol_for(book))
    assert str(availability([book.pk])[book.pk]) == "On loan"
    with pytest.raises(CirculationRefused):
        borrow(
            book=book, member=in_role("Members", username="late")
        )  # the withdrawn copy is not lent


def test_withdraw_needs_can_manage_inventory(alice):
    book = book_with_copies(1)
    with pytest.raises(PolicyDenied):
        withdraw_copy(copy=Copy.objects.get(book=book), actor=alice)
    assert status_of(Copy.objects.get(book=book)) == CopyStatus.AVAILABLE


# --- Availability ----------------------------------------------------------------------------


def test_availability_strings(alice, bob, carol):
    none = PublishedBookFactory()
    two = book_with_copies(2)
    borrow(book=two, member=alice)
    out = book_with_copies(1)
    borrow(book=out, member=alice)
    place_hold(book=out, member=bob)
    place_hold(book=out, member=carol)
    quiet = book_with_copies(1)
    borrow(book=quiet, member=bob)
    shown = {pk: str(a) for pk, a in availability([none.pk, two.pk, out.pk, quiet.pk]).items()}
    assert shown == {
        none.pk: "No copies yet",
        two.pk: "1 of 2 available",
        out.pk: "On loan · 2 waiting",
        quiet.pk: "On loan",
    }
    assert availability([out.pk])[out.pk].waiting == 2


def make_books_with_copies(n: int) -> list[int]:
    books = [PublishedBookFactory() for _ in range(n)]
    Copy.objects.bulk_create(
        Copy(book=book, barcode=f"Q{book.pk:05d}-{i}") for book in books for i in range(2)
    )
    return [book.pk for book in books]


def test_availability_takes_the_same_number_of_queries_for_1_or_30_books(
    django_assert_num_queries,
):
    one = make_books_with_copies(1)
    thirty = make_books_with_copies(30)
    with django_assert_num_queries(2):
        result = availability(one)
    assert [str(a) for a in result.values()] == ["2 of 2 available"]
    with django_assert_num_queries(2):
        result = availability(thirty)
    assert len(result) == 30
    assert {str(a) for a in result.values()} == {"2 of 2 available"}


def test_availability_counts_copies_and_holds_without_joining_the_books():
    """A list page asks this for 25 books: joined to the books (as ordering copies by their
    book did) it read the whole books table, 15 ms at 100,000 books instead of 0.2."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    books = make_books_with_copies(3)
    with CaptureQueriesContext(connection) as queries:
        availability(books)
    assert all("JOIN" not in query["sql"] for query in queries.captured_queries)


# --- Database constraints --------------------------------------------------------------------


def test_the_database_refuses_two_open_loans_of_one_copy(alice, bob):
    book = book_with_copies(1)
    copy = Copy.objects.get(book=book)
    due = timezone.now() + 21 * DAY
    Loan.objects.create(copy=copy, book=book, borrower=alice, due_at=due)
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(copy=copy, book=book, borrower=bob, due_at=due)
    # A returned loan does not count.
    Loan.objects.filter(borrower=alice).update(returned_at=timezone.now())
    Loan.objects.create(copy=copy, book=book, borrower=bob, due_at=due)


def test_the_database_refuses_two_open_loans_of_one_book_by_one_member(alice):
    book = book_with_copies(2)
    first, second = Copy.objects.filter(book=book)
    due = timezone.now() + 21 * DAY
    Loan.objects.create(copy=first, book=book, borrower=alice, due_at=due)
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(copy=second, book=book, borrower=alice, due_at=due)
    assert Loan.objects.count() == 1


def test_the_database_refuses_two_active_holds_of_a_member_for_one_book(alice):
    book = PublishedBookFactory()
    Hold.objects.create(book=book, member=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Hold.objects.create(book=book, member=alice)
    # A closed hold does not count.
    Hold.objects.filter(member=alice).update(status=HoldStatus.CANCELLED)
    Hold.objects.create(book=book, member=alice)
    assert Hold.objects.active().count() == 1


def test_a_copy_kept_on_the_hold_shelf_is_said_so_not_on_loan(db):

    from apps.bookshelf.tests.factories import PublishedBookFactory

    desk = in_role("Librarians", username="shelfdesk")
    reader = in_role("Members", username="shelfreader")
    waiting = in_role("Members", username="shelfwaiting")
    book = PublishedBookFactory()
    add_copies(book=book, count=1, actor=desk)
    loan = borrow(book=book, member=reader)
    place_hold(book=book, member=waiting)
    assert str(availability([book.pk])[book.pk]) == "On loan · 1 waiting"
    return_loan(loan=loan, actor=reader)
    assert str(availability([book.pk])[book.pk]) == "On the hold shelf"
