"""Writes to books that are more than ``form.save()``: state changes and optimistic locking.

Every write is one conditional UPDATE, so two people acting at once cannot overwrite each
other unnoticed (no read-modify-write), and every write bumps ``version``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Book


class BookActionError(Exception):
    """A state change that does not apply to the book as it is now (``current``); the
    message says why."""

    def __init__(self, message: str, current: Book) -> None:
        super().__init__(message)
        self.current = current


class BookConflictError(Exception):
    """The book changed since the editor loaded it; ``current`` is the fresh row."""

    def __init__(self, current: Book) -> None:
        super().__init__("The book was changed by someone else.")
        self.current = current


# Stands for "the time of the write" in BookAction.changes.
NOW = object()


@dataclass(frozen=True)
class BookAction:
    """One state change, declared once: who may do it, the state it needs, what it sets.

    ``expects`` is checked in Python to decide which buttons to show, and in SQL (the same
    dict, as the UPDATE's condition) to apply it without a read-modify-write race.
    """

    name: str
    label: str
    permissions: tuple[str, ...]
    expects: dict[str, bool]
    changes: dict[str, Any]
    refusal: str
    success: str
    denied: str

    @property
    def url_name(self) -> str:
        return f"bookshelf:book-{self.name}"

    def applies_to(self, book: Book) -> bool:
        return all(getattr(book, field) == value for field, value in self.expects.items())

    def allowed_for(self, user: Any) -> bool:
        return user.has_perms(self.permissions)


def _needs(permission: str) -> tuple[str, ...]:
    # Every state change is a change of the book too (as the guide's publish example).
    return ("bookshelf.change_book", f"bookshelf.{permission}")


BOOK_ACTIONS: dict[str, BookAction] = {
    action.name: action
    for action in [
        BookAction(
            name="publish",
            label=_("Publish"),
            permissions=_needs("can_publish_book"),
            expects={"is_published": False, "is_archived": False},
            changes={"is_published": True, "published_at": NOW},
            refusal=_("Only drafts that are not archived can be published."),
            success=_("Book published"),
            denied=_("You don't have permission to publish books."),
        ),
        BookAction(
            name="unpublish",
            label=_("Unpublish"),
            permissions=_needs("can_publish_book"),
            expects={"is_published": True},
            # A draft cannot stay featured (database constraint).
            changes={"is_published": False, "published_at": None, "is_featured": False},
            refusal=_("This book is not published."),
            success=_("Book unpublished; it is a draft again"),
            denied=_("You don't have permission to unpublish books."),
        ),
        BookAction(
            name="feature",
            label=_("Feature"),
            permissions=_needs("can_feature_book"),
            expects={"is_featured": False, "is_published": True, "is_archived": False},
            changes={"is_featured": True},
            refusal=_("Only published books that are not archived can be featured."),
            success=_("Book featured"),
            denied=_("You don't have permission to feature books."),
        ),
        BookAction(
            name="unfeature",
            label=_("Unfeature"),
            permissions=_needs("can_feature_book"),
            expects={"is_featured": True},
            changes={"is_featured": False},
            refusal=_("This book is not featured."),
            success=_("Book no longer featured"),
            denied=_("You don't have permission to unfeature books."),
        ),
        BookAction(
            name="archive",
            label=_("Archive"),
            permissions=_needs("can_archive_book"),
            expects={"is_archived": False},
            changes={"is_archived": True, "is_featured": False},
            refusal=_("This book is already archived."),
            success=_("Book archived"),
            denied=_("You don't have permission to archive books."),
        ),
        BookAction(
            name="unarchive",
            label=_("Unarchive"),
            permissions=_needs("can_archive_book"),
            expects={"is_archived": True},
            changes={"is_archived": False},
            refusal=_("This book is not archived."),
            success=_("Book restored from the archive"),
            denied=_("You don't have permission to unarchive books."),
        ),
        BookAction(
            name="premium",
            label=_("Toggle premium"),
            permissions=_needs("can_set_premium"),
            expects={},
            # Flipped in SQL, so two clicks at once give two flips, never a lost one.
            changes={
                "is_premium": Case(When(is_premium=True, then=Value(False)), default=Value(True))
            },
            refusal="",
            success=_("Premium setting changed"),
            denied=_("You don't have permission to change premium books."),
        ),
    ]
}


def book_actions_for(*, book: Book, user: Any) -> list[BookAction]:
    """The state changes this user may apply to this book as it is now (no queries once
    the user's permissions are cached)."""
    return [a for a in BOOK_ACTIONS.values() if a.allowed_for(user) and a.applies_to(book)]


def book_apply_action(*, book: Book, action: str, user: Any) -> Book:
    """Apply a state change with one conditional UPDATE and return the fresh book.

    Raises ``BookActionError`` when the book is not in a state the action applies to
    (for example a second click on Publish after someone else archived it), and
    ``Book.DoesNotExist`` when it was deleted meanwhile.
    """
    spec = BOOK_ACTIONS[action]
    now = timezone.now()
    changes = {field: now if value is NOW else value for field, value in spec.changes.items()}
    updated = Book.objects.filter(pk=book.pk, **spec.expects).update(
        **changes, version=F("version") + 1, updated_at=now, updated_by=user
    )
    fresh = Book.objects.select_related("updated_by").get(pk=book.pk)
    if not updated:
        raise BookActionError(str(spec.refusal), current=fresh)
    return fresh


def book_update(*, book: Book, fields: dict[str, Any], expected_version: int, user: Any) -> Book:
    """Save an edit unless the book changed since version ``expected_version`` was loaded.

    Raises ``BookConflictError`` carrying the current row instead of overwriting it, and
    ``Book.DoesNotExist`` when it was deleted meanwhile.
    """
    now = timezone.now()
    updated = Book.objects.filter(pk=book.pk, version=expected_version).update(
        **fields, version=F("version") + 1, updated_at=now, updated_by=user
    )
    current = Book.objects.select_related("updated_by").get(pk=book.pk)
    if not updated:
        raise BookConflictError(current)
    return current
