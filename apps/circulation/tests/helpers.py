"""Shorthands shared by the circulation tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import html
import json

from apps.bookshelf.tests.factories import PublishedBookFactory
from apps.circulation.models import Copy
from apps.roles.tests.helpers import in_role

__all__ = ["book_with_copies", "copies", "fresh", "in_role", "text", "toasts"]


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


def toasts(response) -> list[dict]:
    """The messages an htmx response carries in HX-Trigger."""
    payload = json.loads(response.get("HX-Trigger", "{}"))
    return payload.get("bookshelf:messages", {}).get("messages", [])


def text(response) -> str:
    return html.unescape(response.content.decode())
