from __future__ import annotations

from typing import Any

from django import template

from apps.bookshelf.models import Book
from apps.bookshelf.services import BookAction, book_actions_for

register = template.Library()


@register.simple_tag
def book_actions(book: Book, user: Any) -> list[BookAction]:
    """``{% book_actions book user as actions %}``: what this user may do to it now."""
    return book_actions_for(book=book, user=user)


@register.simple_tag
def featured_books(limit: int = 6) -> list[Book]:
    """``{% featured_books as books %}``: what the home page shows (public books only)."""
    return list(Book.objects.public().filter(is_featured=True).order_by("-updated_at")[:limit])
