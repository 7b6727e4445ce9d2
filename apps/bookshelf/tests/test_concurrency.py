"""Two people writing the same book at the same moment, from the same loaded version: real
threads on their own database connections, released together. Whatever order the database
picks, exactly one write applies and the other is refused (never a lost update, never an
edit saved onto a deleted book)."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from apps.accounts.tests.factories import SuperuserFactory
from apps.bookshelf.models import Book, BookEvent
from apps.bookshelf.services import (
    BookActionError,
    BookConflictError,
    book_apply_action,
    book_delete,
    book_update,
)
from apps.core.tests.support import ROW_LOCKS, postgres_only, race_writes

from .factories import BookFactory

pytestmark = [
    postgres_only(ROW_LOCKS),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 20  # the race can go either way; run it often enough to see both


@pytest.fixture
def users():
    first, second = SuperuserFactory(username="first"), SuperuserFactory(username="second")
    for user in (first, second):
        user.get_all_permissions()  # both pages were loaded before either click
    return first, second


def test_a_delete_and_an_edit_of_one_version_never_both_apply(users):
    """The delete locks the row and compares the version; the edit is an UPDATE on the
    version. If the delete goes first the edit finds no row (DoesNotExist, nothing saved
    onto a deleted book); if the edit goes first the delete sees version 2 and is refused
    (the person confirmed deleting something else)."""
    deleter, editor = users
    winners: Counter[str] = Counter()
    for round_ in range(ROUNDS):
        book = BookFactory(title=f"Dune {round_}")
        loaded = Book.objects.get(pk=book.pk)  # each person's copy of version 1
        edited = Book.objects.get(pk=book.pk)

        outcomes = race_writes(
            delete=partial(book_delete, book=loaded, expected_version=1, user=deleter),
            edit=partial(
                book_update,
                book=edited,
                fields={"title": "Dune (edited)"},
                expected_version=1,
                user=editor,
            ),
        )

        if outcomes["delete"] == "ok":
            winners["delete"] += 1
            assert isinstance(outcomes["edit"], Book.DoesNotExist), outcomes
            assert not Book.objects.filter(pk=book.pk).exists()
        else:
            winners["edit"] += 1
            assert outcomes["edit"] == "ok", outcomes
            assert isinstance(outcomes["delete"], BookConflictError), outcomes
            assert outcomes["delete"].current.version == 2
            row = Book.objects.get(pk=book.pk)
            assert (row.title, row.version, row.updated_by) == ("Dune (edited)", 2, editor)
    assert winners.total() == ROUNDS


def test_two_edits_of_one_version_apply_once_and_refuse_the_other(users):
    for round_ in range(ROUNDS):
        book = BookFactory(title=f"Solaris {round_}")
        outcomes = race_writes(
            **{
                user.username: partial(
                    book_update,
                    book=Book.objects.get(pk=book.pk),  # each person's copy of version 1
                    fields={"title": f"Solaris by {user.username}"},
                    expected_version=1,
                    user=user,
                )
                for user in users
            }
        )

        applied = [name for name, outcome in outcomes.items() if outcome == "ok"]
        assert len(applied) == 1, outcomes
        (refused,) = outcomes.keys() - applied
        assert isinstance(outcomes[refused], BookConflictError), outcomes
        row = Book.objects.get(pk=book.pk)
        # The refused editor is shown the winner's row, which is what the table holds.
        assert outcomes[refused].current.title == row.title == f"Solaris by {applied[0]}"
        assert row.version == 2


def test_two_submit_clicks_on_one_draft_submit_it_once(users):
    """(Two approvals at once: test_workflow_concurrency.py.)"""
    for _round in range(ROUNDS):
        book = BookFactory()
        outcomes = race_writes(
            **{
                user.username: partial(
                    book_apply_action,
                    book=Book.objects.get(pk=book.pk),  # each person's copy of the draft
                    action="submit",
                    user=user,
                )
                for user in users
            }
        )

        assert list(outcomes.values()).count("ok") == 1, outcomes
        refused = [o for o in outcomes.values() if o != "ok"]
        assert [type(o) for o in refused] == [BookActionError], outcomes
        row = Book.objects.get(pk=book.pk)
        winner = next(name for name, outcome in outcomes.items() if outcome == "ok")
        assert str(refused[0]).startswith("Already in review: submitted by"), refused
        assert (row.is_in_review, row.submitted_by.username, row.version) == (True, winner, 2)
        assert list(BookEvent.objects.of_book(book.pk).values_list("action", flat=True)) == [
            "submitted"
        ]
