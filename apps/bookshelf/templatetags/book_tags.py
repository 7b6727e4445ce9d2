from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from apps.bookshelf.models import Book
from apps.bookshelf.policy import book_controls
from apps.bookshelf.services import BOOK_ACTIONS, BookAction
from apps.core.links import url_with_id

register = template.Library()


@dataclass(frozen=True)
class ActionButton:
    """A state change offered for one book, with the URL it posts to."""

    action: BookAction
    url: str

    @property
    def name(self) -> str:
        return self.action.name

    @property
    def label(self) -> str:
        return str(self.action.label)

    @property
    def needs_comment(self) -> bool:
        return self.action.needs_comment


@dataclass(frozen=True)
class Controls:
    edit: bool
    delete: bool
    actions: list[ActionButton]
    approve_refusal: str = ""
    edit_refusal: str = ""
    edit_url: str = ""  # when ``edit``
    delete_url: str = ""  # when ``delete``

    @property
    def any(self) -> bool:
        return self.edit or self.delete or bool(self.actions)


@register.simple_tag
def controls_for(book: Book, user: Any) -> Controls:
    """``{% controls_for book user as controls %}``: the buttons this user gets for this
    book as it is now (Edit, Delete…, and the state changes), as ``policy`` decides."""
    allowed = book_controls(user, book)
    # Built without a reverse() each (apps.core.links): the list asks this for every row.
    return Controls(
        allowed.edit,
        allowed.delete,
        [
            ActionButton(BOOK_ACTIONS[name], url_with_id(BOOK_ACTIONS[name].url_name, book.pk))
            for name in allowed.actions
        ],
        str(allowed.approve_refusal),
        str(allowed.edit_refusal),
        url_with_id("bookshelf:book-update", book.pk) if allowed.edit else "",
        url_with_id("bookshelf:book-delete", book.pk) if allowed.delete else "",
    )


@register.simple_tag
def featured_books(limit: int = 6) -> list[Book]:
    """``{% featured_books as books %}``: what the home page shows (public books only)."""
    return list(Book.objects.public().filter(is_featured=True).order_by("-updated_at")[:limit])


@register.simple_tag
def books_in_review() -> int:
    """``{% books_in_review as count %}``: the navbar's count beside "Review"."""
    return Book.objects.filter(is_in_review=True).count()
