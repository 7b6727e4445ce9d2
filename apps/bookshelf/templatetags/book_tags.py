from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from apps.bookshelf.models import Book
from apps.bookshelf.policy import book_controls
from apps.bookshelf.services import BOOK_ACTIONS, BookAction

register = template.Library()


@dataclass(frozen=True)
class Controls:
    edit: bool
    delete: bool
    actions: list[BookAction]
    approve_refusal: str = ""
    edit_refusal: str = ""

    @property
    def any(self) -> bool:
        return self.edit or self.delete or bool(self.actions)


@register.simple_tag
def controls_for(book: Book, user: Any) -> Controls:
    """``{% controls_for book user as controls %}``: the buttons this user gets for this
    book as it is now (Edit, Delete…, and the state changes), as ``policy`` decides."""
    allowed = book_controls(user, book)
    return Controls(
        allowed.edit,
        allowed.delete,
        [BOOK_ACTIONS[name] for name in allowed.actions],
        str(allowed.approve_refusal),
        str(allowed.edit_refusal),
    )


@register.simple_tag
def featured_books(limit: int = 6) -> list[Book]:
    """``{% featured_books as books %}``: what the home page shows (public books only)."""
    return list(Book.objects.public().filter(is_featured=True).order_by("-updated_at")[:limit])


@register.simple_tag
def books_in_review() -> int:
    """``{% books_in_review as count %}``: the navbar's count beside "Review"."""
    return Book.objects.filter(is_in_review=True).count()
