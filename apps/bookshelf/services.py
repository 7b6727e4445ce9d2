"""Every write to books: create, edit, delete and the state changes (the app's views and
the Django admin both call these).

Each checks its rule in ``policy`` first, runs in one transaction, and changes a book only
as it was at the version the person saw: a conditional UPDATE (or a locked row for a
delete), so two people acting at once cannot overwrite each other unnoticed, never a
read-modify-write. Every write bumps ``version``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.policy import PolicyDenied, enforce

from .models import Book, BookEvent
from .notifications import notify_after_commit
from .policy import (
    ACTION_RULES,
    ActionRule,
    why_cannot_act,
    why_cannot_add,
    why_cannot_delete,
    why_cannot_edit,
    why_not_now,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


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


# Stand for "the time of the write", "the person acting" and "the comment given" in
# BookAction.changes.
NOW = object()
ACTOR = object()
COMMENT = object()


@dataclass(frozen=True)
class BookAction:
    """One state change: its button, what it sets, what it says when done, and the history
    entry it writes. Who may apply it and to which state is its rule in
    ``policy.ACTION_RULES``."""

    name: str
    label: StrOrPromise
    changes: dict[str, Any]
    success: StrOrPromise
    event: str
    needs_comment: bool = False  # asked for on a form of its own (request changes)

    @property
    def url_name(self) -> str:
        return f"bookshelf:book-{self.slug}"

    @property
    def slug(self) -> str:
        """Its URL's last part: /books/<id>/request-changes/."""
        return self.name.replace("_", "-")

    @property
    def rule(self) -> ActionRule:
        return ACTION_RULES[self.name]


# Leaving review, whichever way: no longer waiting, no submission time.
_OUT_OF_REVIEW: dict[str, Any] = {
    "is_in_review": False,
    "submitted_at": None,
    "edited_in_review_by": [],
}

BOOK_ACTIONS: dict[str, BookAction] = {
    action.name: action
    for action in [
        BookAction(
            "submit",
            _("Submit for review"),
            {
                "is_in_review": True,
                "submitted_at": NOW,
                "submitted_by": ACTOR,
                "review_comment": "",
                "edited_in_review_by": [],
            },
            _("Submitted for review; a publisher will look at it"),
            BookEvent.Action.SUBMITTED,
        ),
        BookAction(
            "approve",
            _("Approve and publish"),
            {**_OUT_OF_REVIEW, "review_comment": "", "is_published": True, "published_at": NOW},
            _("Approved: the book is published"),
            BookEvent.Action.APPROVED,
        ),
        BookAction(
            "request_changes",
            _("Request changes…"),
            {**_OUT_OF_REVIEW, "review_comment": COMMENT},
            _("Changes requested; the book is a draft again"),
            BookEvent.Action.CHANGES_REQUESTED,
            needs_comment=True,
        ),
        BookAction(
            "withdraw",
            _("Withdraw from review"),
            _OUT_OF_REVIEW,
            _("Withdrawn from review; the book is a draft again"),
            BookEvent.Action.WITHDRAWN,
        ),
        BookAction(
            "unpublish",
            _("Unpublish"),
            # A draft cannot stay featured (database constraint).
            {"is_published": False, "published_at": None, "is_featured": False},
            _("Book unpublished; it is a draft again"),
            BookEvent.Action.UNPUBLISHED,
        ),
        BookAction(
            "feature",
            _("Feature"),
            {"is_featured": True},
            _("Book featured"),
            BookEvent.Action.FEATURED,
        ),
        BookAction(
            "unfeature",
            _("Unfeature"),
            {"is_featured": False},
            _("Book no longer featured"),
            BookEvent.Action.UNFEATURED,
        ),
        BookAction(
            "archive",
            _("Archive"),
            # Out of the catalogue; coming back means review again (unarchive gives a draft).
            {
                "is_archived": True,
                "is_featured": False,
                "is_published": False,
                "published_at": None,
            },
            _("Book archived"),
            BookEvent.Action.ARCHIVED,
        ),
        BookAction(
            "unarchive",
            _("Unarchive"),
            {"is_archived": False, "is_published": False, "published_at": None},
            _("Book restored from the archive as a draft"),
            BookEvent.Action.UNARCHIVED,
        ),
        BookAction(
            "premium",
            _("Toggle premium"),
            # Flipped in SQL, so two clicks at once give two flips, never a lost one.
            {"is_premium": Case(When(is_premium=True, then=Value(False)), default=Value(True))},
            _("Premium setting changed"),
            BookEvent.Action.PREMIUM,
        ),
    ]
}
if BOOK_ACTIONS.keys() != ACTION_RULES.keys():  # a button without a rule, or a rule unused
    raise ImproperlyConfigured("services.BOOK_ACTIONS and policy.ACTION_RULES differ.")

# The fields an edit's history entry compares (the form's fields).
EDITABLE_FIELDS = ("title", "author", "isbn", "publication_year", "description")


def record_event(
    book: Book,
    action: str,
    user: Any,
    *,
    comment: str = "",
    changes: dict[str, list[Any]] | None = None,
) -> BookEvent:
    """Append one entry to the book's history; call it inside the change's transaction."""
    return BookEvent.objects.create(
        book_id=book.pk,
        book_title=book.title,
        action=action,
        actor_id=getattr(user, "pk", None),
        actor_username=getattr(user, "username", "") or "",
        comment=comment,
        changes=changes or {},
    )


