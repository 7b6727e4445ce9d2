from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.counting import ChangeTrackingQuerySet
from apps.core.links import url_with_id

from .isbn import compact, is_valid_isbn10, normalize_isbn, validate_isbn13

# Gutenberg's Bible, the first book printed with movable type in Europe, is from about 1455.
EARLIEST_PUBLICATION_YEAR = 1450


def validate_not_after_next_year(year: int) -> None:
    next_year = timezone.localdate().year + 1
    if year > next_year:
        raise ValidationError(
            _("The publication year cannot be after %(next_year)s."),
            code="too_late",
            params={"next_year": next_year},
        )


class BookStatus(models.TextChoices):
    """The list's filters. A book can be featured and published at once."""

    PUBLISHED = "published", _("Published")
    DRAFT = "draft", _("Drafts")
    IN_REVIEW = "in_review", _("In review")
    ARCHIVED = "archived", _("Archived")
    FEATURED = "featured", _("Featured")


class BookQuerySet(ChangeTrackingQuerySet):
    def public(self) -> BookQuerySet:
        """What anyone may read: published and not archived."""
        return self.filter(is_published=True, is_archived=False)

    def visible_to(self, user: Any) -> BookQuerySet:
        """What this user may open: drafts and archived books only for those who may see
        them (the rule is ``policy.sees_unpublished``)."""
        from .policy import sees_unpublished  # policy reads this module's models

        if sees_unpublished(user):
            return self
        return self.public()

    def with_status(self, status: str) -> BookQuerySet:
        match status:
            case BookStatus.PUBLISHED:
                return self.filter(is_published=True, is_archived=False)
            case BookStatus.DRAFT:
                return self.filter(is_published=False, is_archived=False, is_in_review=False)
            case BookStatus.IN_REVIEW:
                return self.filter(is_in_review=True)
            case BookStatus.ARCHIVED:
                return self.filter(is_archived=True)
            case BookStatus.FEATURED:
                return self.filter(is_featured=True)
        return self

    def in_review(self) -> BookQuerySet:
        """The review queue: oldest submission first."""
        return self.filter(is_in_review=True).order_by("submitted_at", "id")

    def changes_requested_of(self, user: Any) -> BookQuerySet:
        """Drafts this user submitted that a publisher sent back with a comment."""
        return self.filter(
            submitted_by=user, is_in_review=False, is_published=False, is_archived=False
        ).exclude(review_comment="")

    def search(self, query: str) -> BookQuerySet:
        """Title or author containing the words, or an ISBN containing the digits."""
        query = query.strip()
        if not query:
            return self
        condition = Q()
        for word in query.split():
            condition &= Q(title__icontains=word) | Q(author__icontains=word)
        digits = compact(query)
        if len(digits) >= 4 and digits.rstrip("X").isdigit():
            if len(digits) == 10 and is_valid_isbn10(digits):
                digits = normalize_isbn(digits)
            condition |= Q(isbn__contains=digits)
        return self.filter(condition)


