from __future__ import annotations

import pytest
from django.db.models import F

from apps.bookshelf.models import Book
from apps.bookshelf.services import (
    BOOK_ACTIONS,
    BookActionError,
    BookConflictError,
    book_actions_for,
    book_apply_action,
    book_update,
)

from .factories import BookFactory, PublishedBookFactory

pytestmark = pytest.mark.django_db


def test_publish_sets_the_date_bumps_the_version_and_records_who(editor):
    book = BookFactory()
    fresh = book_apply_action(book=book, action="publish", user=editor)
    assert fresh.is_published
    assert fresh.published_at is not None
    assert fresh.version == book.version + 1
    assert fresh.updated_by == editor


def test_an_action_that_does_not_apply_is_refused_and_changes_nothing(editor):
    book = PublishedBookFactory()
    with pytest.raises(BookActionError, match="Only drafts") as excinfo:
        book_apply_action(book=book, action="publish", user=editor)
    assert excinfo.value.current.version == book.version
    book.refresh_from_db()
    assert book.version == 1


def test_a_stale_object_cannot_publish_an_archived_book(editor):
    book = BookFactory()
    Book.objects.filter(pk=book.pk).update(is_archived=True)  # someone else, meanwhile
    with pytest.raises(BookActionError):
        book_apply_action(book=book, action="publish", user=editor)  # `book` says draft
    book.refresh_from_db()
    assert not book.is_published


def test_unpublish_and_archive_also_unfeature(editor):
    book = PublishedBookFactory(is_featured=True)
    assert not book_apply_action(book=book, action="unpublish", user=editor).is_featured
    book = PublishedBookFactory(is_featured=True)
    assert not book_apply_action(book=book, action="archive", user=editor).is_featured


def test_premium_toggles_in_sql_so_two_toggles_cancel_out(editor):
    book = BookFactory(is_premium=False)
    stale = Book.objects.get(pk=book.pk)
    assert book_apply_action(book=book, action="premium", user=editor).is_premium
    # A second request holding the stale object still flips the current value.
    assert not book_apply_action(book=stale, action="premium", user=editor).is_premium


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


def test_actions_offered_follow_permissions_and_state(viewer, editor, publisher, superuser):
    draft = BookFactory()
    published = PublishedBookFactory()
    assert book_actions_for(book=draft, user=viewer) == []
    assert book_actions_for(book=draft, user=editor) == []
    assert [a.name for a in book_actions_for(book=draft, user=publisher)] == ["publish"]
    assert [a.name for a in book_actions_for(book=published, user=publisher)] == [
        "unpublish",
        "feature",
    ]
    assert [a.name for a in book_actions_for(book=published, user=superuser)] == [
        "unpublish",
        "feature",
        "archive",
        "premium",
    ]


def test_every_action_needs_change_book_and_its_own_permission():
    for action in BOOK_ACTIONS.values():
        assert action.permissions[0] == "bookshelf.change_book"
        assert action.permissions[1].startswith("bookshelf.can_")


def test_version_counter_only_moves_forward(editor):
    book = BookFactory()
    for action in ("publish", "feature", "unfeature", "archive", "unarchive"):
        book = book_apply_action(book=book, action=action, user=editor)
    assert book.version == 6
    assert Book.objects.filter(pk=book.pk, version=F("version")).count() == 1
