"""The list's cost must not grow with the number of books or the permissions checked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.bookshelf.models import Book
from apps.core.tests.support import postgres_only

from .factories import BookFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("bookshelf:book-list")

# Signed in: session, user, the user's permissions, their group permissions, the count,
# the page of books, the page's availability (copies, holds: 2), and (for publishers) the
# navbar's count of books in review. Template checks (perms, row menus) reuse the cached
# permissions.
SIGNED_IN_QUERIES = 9
# Anonymous: the count, the page of books and its availability (2).
ANONYMOUS_QUERIES = 4


def make_books(count: int) -> None:
    Book.objects.bulk_create(
        BookFactory.build(
            isbn=None,
            is_published=index % 2 == 0,
            published_at="2024-01-01T00:00:00Z" if index % 2 == 0 else None,
        )
        for index in range(count)
    )


@pytest.mark.parametrize("count", [10, 1000])
def test_list_query_count_is_fixed_for_a_publisher(
    client, publisher, count, django_assert_max_num_queries
):
    make_books(count)
    client.force_login(publisher)
    with django_assert_max_num_queries(SIGNED_IN_QUERIES):
        response = client.get(LIST_URL)
    assert len(response.context["books"]) == min(count, 25)
    assert "Actions for " in response.text  # the permission-dependent menus were rendered


@pytest.mark.parametrize("count", [10, 1000])
def test_list_query_count_is_fixed_for_a_superuser_searching(
    client, superuser, count, django_assert_max_num_queries
):
    make_books(count)
    client.force_login(superuser)
    with django_assert_max_num_queries(SIGNED_IN_QUERIES):
        client.get(LIST_URL, {"q": "book", "sort": "-updated", "page": "2"})


@pytest.mark.parametrize("count", [10, 1000])
def test_list_query_count_is_fixed_for_visitors(client, count, django_assert_max_num_queries):
    make_books(count)
    with django_assert_max_num_queries(ANONYMOUS_QUERIES):
        response = client.get(LIST_URL)
    assert response.status_code == 200


def test_the_table_partial_leaves_the_page_chrome_out(client, publisher):
    make_books(60)
    client.force_login(publisher)
    full = client.get(LIST_URL).content
    partial = client.get(LIST_URL, HTTP_HX_REQUEST="true").content
    print(f"full page {len(full)} B, table partial {len(partial)} B")
    for chrome in (b"<html", b"<head", b'class="navbar', b'id="toasts"', b'role="search"'):
        assert chrome in full
        assert chrome not in partial
    assert partial.count(b"<tr id=") == full.count(b"<tr id=") == 25
    assert len(partial) < len(full)


@postgres_only("trigram indexes are PostgreSQL's (on SQLite the search scans, as before)")
def test_search_is_served_by_the_trigram_indexes_on_postgresql():
    """The indexes match the expressions the search filters on (UPPER(title) LIKE …): with
    scans of the whole table or of another index ruled out, PostgreSQL's plan uses them."""
    make_books(30)
    with connection.cursor() as cursor:  # a tiny table: left alone, a scan would be cheaper
        for method in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
    plan = Book.objects.search("ada lovelace").explain()
    assert "bookshelf_book_title_trgm" in plan
    assert "bookshelf_book_author_trgm" in plan


def count_queries(captured) -> int:
    return sum('SELECT COUNT(*) AS "__count" FROM "bookshelf_book"' in q["sql"] for q in captured)


@pytest.mark.django_db(transaction=True)  # as requests run: outside a transaction
def test_the_total_is_counted_once_until_a_book_changes(client, editor):
    """ "Showing 1–25 of N" is exact, without a COUNT(*) on every page and keystroke: the
    count is kept until the books change (apps.core.counting), through any path."""
    make_books(30)
    client.force_login(editor)
    with CaptureQueriesContext(connection) as first:
        assert "of 30" in client.get(LIST_URL).text
    with CaptureQueriesContext(connection) as again:
        page_2 = client.get(LIST_URL, {"page": "2"}).text
    assert "of 30" in page_2
    assert (count_queries(first.captured_queries), count_queries(again.captured_queries)) == (1, 0)

    # A book added through the app's form: the next page view counts afresh.
    response = client.post(
        reverse("bookshelf:book-create"),
        {"title": "Fresh", "author": "New Author", "publication_year": "2020"},
    )
    assert response.status_code == 302
    assert "of 31" in client.get(LIST_URL).text
    Book.objects.filter(title="Fresh").delete()
    assert "of 30" in client.get(LIST_URL).text
