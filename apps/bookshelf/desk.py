"""What the dashboard tells people about the editorial workflow: books awaiting their review
(publishers), their own books in review, and those sent back to them with changes requested
(editors). Each list is one query, limited; the counts are what the headings say."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import Book
from .policy import sees_unpublished, why_cannot_review

SHOWN = 5  # books per list; the rest are a link away


@dataclass(frozen=True)
class BookList:
    books: list[Book] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.books)


@dataclass(frozen=True)
class EditorialDesk:
    awaiting_review: BookList | None  # None: not a publisher
    mine_in_review: BookList
    changes_requested: BookList

    @property
    def any(self) -> bool:
        return bool(
            self.awaiting_review is not None
            or self.mine_in_review.total
            or self.changes_requested.total
        )


def _listed(queryset: Any) -> BookList:
    books = list(queryset[:SHOWN])
    total = len(books) if len(books) < SHOWN else queryset.count()
    return BookList(books, total)


def editorial_desk(user: Any) -> EditorialDesk | None:
    """The workflow panel for this user, or None for those who don't work on books."""
    if not sees_unpublished(user):
        return None
    awaiting = None
    if not why_cannot_review(user):
        queue = Book.objects.in_review().exclude(submitted_by=user).select_related("submitted_by")
        awaiting = _listed(queue)
    return EditorialDesk(
        awaiting_review=awaiting,
        mine_in_review=_listed(Book.objects.in_review().filter(submitted_by=user)),
        changes_requested=_listed(
            Book.objects.changes_requested_of(user).order_by("-updated_at", "-id")
        ),
    )
