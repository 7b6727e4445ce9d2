"""Many members at the desk at the same moment: real threads on their own PostgreSQL
connections, released together. The book's row lock makes them take turns, so the copies are
never oversold and a waiting hold is never skipped."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from apps.accounts.tests.factories import UserFactory
from apps.bookshelf.tests.factories import PublishedBookFactory
from apps.bookshelf.tests.test_concurrency import race
from apps.circulation.models import Copy, CopyStatus, Hold, HoldStatus, Loan
from apps.circulation.services import (
    CirculationRefused,
    add_copies,
    availability,
    borrow,
    place_hold,
    return_loan,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL's row locks (SQLite allows one writer); "
        "runs in CI's PostgreSQL pass",
    ),
    pytest.mark.django_db(transaction=True),
]

MEMBERS = 40
COPIES = 5


def members(count: int, prefix: str = "m") -> list:
    group = Group.objects.get(name="Members")
    people = [UserFactory(username=f"{prefix}{n:02d}") for n in range(count)]
    for person in people:
        person.groups.add(group)
    return people


@pytest.fixture
def librarian():
    user = UserFactory(username="desk")
    user.groups.add(Group.objects.get(name="Librarians"))
    return user


def test_forty_members_borrowing_five_copies_at_once_get_five_loans(librarian):
    book = PublishedBookFactory()
    add_copies(book=book, count=COPIES, actor=librarian)
    people = members(MEMBERS)
    outcomes = race(**{p.username: partial(borrow, book=book, member=p) for p in people})

    kinds = Counter(
        type(outcome).__name__ if outcome != "ok" else "ok" for outcome in outcomes.values()
    )
    assert kinds == {"ok": COPIES, "CirculationRefused": MEMBERS - COPIES}, kinds
    refusals = {str(o) for o in outcomes.values() if isinstance(o, CirculationRefused)}
    assert refusals == {f"No copy of “{book.title}” is free right now. Place a hold to be next."}
    assert Loan.objects.open().filter(book=book).count() == COPIES
    assert Loan.objects.open().filter(book=book).values("copy").distinct().count() == COPIES
    assert not Copy.objects.filter(book=book, status=CopyStatus.AVAILABLE).exists()
    assert str(availability([book.pk])[book.pk]) == "On loan"
    winners = {name for name, outcome in outcomes.items() if outcome == "ok"}
    assert (
        set(Loan.objects.filter(book=book).values_list("borrower__username", flat=True)) == winners
    )


def test_returns_racing_borrows_never_lend_a_copy_twice(librarian):
    book = PublishedBookFactory()
    add_copies(book=book, count=COPIES, actor=librarian)
    holders = members(COPIES, prefix="h")
    loans = [borrow(book=book, member=person) for person in holders]
    newcomers = members(MEMBERS - COPIES, prefix="n")
    outcomes = race(
        **{f"return-{loan.pk}": partial(return_loan, loan=loan, actor=librarian) for loan in loans},
        **{p.username: partial(borrow, book=book, member=p) for p in newcomers},
    )

    assert all(outcomes[f"return-{loan.pk}"] == "ok" for loan in loans), outcomes
    borrowed = [n for n, o in outcomes.items() if not n.startswith("return-") and o == "ok"]
    refused = [o for n, o in outcomes.items() if not n.startswith("return-") and o != "ok"]
    assert all(isinstance(o, CirculationRefused) for o in refused), refused
    open_loans = Loan.objects.open().filter(book=book)
    assert open_loans.count() == len(borrowed) <= COPIES
    assert open_loans.values("copy").distinct().count() == open_loans.count()
    # Every copy is either lent once or back on the shelf: none lost, none doubled.
    on_loan = Copy.objects.filter(book=book, status=CopyStatus.ON_LOAN).count()
    available = Copy.objects.filter(book=book, status=CopyStatus.AVAILABLE).count()
    assert (on_loan, on_loan + available) == (open_loans.count(), COPIES)


def test_a_return_racing_a_walk_in_borrow_serves_the_waiting_hold(librarian):
    for _round in range(10):
        book = PublishedBookFactory()
        add_copies(book=book, count=1, actor=librarian)
        reader, waiting, walk_in = members(3, prefix=f"r{_round}-")
        loan = borrow(book=book, member=reader)
        place_hold(book=book, member=waiting)
        outcomes = race(
            returned=partial(return_loan, loan=loan, actor=librarian),
            walk_in=partial(borrow, book=book, member=walk_in),
        )

        assert outcomes["returned"] == "ok", outcomes
        assert isinstance(outcomes["walk_in"], CirculationRefused), outcomes
        hold = Hold.objects.get(book=book, member=waiting)
        assert hold.status == HoldStatus.READY
        assert Copy.objects.get(book=book).status == CopyStatus.ON_HOLD_SHELF
        assert not Loan.objects.open().filter(book=book).exists()
