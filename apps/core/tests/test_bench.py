"""`make bench`'s own parts: reading wrk's report, the table, and the seeded catalogue.
(The benchmark itself runs outside the test suite: it measures, it does not assert.)"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from apps.bookshelf.models import Book
from apps.circulation.models import Copy, CopyStatus, Loan
from apps.core.tests.support import postgres_only
from project.bench import markdown, parse_wrk

WRK_REPORT = """Running 5s test @ http://127.0.0.1:8000/books/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.36ms    4.12ms  80.02ms   90.00%
    Req/Sec   187.50     20.11   230.00     70.00%
  Latency Distribution
     50%   20.50ms
     75%   22.00ms
     90%   25.10ms
     99%    1.20s
  1873 requests in 5.01s, 98.20MB read
Requests/sec:    373.85
Transfer/sec:     19.60MB
"""


def test_wrk_report_is_read_with_its_units():
    assert parse_wrk(WRK_REPORT) == {
        "rps": 373.85,
        "p50_ms": 20.5,
        "p99_ms": 1200.0,
        "errors": 0,
    }
    micro = WRK_REPORT.replace("20.50ms", "850.00us")
    assert parse_wrk(micro)["p50_ms"] == pytest.approx(0.85)


def test_failed_requests_in_the_wrk_report_are_counted():
    report = WRK_REPORT.replace(
        "Requests/sec:",
        "  Socket errors: connect 0, read 2, write 0, timeout 3\n"
        "  Non-2xx or 3xx responses: 7\nRequests/sec:",
    )
    assert parse_wrk(report)["errors"] == 12
    with pytest.raises(ValueError, match="Requests/sec"):
        parse_wrk("wrk: connection refused")


def test_the_table_puts_each_page_beside_the_admin_and_the_floor():
    page = {"bytes": 54_000, "gzip_bytes": 6_700, "queries": 9}
    report = {
        "date": "2026-12-06",
        "books": 100_000,
        "workers": 2,
        "connections": 8,
        "seconds": 5,
        "rounds": 3,
        "machine": {"cores": 2, "postgresql": "15.19"},
        "pages": [
            {"name": "floor (/healthz)", "rps": 1000, "p50_ms": 2, "p99_ms": 5, **page},
            {"name": "list page 1", "rps": 400, "p50_ms": 20, "p99_ms": 40, **page},
            {"name": "admin changelist", "rps": 100, "p50_ms": 80, "p99_ms": 120, **page},
        ],
    }
    table = markdown(report)
    assert "# Benchmark: 100,000 books" in table
    assert "| list page 1 | 400 | 20.0 | 40.0 | 4.0× | 40% | 1.00 | 54.0 | 6.7 | 9 |" in table


@pytest.mark.django_db(transaction=True)
def test_seed_bench_makes_a_mixed_catalogue_with_copies_and_loans_once():
    call_command("seed_bench", "--books=400", verbosity=0)
    assert Book.objects.count() == 400
    assert Book.objects.public().count() > 200
    assert Book.objects.filter(is_in_review=True).exists()
    assert Book.objects.filter(is_archived=True).exists()
    assert Book.objects.filter(is_published=False, is_archived=False).exists()
    per_book = {Copy.objects.filter(book=book).count() for book in Book.objects.all()}
    assert per_book <= {1, 2, 3}
    assert Loan.objects.open().filter(borrower__username__startswith="bench-member-").exists()
    on_loan = Copy.objects.filter(status=CopyStatus.ON_LOAN).count()
    assert on_loan == Loan.objects.open().count()  # every lent copy has its loan
    call_command("seed_bench", "--books=400", verbosity=0)  # again: nothing doubled
    assert Book.objects.count() == 400
    assert Copy.objects.filter(status=CopyStatus.ON_LOAN).count() == on_loan


# --- Pages read from the nearer end (apps/core/pagination.py) ---------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("orphans", [0, 3])
def test_every_page_from_the_nearer_end_holds_the_same_rows_as_slicing(orphans):
    from django.core.paginator import Paginator

    from apps.bookshelf.tests.factories import BookFactory
    from apps.core.pagination import NearerEndPaginator

    for n in range(53):
        BookFactory(title=f"Book {n % 7}")  # ties on the title: the id decides
    books = Book.objects.order_by("title", "id")
    plain, nearer = Paginator(books, 10, orphans=orphans), NearerEndPaginator(books, 10, orphans)
    assert nearer.num_pages == plain.num_pages
    for number in plain.page_range:
        assert list(nearer.page(number)) == list(plain.page(number)), number


@pytest.mark.django_db
def test_a_page_past_the_middle_is_read_backwards_with_a_small_offset():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.bookshelf.tests.factories import BookFactory
    from apps.core.pagination import NearerEndPaginator

    for _ in range(100):
        BookFactory()
    paginator = NearerEndPaginator(Book.objects.order_by("title", "id"), 10)
    paginator.count  # noqa: B018 (counted first, as a list page does)
    with CaptureQueriesContext(connection) as queries:
        list(paginator.page(10))
        list(paginator.page(2))
    last, second = (query["sql"] for query in queries.captured_queries)
    assert "DESC" in last and "OFFSET" not in last  # the last page: LIMIT 10 from the end
    assert "DESC" not in second


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["title", "-title", "author", "-year", "updated"])
def test_the_list_pages_hold_the_rows_slicing_holds_for_every_sort_and_search(sort):
    """Ids first, then their rows (the deferred join), from either end: the same rows in the
    same order as plain slicing, ties included."""
    from django.core.paginator import Paginator

    from apps.bookshelf.tests.factories import BookFactory
    from apps.bookshelf.views import BookListPaginator, BookListQuery
    from apps.core.pagination import NearerEndPaginator

    for n in range(47):
        BookFactory(title=f"Book {n % 5}", author=f"Author {n % 3}", publication_year=2000 + n % 4)
    ordering = BookListQuery(q="", status="", sort=sort).ordering
    for books in (
        Book.objects.order_by(*ordering),
        Book.objects.search("book 3").order_by(*ordering),
    ):
        plain = Paginator(books, 6)
        for paginator in (NearerEndPaginator(books, 6), BookListPaginator(books, 6)):
            assert paginator.num_pages == plain.num_pages
            for number in plain.page_range:
                assert list(paginator.page(number)) == list(plain.page(number)), (sort, number)


@postgres_only("index-only scans are PostgreSQL's plans")
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("title", "bookshelf_book_title_sort"),
        ("-title", "bookshelf_book_title_sort"),
        ("author", "bookshelf_book_author_sort"),
        ("year", "bookshelf_book_year_sort"),
        ("-updated", "bookshelf_book_updated_sort"),
    ],
)
def test_a_deep_page_is_found_in_the_sort_index_alone(sort, index):
    """The ids of a deep page come from an index holding every column of the sort: no table
    row is read for the rows the OFFSET skips, and nothing is sorted."""
    from apps.bookshelf.tests.factories import BookFactory
    from apps.bookshelf.views import BookListQuery

    BookFactory.create_batch(30)
    with connection.cursor() as cursor:  # a tiny table: left alone, a scan would be cheaper
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    ordering = BookListQuery(q="", status="", sort=sort).ordering
    plan = Book.objects.order_by(*ordering).values("pk")[20:25].explain()
    assert (
        f"Index Only Scan Backward using {index}" in plan
        or f"Index Only Scan using {index}" in plan
    )
    assert "Sort" not in plan.replace("Sort Key", "")


@pytest.mark.django_db
def test_where_a_sliced_subquery_cannot_be_used_the_ids_are_read_first(monkeypatch):
    from apps.bookshelf.tests.factories import BookFactory
    from apps.core.pagination import NearerEndPaginator

    for n in range(30):
        BookFactory(title=f"Book {n:02d}")
    books = Book.objects.order_by("title", "id")
    monkeypatch.setattr(connection.features, "allow_sliced_subqueries_with_in", False)
    paginator = NearerEndPaginator(books, 10)
    assert [book.title for book in paginator.page(1)] == [f"Book {n:02d}" for n in range(10)]
    assert [book.title for book in paginator.page(3)] == [f"Book {n:02d}" for n in range(20, 30)]


@postgres_only("index-only scans are PostgreSQL's plans")
@pytest.mark.django_db
def test_a_search_is_filtered_in_the_title_index_alone():
    """Title or author, sorted by title: the title's sort index holds both, so the page's ids
    are found without reading the table (when the planner walks it rather than the trigram
    indexes, as it does for a common word)."""
    from apps.bookshelf.tests.factories import BookFactory

    BookFactory.create_batch(30)
    with connection.cursor() as cursor:
        for method in ("seqscan", "bitmapscan"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
    plan = Book.objects.search("river").order_by("title", "id").values("pk")[:25].explain()
    assert "Index Only Scan using bookshelf_book_title_sort" in plan
