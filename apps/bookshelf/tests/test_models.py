from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.bookshelf.models import Book, BookStatus

from .factories import BookFactory, PublishedBookFactory

pytestmark = pytest.mark.django_db


def test_custom_permissions_exist_with_descriptive_names():
    from django.contrib.auth.models import Permission

    names = dict(
        Permission.objects.filter(content_type__app_label="bookshelf").values_list(
            "codename", "name"
        )
    )
    assert names["can_publish_book"] == "Can publish and unpublish books"
    assert set(names) == {
        "view_book",
        "add_book",
        "change_book",
        "delete_book",
        "can_publish_book",
        "can_archive_book",
        "can_feature_book",
        "can_set_premium",
        "can_borrow_book",
        "can_return_book",
        "can_manage_inventory",
    }


def test_isbn_is_unique_when_given_and_optional_otherwise():
    BookFactory(isbn=None)
    BookFactory(isbn=None)
    BookFactory(isbn="9780441172719")
    with pytest.raises(IntegrityError), transaction.atomic():
        BookFactory(isbn="9780441172719")


def test_database_refuses_a_blank_isbn():
    with pytest.raises(IntegrityError), transaction.atomic():
        BookFactory(isbn="")


@pytest.mark.parametrize(
    "state",
    [
        {"is_published": True, "published_at": None},
        {"is_published": False, "published_at": timezone.now()},
        {"is_featured": True},  # a draft
        {
            "is_featured": True,
            "is_published": True,
            "published_at": timezone.now(),
            "is_archived": True,
        },
        {"publication_year": 1200},
    ],
)
def test_database_refuses_inconsistent_states(state):
    with pytest.raises(IntegrityError), transaction.atomic():
        BookFactory(**state)


def test_publication_year_bounds():
    next_year = timezone.localdate().year + 1
    BookFactory.build(publication_year=1450).full_clean()
    BookFactory.build(publication_year=next_year).full_clean()
    for year in (1449, next_year + 1):
        with pytest.raises(ValidationError) as excinfo:
            BookFactory.build(publication_year=year).full_clean()
        assert "publication_year" in excinfo.value.error_dict


def test_visible_to_hides_drafts_and_archived_from_readers(viewer, editor):
    public = PublishedBookFactory()
    draft = BookFactory()
    archived = BookFactory(is_archived=True)
    assert set(Book.objects.visible_to(AnonymousUser())) == {public}
    assert set(Book.objects.visible_to(viewer)) == {public}
    assert set(Book.objects.visible_to(editor)) == {public, draft, archived}


def test_search_matches_title_author_and_isbn_words():
    dune = BookFactory(title="Dune", author="Frank Herbert", isbn="9780441172719")
    BookFactory(title="Emma", author="Jane Austen")
    assert list(Book.objects.search("dune")) == [dune]
    assert list(Book.objects.search("HERBERT")) == [dune]
    assert list(Book.objects.search("frank dune")) == [dune]  # words in either field
    assert list(Book.objects.search("978-0-441")) == [dune]
    assert list(Book.objects.search("0441172717")) == [dune]  # ISBN-10 finds the ISBN-13
    assert list(Book.objects.search("tolkien")) == []
    assert Book.objects.search("  ").count() == 2


def test_status_filters():
    published = PublishedBookFactory()
    featured = PublishedBookFactory(is_featured=True)
    draft = BookFactory()
    archived = BookFactory(is_archived=True)
    assert set(Book.objects.with_status(BookStatus.PUBLISHED)) == {published, featured}
    assert set(Book.objects.with_status(BookStatus.DRAFT)) == {draft}
    assert set(Book.objects.with_status(BookStatus.ARCHIVED)) == {archived}
    assert set(Book.objects.with_status(BookStatus.FEATURED)) == {featured}
    assert Book.objects.with_status("nonsense").count() == 4


def test_str_and_url():
    book = BookFactory.build(pk=7, title="Dune", author="Frank Herbert")
    assert str(book) == "Dune by Frank Herbert"
    assert book.get_absolute_url() == "/books/7/"
    assert book.dom_id == "book-7"


def test_updated_at_defaults_to_creation_time():
    book = BookFactory()
    assert abs(book.updated_at - book.created_at) < datetime.timedelta(seconds=1)
