"""Shorthands shared by the circulation tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from apps.bookshelf.tests.factories import PublishedBookFactory
from apps.circulation.models import Copy


def book_with_copies(n: int, **fields):
    """A book in the catalogue with ``n`` copies on the shelf."""
    book = PublishedBookFactory(**fields)
    Copy.objects.bulk_create(
        Copy(book=book, barcode=f"T{book.pk:05d}-{i + 1:02d}") for i in range(n)
    )
    return book


def copies(book) -> list[Copy]:
    return list(Copy.objects.filter(book=book).order_by("barcode"))


def fresh(obj):
    obj.refresh_from_db()
    return obj