class Book(models.Model):
    title = models.CharField(_("title"), max_length=200)
    author = models.CharField(_("author"), max_length=100)
    isbn = models.CharField(
        _("ISBN"),
        max_length=13,
        unique=True,
        null=True,  # NULL, not "", for books without one: unique only when given
        blank=True,
        validators=[validate_isbn13],
        help_text=_("ISBN-10 or ISBN-13; stored as ISBN-13."),
    )
    publication_year = models.PositiveSmallIntegerField(
        _("publication year"),
        validators=[
            MinValueValidator(EARLIEST_PUBLICATION_YEAR),
            validate_not_after_next_year,
        ],
    )
    description = models.TextField(_("description"), blank=True)
    is_published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    is_archived = models.BooleanField(_("archived"), default=False)
    is_featured = models.BooleanField(_("featured"), default=False)
    is_premium = models.BooleanField(_("premium"), default=False)
    # The editorial workflow (draft → in review → published): a book in review waits for a
    # publisher other than its submitter (policy.why_cannot_act, "approve").
    is_in_review = models.BooleanField(_("in review"), default=False)
    submitted_at = models.DateTimeField(_("in review since"), null=True, blank=True)
    # Who submitted it last; kept after the review ends so the submitter hears the outcome
    # and sees "changes requested". NULL only if that account was deleted.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="books_submitted",
    )
    # The publisher's request for changes, shown to the submitter until they submit again
    # (every comment stays in the book's history).
    review_comment = models.TextField(_("changes requested"), blank=True)
    # The ids of those who changed the book while it was in review (other than by
    # submitting it): they are its authors too, so none of them approves it. Emptied when
    # the review ends.
    edited_in_review_by = models.JSONField(_("changed in review by"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="books_created",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="books_updated",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)
    # Optimistic locking: every write bumps it; a save based on an older version is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = BookQuerySet.as_manager()

    class Meta:
        verbose_name = _("book")
        verbose_name_plural = _("books")
        ordering = ["title", "id"]
        # Django updates books through the base manager when a related row goes (a deleted
        # user's SET_NULL): "objects" notes those writes too (apps.core.counting).
        base_manager_name = "objects"
        permissions = [
            ("can_publish_book", "Can publish and unpublish books"),
            ("can_archive_book", "Can archive and restore books"),
            ("can_feature_book", "Can feature books on the home page"),
            ("can_set_premium", "Can mark books as premium content"),
            # Circulation (apps/circulation), named as the guide names them.
            ("can_borrow_book", "Can borrow books"),
            ("can_return_book", "Can return books"),
            ("can_manage_inventory", "Can manage book inventory"),
        ]
        indexes = [
            # One per sort of the list (views.SORTS), with every column it orders by: a page
            # deep in the list is found by walking the index alone (an index-only scan, no
            # table rows read for the ones skipped) and the page's rows then read by id.
            # The title's also holds the author: a search (title or author, sorted by title)
            # is filtered in the index too (the page of a search: 4.3 ms → 1.2 ms).
            models.Index(fields=["title", "id", "author"], name="bookshelf_book_title_sort"),
            models.Index(fields=["author", "title", "id"], name="bookshelf_book_author_sort"),
            models.Index(
                fields=["publication_year", "title", "id"], name="bookshelf_book_year_sort"
            ),
            models.Index(fields=["updated_at", "id"], name="bookshelf_book_updated_sort"),
            models.Index(fields=["is_published", "is_archived"], name="bookshelf_book_status_idx"),
            models.Index(
                fields=["submitted_at"],
                name="bookshelf_book_review_idx",
                condition=Q(is_in_review=True),
            ),
            models.Index(
                fields=["is_featured"],
                name="bookshelf_book_featured_idx",
                condition=Q(is_featured=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(publication_year__gte=EARLIEST_PUBLICATION_YEAR),
                name="bookshelf_book_year_plausible",
            ),
            models.CheckConstraint(
                condition=Q(is_published=True, published_at__isnull=False)
                | Q(is_published=False, published_at__isnull=True),
                name="bookshelf_book_published_at_iff_published",
            ),
            # In review ⇔ a submission time (as published ⇔ published_at); and only a draft
            # can be in review.
            models.CheckConstraint(
                condition=Q(is_in_review=True, submitted_at__isnull=False)
                | Q(is_in_review=False, submitted_at__isnull=True),
                name="bookshelf_book_submitted_at_iff_in_review",
            ),
            models.CheckConstraint(
                condition=Q(is_in_review=False) | Q(is_published=False, is_archived=False),
                name="bookshelf_book_in_review_is_draft",
            ),
            # An archived book is out of the catalogue: coming back (unarchive) gives a
            # draft, which goes through review again.
            models.CheckConstraint(
                condition=Q(is_archived=False) | Q(is_published=False, published_at__isnull=True),
                name="bookshelf_book_archived_is_unpublished",
            ),
            # The home page only features books a visitor can open.
            models.CheckConstraint(
                condition=Q(is_featured=False) | Q(is_published=True, is_archived=False),
                name="bookshelf_book_featured_is_public",
            ),
            models.CheckConstraint(
                condition=~Q(isbn=""), name="bookshelf_book_isbn_null_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} by {self.author}"

    def get_absolute_url(self) -> str:
        return url_with_id("bookshelf:book-detail", self.pk)  # a list asks it for each row

    @property
    def is_public(self) -> bool:
        return self.is_published and not self.is_archived

    @property
    def dom_id(self) -> str:
        return f"book-{self.pk}"


class BookEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("A book's history is append-only.")

    def delete(self) -> Any:
        raise TypeError("A book's history is append-only.")

    def of_book(self, book_id: int) -> BookEventQuerySet:
        return self.filter(book_id=book_id).order_by("-created_at", "-id")


class BookEvent(models.Model):
    """One thing that happened to a book: a workflow step, an edit (with each changed field
    before → after), a state change. Written by ``services`` in the same transaction as the
    change it records, so one never exists without the other. Append-only.

    The book and the actor are kept as ids plus a snapshot of their names rather than foreign
    keys, as in the roles audit: the history outlives (and never blocks) deleting either.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("added")
        EDITED = "edited", _("edited")
        SUBMITTED = "submitted", _("submitted for review")
        APPROVED = "approved", _("approved and published")
        CHANGES_REQUESTED = "changes_requested", _("requested changes")
        WITHDRAWN = "withdrawn", _("withdrew from review")
        UNPUBLISHED = "unpublished", _("unpublished")
        FEATURED = "featured", _("featured")
        UNFEATURED = "unfeatured", _("stopped featuring")
        ARCHIVED = "archived", _("archived")
        UNARCHIVED = "unarchived", _("restored from the archive")
        PREMIUM = "premium", _("changed premium")
        DELETED = "deleted", _("deleted")
        # Circulation (apps/circulation/services.py); ``changes`` holds the copy's barcode.
        BORROWED = "borrowed", _("borrowed a copy")
        RETURNED = "returned", _("returned a copy")
        RENEWED = "renewed", _("renewed a loan")
        HOLD_PLACED = "hold_placed", _("placed a hold")
        HOLD_CANCELLED = "hold_cancelled", _("cancelled a hold")
        HOLD_READY = "hold_ready", _("put a copy on the hold shelf")
        HOLD_EXPIRED = "hold_expired", _("let a hold expire")
        COPIES_ADDED = "copies_added", _("added copies")
        COPY_WITHDRAWN = "copy_withdrawn", _("withdrew a copy")

    created_at = models.DateTimeField(_("when"), default=timezone.now)
    book_id = models.BigIntegerField(_("book id"))
    book_title = models.CharField(_("book"), max_length=200)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    actor_id = models.BigIntegerField(_("actor id"), null=True)
    actor_username = models.CharField(_("who"), max_length=150, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # {"field": [before, after]} for each field the change touched, as JSON values.
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    objects = BookEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("book history entry")
        verbose_name_plural = _("book history")
        ordering = ["-created_at", "-id"]
        default_permissions = ()
        indexes = [
            models.Index(fields=["book_id", "-created_at"], name="bookshelf_event_book_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_username or '?'} {self.get_action_display()} {self.book_title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("A book's history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("A book's history is append-only.")

    @property
    def is_circulation(self) -> bool:
        """Written by apps/circulation: read as one sentence, with the copy's barcode."""
        return self.action in CIRCULATION_ACTIONS

    @property
    def names_member(self) -> bool:
        """A lending event: its actor or comment names a borrower, which is their business
        and the desk's (``apps/circulation/policy.sees_borrowers``), not every editor's."""
        return self.action in CIRCULATION_ACTIONS - COPY_ACTIONS

    @property
    def copy_barcode(self) -> str:
        """The copy a circulation event is about ("" for others)."""
        if not self.is_circulation:
            return ""
        return str((self.changes.get("copy") or [None, ""])[1] or "")

    @property
    def changed_fields(self) -> list[tuple[str, Any, Any]]:
        """(field label, before, after) for display, in the form's order."""
        labels = {
            field.name: field.verbose_name
            for field in Book._meta.get_fields()
            if hasattr(field, "verbose_name")
        }
        return [
            (str(labels.get(name, name)).capitalize(), _shown(before), _shown(after))
            for name, (before, after) in self.changes.items()
        ]


# The events apps/circulation writes (the copy's barcode in ``changes["copy"]``).
CIRCULATION_ACTIONS = frozenset(
    {
        BookEvent.Action.BORROWED,
        BookEvent.Action.RETURNED,
        BookEvent.Action.RENEWED,
        BookEvent.Action.HOLD_PLACED,
        BookEvent.Action.HOLD_CANCELLED,
        BookEvent.Action.HOLD_READY,
        BookEvent.Action.HOLD_EXPIRED,
        BookEvent.Action.COPIES_ADDED,
        BookEvent.Action.COPY_WITHDRAWN,
    }
)


# Of those, the desk's own work on the copies (no member in them).
COPY_ACTIONS = frozenset({BookEvent.Action.COPIES_ADDED, BookEvent.Action.COPY_WITHDRAWN})


def _shown(value: Any) -> Any:
    """A value of a history entry as a person reads it."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return "—" if value in (None, "") else value
