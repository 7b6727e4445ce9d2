"""Exact counts, counted once per change of the table (apps.core.counting).

Outside a transaction, as requests run: ``transaction=True``. (Inside one, which is where
ordinary tests run, ``cached_count`` counts directly, as tested last.)
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.bookshelf.models import Book
from apps.bookshelf.tests.factories import BookFactory
from apps.core.counting import cached_count, generation

pytestmark = pytest.mark.django_db(transaction=True)


def counted(queryset) -> tuple[int, int]:
    """(the count, how many COUNT queries it took)"""
    with CaptureQueriesContext(connection) as queries:
        result = cached_count(queryset)
    return result, sum("COUNT(" in query["sql"] for query in queries.captured_queries)


def test_a_count_is_made_once_until_the_table_changes():
    for title in ("Dune", "Dune Messiah", "Emma"):
        BookFactory(title=title)
    assert counted(Book.objects.all()) == (3, 1)
    assert counted(Book.objects.all()) == (3, 0)  # from the cache
    # Each query its own entry: a search is not the list's count.
    assert counted(Book.objects.filter(title__icontains="dune")) == (2, 1)
    assert counted(Book.objects.filter(title__icontains="emma")) == (1, 1)
    assert counted(Book.objects.filter(publication_year=1900)) == (0, 1)


def test_every_kind_of_write_through_the_orm_makes_the_count_fresh():
    book = BookFactory()
    assert counted(Book.objects.all()) == (1, 1)
    BookFactory()  # save() of a new row
    assert counted(Book.objects.all()) == (2, 1)
    Book.objects.bulk_create([BookFactory.build(isbn=None), BookFactory.build(isbn=None)])
    assert counted(Book.objects.all()) == (4, 1)
    published = Book.objects.filter(is_published=True)
    assert counted(published) == (0, 1)
    # QuerySet.update()
    Book.objects.filter(pk=book.pk).update(is_published=True, published_at=timezone.now())
    assert counted(published) == (1, 1)
    book.refresh_from_db()
    book.is_published, book.published_at = False, None
    book.save()  # save() of an existing row
    assert counted(published) == (0, 1)
    book.delete()
    assert counted(Book.objects.all()) == (3, 1)
    Book.objects.filter(publication_year=1990).delete()  # QuerySet.delete()
    assert counted(Book.objects.all()) == (0, 1)


def test_an_update_that_matches_nothing_keeps_the_count():
    BookFactory()
    assert counted(Book.objects.all()) == (1, 1)
    Book.objects.filter(pk=-1).update(title="nothing")
    assert counted(Book.objects.all()) == (1, 0)


def test_the_change_is_noted_when_it_is_committed_not_before():
    BookFactory()
    before = generation(Book)
    with transaction.atomic():
        BookFactory()
        # Not yet: a count made now by someone else would still see one book.
        assert generation(Book) == before
    assert generation(Book) == before + 1


def test_inside_a_transaction_it_counts_directly_and_keeps_nothing():
    BookFactory()
    assert counted(Book.objects.all()) == (1, 1)
    with transaction.atomic():
        BookFactory()
        # The transaction sees its own new book; that count must not become everyone's.
        assert counted(Book.objects.all()) == (2, 1)
        transaction.set_rollback(True)
    assert counted(Book.objects.all()) == (1, 0)


def test_a_table_nobody_wrote_to_yet_is_counted_directly():
    assert generation(Book) is None
    assert counted(Book.objects.all()) == (0, 1)
    assert counted(Book.objects.all()) == (0, 1)


def test_a_model_whose_changes_are_not_tracked_is_refused():
    with pytest.raises(ImproperlyConfigured):
        cached_count(Group.objects.all())


def test_the_counter_starts_at_a_random_number():
    # A database rebuilt from scratch must not reuse the numbers a shared cache keys on.
    BookFactory()
    first = generation(Book)
    Book.objects.all().delete()
    from apps.core.models import ChangeCounter

    ChangeCounter.objects.all().delete()
    BookFactory()
    assert generation(Book) not in (None, first, first + 1)


def test_a_transaction_moves_the_counter_once_however_many_rows_it_writes():
    BookFactory()
    before = generation(Book)
    with transaction.atomic():
        for _ in range(3):
            BookFactory()
        Book.objects.update(publication_year=2000)
        with transaction.atomic():  # a savepoint
            BookFactory()
    assert generation(Book) == before + 1


def test_a_write_in_a_savepoint_rolled_back_does_not_hide_a_later_one():
    BookFactory()
    assert counted(Book.objects.all()) == (1, 1)
    with transaction.atomic():
        try:
            with transaction.atomic():
                BookFactory()
                raise RuntimeError
        except RuntimeError:
            pass
        BookFactory()
    assert counted(Book.objects.all()) == (2, 1)


def test_a_deleted_user_leaving_books_without_their_creator_moves_the_counter():
    # Django updates the books through their base manager (SET_NULL), not through signals.
    from apps.accounts.tests.factories import UserFactory

    creator = UserFactory()
    BookFactory(created_by=creator)
    before = generation(Book)
    creator.delete()
    assert generation(Book) == before + 1
    assert Book.objects.get().created_by is None


def test_a_query_that_can_match_nothing_counts_zero_without_asking():
    BookFactory()
    assert counted(Book.objects.filter(pk__in=[])) == (0, 0)
    assert counted(Book.objects.none()) == (0, 0)


def test_the_sorts_of_one_list_share_its_count():
    BookFactory()
    assert counted(Book.objects.order_by("title")) == (1, 1)
    assert counted(Book.objects.order_by("-updated_at", "id")) == (1, 0)
