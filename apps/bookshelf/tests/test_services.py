from __future__ import annotations

import pytest
from django.db import IntegrityError
from django.db.models import F

from apps.bookshelf.models import Book
from apps.bookshelf.policy import ACTION_RULES, book_controls, why_cannot_act
from apps.bookshelf.services import (
    BookActionError,
    BookConflictError,
    book_apply_action,
    book_create,
    book_delete,
    book_update,
)
from apps.core.policy import PolicyDenied

from .factories import BookFactory, InReviewBookFactory, PublishedBookFactory

pytestmark = pytest.mark.django_db

NEW_BOOK = {
    "title": "Solaris",
    "author": "Stanisław Lem",
    "isbn": "9780156027601",
    "publication_year": 1961,
}


def test_approve_publishes_sets_the_date_bumps_the_version_and_records_who(superuser, editor):
    book = InReviewBookFactory(submitted_by=editor)
    fresh = book_apply_action(book=book, action="approve", user=superuser)
    assert not fresh.is_in_review
    assert fresh.submitted_at is None
    assert fresh.submitted_by == editor  # kept: the submitter hears of it, sees it as theirs
    assert fresh.is_published
    assert fresh.published_at is not None
    assert fresh.version == book.version + 1
    assert fresh.updated_by == superuser


def test_an_action_that_does_not_apply_is_refused_and_changes_nothing(superuser):
    book = PublishedBookFactory()
    with pytest.raises(BookActionError, match="Already published") as excinfo:
        book_apply_action(book=book, action="approve", user=superuser)
    assert excinfo.value.current.version == book.version
    book.refresh_from_db()
    assert book.version == 1


def test_a_stale_object_cannot_approve_a_withdrawn_book(superuser, editor):
    book = InReviewBookFactory(submitted_by=editor)
    book_apply_action(book=Book.objects.get(pk=book.pk), action="withdraw", user=editor)
    with pytest.raises(BookActionError, match="No longer in review|not in review"):
        book_apply_action(book=book, action="approve", user=superuser)  # `book`: in review
    book.refresh_from_db()
    assert not book.is_published


def test_a_draft_cannot_be_published_without_review(superuser):
    book = BookFactory()
    with pytest.raises(BookActionError, match="Submit it for review first"):
        book_apply_action(book=book, action="approve", user=superuser)
    book.refresh_from_db()
    assert not book.is_published


def test_unpublish_and_archive_also_unfeature(superuser):
    book = PublishedBookFactory(is_featured=True)
    assert not book_apply_action(book=book, action="unpublish", user=superuser).is_featured
    book = PublishedBookFactory(is_featured=True)
    assert not book_apply_action(book=book, action="archive", user=superuser).is_featured


def test_premium_toggle_from_a_stale_object_is_refused_not_lost(superuser):
    book = BookFactory(is_premium=False)
    stale = Book.objects.get(pk=book.pk)
    assert book_apply_action(book=book, action="premium", user=superuser).is_premium
    # A second request deciding on the old row is told, and changes nothing…
    with pytest.raises(BookActionError, match="changed while you were acting"):
        book_apply_action(book=stale, action="premium", user=superuser)
    assert Book.objects.get(pk=book.pk).is_premium
    # …while one made on the row as it is now flips it back.
    assert not book_apply_action(
        book=Book.objects.get(pk=book.pk), action="premium", user=superuser
    ).is_premium


def test_update_saves_when_the_version_matches(editor):
    book = BookFactory(title="Old")
    fresh = book_update(book=book, fields={"title": "New"}, expected_version=1, user=editor)
    assert fresh.title == "New"
    assert fresh.version == 2
    assert fresh.updated_by == editor


def test_update_refuses_to_overwrite_a_newer_version(editor, publisher):
    book = BookFactory(title="Original")
    book_update(book=book, fields={"title": "Theirs"}, expected_version=1, user=publisher)
    with pytest.raises(BookConflictError) as excinfo:
        book_update(book=book, fields={"title": "Mine"}, expected_version=1, user=editor)
    assert excinfo.value.current.title == "Theirs"
    assert excinfo.value.current.updated_by == publisher
    book.refresh_from_db()
    assert book.title == "Theirs"
    assert book.version == 2


def offered(book, user) -> list[str]:
    return book_controls(user, book).actions


def test_actions_offered_follow_permissions_and_state(viewer, editor, publisher, superuser):
    draft = BookFactory()
    published = PublishedBookFactory()
    assert offered(draft, viewer) == []
    assert offered(draft, editor) == ["submit"]
    assert offered(draft, publisher) == ["submit"]
    in_review = InReviewBookFactory(submitted_by=editor)
    assert offered(in_review, editor) == ["withdraw"]
    assert offered(in_review, publisher) == ["approve", "request_changes", "withdraw"]
    own = InReviewBookFactory(submitted_by=publisher)
    assert offered(own, publisher) == ["request_changes", "withdraw"]  # four eyes
    assert offered(published, publisher) == [
        "unpublish",
        "feature",
    ]
    assert offered(published, superuser) == [
        "unpublish",
        "feature",
        "archive",
        "premium",
    ]


