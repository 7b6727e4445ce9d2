"""Review decisions made at the same moment, from the same loaded version: real threads on
their own database connections, released together. Whatever order the database picks,
one decision applies and the other is refused, the row satisfies every constraint, and the
history holds exactly one entry for the decision that won."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from apps.bookshelf.models import Book, BookEvent
from apps.bookshelf.services import BookActionError, book_apply_action
from apps.core.tests.support import ROW_LOCKS, in_role, postgres_only, race_writes

from .factories import BookFactory

pytestmark = [
    postgres_only(ROW_LOCKS),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 20  # the race can go either way; run it often enough to see both


def member_of(username: str, role: str):
    user = in_role(role, username=username, first_name=username.title())
    user.get_all_permissions()  # their page was loaded before the click
    return user


@pytest.fixture
def people():
    return {
        "author": member_of("author", "Editors"),
        "first": member_of("first", "Publishers"),
        "second": member_of("second", "Publishers"),
    }


def in_review(author, round_: int) -> Book:
    book = BookFactory(title=f"Contested {round_}")
    return book_apply_action(book=book, action="submit", user=author)  # version 2


def decisions(book: Book) -> list[str]:
    """The history entries after the submission, newest first."""
    return list(
        BookEvent.objects.of_book(book.pk)
        .exclude(action__in=["created", "submitted"])
        .values_list("action", flat=True)
    )


def assert_consistent(row: Book) -> None:
    """What the database constraints promise, read back from the row."""
    assert row.is_in_review == (row.submitted_at is not None)
    assert row.is_published == (row.published_at is not None)
    assert not (row.is_in_review and (row.is_published or row.is_archived))


def test_two_publishers_approving_at_once_publish_once(people):
    for round_ in range(ROUNDS):
        book = in_review(people["author"], round_)
        outcomes = race_writes(
            **{
                name: partial(
                    book_apply_action,
                    book=Book.objects.get(pk=book.pk),  # each publisher's copy, in review
                    action="approve",
                    user=people[name],
                )
                for name in ("first", "second")
            }
        )

        winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
        assert len(winners) == 1, outcomes
        (loser,) = outcomes.keys() - winners
        refusal = outcomes[loser]
        assert isinstance(refusal, BookActionError), outcomes
        winner = people[winners[0]]
        # "already published by X": the loser is told who got there first.
        assert str(refusal).startswith(f"Already published: approved by {winner}"), refusal
        row = Book.objects.get(pk=book.pk)
        assert_consistent(row)
        assert (row.is_published, row.is_in_review, row.version) == (True, False, 3)
        assert (row.updated_by, row.submitted_by) == (winner, people["author"])
        assert refusal.current.version == row.version
        (approval,) = BookEvent.objects.filter(book_id=book.pk, action="approved")
        assert approval.actor_id == winner.pk
        assert decisions(book) == ["approved"]


def test_approve_racing_withdraw_leaves_one_decision_and_a_consistent_row(people):
    author, publisher = people["author"], people["first"]
    won: Counter[str] = Counter()
    for round_ in range(ROUNDS):
        book = in_review(author, round_)
        outcomes = race_writes(
            approve=partial(
                book_apply_action,
                book=Book.objects.get(pk=book.pk),
                action="approve",
                user=publisher,
            ),
            withdraw=partial(
                book_apply_action,
                book=Book.objects.get(pk=book.pk),
                action="withdraw",
                user=author,
            ),
        )

        assert list(outcomes.values()).count("ok") == 1, outcomes
        winner = next(name for name, outcome in outcomes.items() if outcome == "ok")
        loser = "withdraw" if winner == "approve" else "approve"
        won[winner] += 1
        assert isinstance(outcomes[loser], BookActionError), outcomes
        row = Book.objects.get(pk=book.pk)
        assert_consistent(row)
        assert row.version == 3
        assert not row.is_in_review
        assert row.submitted_at is None
        if winner == "approve":
            assert row.is_published
            assert row.updated_by == publisher
            assert decisions(book) == ["approved"]
            assert str(outcomes["withdraw"]) == "This book is not in review."
        else:
            assert not row.is_published
            assert row.published_at is None
            assert row.updated_by == author
            assert decisions(book) == ["withdrawn"]
            assert "Submit it for review first" in str(outcomes["approve"])
    assert won.total() == ROUNDS
    print(f"approve won {won['approve']}, withdraw won {won['withdraw']} of {ROUNDS}")