def book_create(*, fields: dict[str, Any], user: Any) -> Book:
    """Add a book. Raises ``PolicyDenied`` without the permission and ``IntegrityError``
    when another book has the ISBN (two people adding the same book at once: one wins)."""
    enforce(why_cannot_add(user))
    with transaction.atomic():
        book = Book.objects.create(**fields, created_by=user, updated_by=user)
        record_event(book, BookEvent.Action.CREATED, user)
        return book


def book_update(*, book: Book, fields: dict[str, Any], expected_version: int, user: Any) -> Book:
    """Save an edit unless the book changed since version ``expected_version`` was loaded,
    and write which fields changed (before → after) to its history.

    Raises ``BookConflictError`` carrying the current row instead of overwriting it, and
    ``Book.DoesNotExist`` when it was deleted meanwhile.
    """
    enforce(why_cannot_edit(user, book))
    with transaction.atomic():
        # The values at the expected version are the "before": every write bumps the
        # version, so if the UPDATE below matches that version, nothing came in between.
        before = (
            Book.objects.filter(pk=book.pk)
            .values(*EDITABLE_FIELDS, "version", "is_in_review", "edited_in_review_by")
            .get()
        )
        updated = 0
        if before["version"] == expected_version:
            now = timezone.now()
            # Changing a book in review makes you one of its authors (no approving it).
            # Read-modify-write made safe by the version condition of the same UPDATE.
            editors = list(before["edited_in_review_by"] or [])
            if before["is_in_review"] and user.pk not in editors:
                editors.append(user.pk)
            updated = Book.objects.filter(pk=book.pk, version=expected_version).update(
                **fields,
                edited_in_review_by=editors,
                version=F("version") + 1,
                updated_at=now,
                updated_by=user,
            )
        current = Book.objects.select_related("updated_by").get(pk=book.pk)
        if not updated:
            raise BookConflictError(current)
        changes = {
            name: [before[name], fields[name]]
            for name in EDITABLE_FIELDS
            if name in fields and before[name] != fields[name]
        }
        if changes:
            record_event(current, BookEvent.Action.EDITED, user, changes=changes)
    return current


def book_delete(*, book: Book, expected_version: int, user: Any) -> None:
    """Delete the book as it was at ``expected_version``: if someone changed it since, raise
    ``BookConflictError`` with the current row (the person deciding saw something else), and
    ``Book.DoesNotExist`` when it is already gone. The history keeps a last entry."""
    enforce(why_cannot_delete(user, book))
    with transaction.atomic():
        # Locked, so nobody can change it between this check and the DELETE.
        current = (
            Book.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .get(pk=book.pk)
        )
        if current.version != expected_version:
            raise BookConflictError(current)
        # Under the book's lock, which every circulation write takes too: no loan can start
        # between this check and the DELETE. (Holds and past loans go with the book.)
        if current.loans.filter(returned_at=None).exists():
            raise PolicyDenied(
                _("Copies of “%(title)s” are on loan: it can be deleted once they are back.")
                % {"title": current.title}
            )
        record_event(current, BookEvent.Action.DELETED, user)
        current.delete()


def book_apply_action(
    *,
    book: Book,
    action: str,
    user: Any,
    comment: str = "",
    expected_version: int | None = None,
) -> Book:
    """Apply a state change with one conditional UPDATE, on the state the action applies to
    and on the version the rules were checked against, write it to the history in the same
    transaction, and return the fresh book. Who hears of it by e-mail is told after commit.

    ``book`` is the row as just read: its version is the one the policy decided about (the
    four-eyes rule reads its submitter), so a change in between refuses instead of applying
    a decision made about something else. ``expected_version``, when given, is the version
    the person saw on their page: a book changed since is refused the same way.

    Raises ``PolicyDenied`` when the user may not, ``ValidationError`` without the comment
    a request for changes needs, ``BookActionError`` when the book is not (or no longer) in
    a state the action applies to, and ``Book.DoesNotExist`` when it was deleted meanwhile.
    """
    spec = BOOK_ACTIONS[action]
    enforce(why_cannot_act(user, action, book))
    if expected_version is not None and expected_version != book.version:
        # The page the person decided on showed another version (an approval is of what
        # the publisher read, not of whatever the book became meanwhile).
        raise BookActionError(str(why_not_now(action, book) or _CHANGED_SINCE_SEEN), book)
    comment = comment.strip()
    if spec.needs_comment and not comment:
        raise ValidationError(_("Say what should change: the comment is required."), "required")
    now = timezone.now()
    placeholders = ((NOW, now), (ACTOR, user), (COMMENT, comment))
    changes = {
        field: next((given for marker, given in placeholders if value is marker), value)
        for field, value in spec.changes.items()
    }
    with transaction.atomic():
        updated = Book.objects.filter(pk=book.pk, version=book.version, **spec.rule.expects).update(
            **changes, version=F("version") + 1, updated_at=now, updated_by=user
        )
        fresh = Book.objects.select_related("updated_by", "submitted_by").get(pk=book.pk)
        if not updated:
            raise BookActionError(str(why_not_now(action, fresh) or _CHANGED_MEANWHILE), fresh)
        event_changes = {}
        if action == "premium":
            event_changes = {"is_premium": [book.is_premium, fresh.is_premium]}
        record_event(fresh, spec.event, user, comment=comment, changes=event_changes)
        notify_after_commit(
            action, fresh, actor=user, submitter_id=book.submitted_by_id, comment=comment
        )
    return fresh


_CHANGED_SINCE_SEEN = _(
    "This book changed since you opened it. Look at it again before you decide."
)
_CHANGED_MEANWHILE = _(
    "The book changed while you were acting on it. Look at it again and repeat if still right."
)