def test_every_action_needs_change_book_and_its_own_permission(make_user):
    book = BookFactory()
    for name, rule in ACTION_RULES.items():
        if rule.permission == "bookshelf.change_book":  # submit, withdraw: change_book alone
            with pytest.raises(PolicyDenied, match=str(rule.denied)):
                book_apply_action(book=book, action=name, user=make_user("bookshelf.view_book"))
            continue
        assert rule.permission.startswith("bookshelf.can_")
        only_the_action = make_user(rule.permission)
        only_change = make_user("bookshelf.change_book")
        both = make_user("bookshelf.change_book", rule.permission)
        for refused in (only_the_action, only_change):
            with pytest.raises(PolicyDenied, match=str(rule.denied)):
                book_apply_action(book=book, action=name, user=refused)
        assert not why_cannot_act(both, name, book)


def test_version_counter_only_moves_forward(superuser, publisher):
    book = BookFactory()
    book = book_apply_action(book=book, action="submit", user=superuser)
    book = book_apply_action(book=book, action="approve", user=publisher)
    for action in ("feature", "unfeature", "archive", "unarchive"):
        book = book_apply_action(book=book, action=action, user=superuser)
    assert book.version == 7
    assert Book.objects.filter(pk=book.pk, version=F("version")).count() == 1


# --- Two writers, one version: every write path -----------------------------------------------


def test_two_people_adding_the_same_isbn_one_wins(editor, publisher):
    book_create(fields={**NEW_BOOK}, user=editor)
    with pytest.raises(IntegrityError):
        book_create(fields={**NEW_BOOK, "title": "Solaris (again)"}, user=publisher)
    assert list(Book.objects.values_list("title", "created_by")) == [("Solaris", editor.pk)]


def test_add_needs_its_permission(viewer):
    with pytest.raises(PolicyDenied, match="You don't have permission to add books."):
        book_create(fields={**NEW_BOOK}, user=viewer)
    assert not Book.objects.exists()


def test_delete_refuses_a_book_changed_since_it_was_confirmed(superuser, editor):
    book = BookFactory(title="Dune")
    book_update(book=book, fields={"title": "Dune (editor)"}, expected_version=1, user=editor)
    with pytest.raises(BookConflictError) as excinfo:
        book_delete(book=book, expected_version=1, user=superuser)
    assert excinfo.value.current.title == "Dune (editor)"
    assert Book.objects.filter(pk=book.pk).exists()
    book_delete(book=book, expected_version=2, user=superuser)
    assert not Book.objects.filter(pk=book.pk).exists()


def test_an_edit_after_the_delete_finds_nothing_to_overwrite(superuser, editor):
    book = BookFactory()
    book_delete(book=book, expected_version=1, user=superuser)
    with pytest.raises(Book.DoesNotExist):
        book_update(book=book, fields={"title": "Late"}, expected_version=1, user=editor)
    with pytest.raises(Book.DoesNotExist):
        book_delete(book=book, expected_version=1, user=superuser)
    assert not Book.objects.exists()


def test_delete_needs_its_permission_and_to_see_the_book(editor, make_user):
    with pytest.raises(PolicyDenied, match="You don't have permission to delete books."):
        book_delete(book=BookFactory(), expected_version=1, user=editor)
    draft = BookFactory()
    with pytest.raises(PolicyDenied):
        book_delete(book=draft, expected_version=1, user=make_user("bookshelf.delete_book"))
    assert Book.objects.filter(pk=draft.pk).exists()


def test_a_decision_on_a_stale_copy_is_refused_whoever_got_there_first(
    publisher, superuser, editor
):
    """A publisher and a librarian act on the same loaded book: approve, then archive from
    the stale copy. The archive was decided about a book in review; it is refused with
    what happened, never applied to a book it was not decided about."""
    book = InReviewBookFactory(submitted_by=editor)
    stale = Book.objects.get(pk=book.pk)
    book_apply_action(book=book, action="approve", user=publisher)
    with pytest.raises(BookActionError, match="changed while you were acting"):
        book_apply_action(book=stale, action="archive", user=superuser)
    current = Book.objects.get(pk=book.pk)
    assert (current.is_published, current.is_archived, current.version) == (True, False, 2)
    with pytest.raises(BookActionError, match="Already published: approved by"):
        book_apply_action(book=stale, action="approve", user=superuser)
