"""Copies, loans and holds.

Availability is derived from the copies (their status), never a counter that could drift.
The rules that matter are database constraints: a copy has at most one open loan, a member at
most one open loan per book, at most one active hold per book, and a copy waits on the hold
shelf for at most one member. Every change goes through ``services``, under a lock on the
book's row, in one transaction.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.bookshelf.models import Book


class CopyStatus(models.TextChoices):
    AVAILABLE = "available", _("available")
    ON_LOAN = "on_loan", _("on loan")
    ON_HOLD_SHELF = "on_hold_shelf", _("on the hold shelf")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Copy(models.Model):
    """One physical copy of a book, known by its barcode."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="copies")
    barcode = models.CharField(_("barcode"), max_length=32, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=CopyStatus.choices, default=CopyStatus.AVAILABLE
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("copy")
        verbose_name_plural = _("copies")
        # By the column, not the book: ordering by the book follows Book.Meta (its title) and
        # joins the books into every query of copies, counts included.
        ordering = ["book_id", "barcode"]
        default_permissions = ()
        indexes = [models.Index(fields=["book", "status"], name="circulation_copy_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CopyStatus.values), name="circulation_copy_status_known"
            ),
            models.CheckConstraint(condition=~Q(barcode=""), name="circulation_copy_barcode"),
            # In capitals: the desk finds a scanned or typed barcode by exact match (the
            # unique index), whatever case it was typed in.
            models.CheckConstraint(
                condition=Q(barcode=Upper("barcode")), name="circulation_copy_barcode_upper"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.barcode} ({self.book.title})"


class LoanQuerySet(models.QuerySet):
    def open(self) -> LoanQuerySet:
        return self.filter(returned_at__isnull=True)

    def overdue(self, now: datetime.datetime | None = None) -> LoanQuerySet:
        return self.open().filter(due_at__lt=now or timezone.now())


class Loan(models.Model):
    # RESTRICT, not PROTECT: a copy with loans is never deleted on its own (it is withdrawn),
    # but deleting its book deletes both (PROTECT would refuse even that).
    copy = models.ForeignKey(Copy, on_delete=models.RESTRICT, related_name="loans")
    # The copy's book, kept here so the database can refuse two open loans of one book.
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="loans")
    borrower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loans"
    )
    borrowed_at = models.DateTimeField(_("borrowed"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    renewals = models.PositiveSmallIntegerField(_("renewals"), default=0)
    # The day of the last overdue reminder: one a day at most (send_overdue_notices).
    reminded_on = models.DateField(_("last reminded"), null=True, blank=True)

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-borrowed_at", "-id"]
        default_permissions = ()
        indexes = [
            models.Index(
                fields=["due_at"],
                name="circulation_loan_open_due_idx",
                condition=Q(returned_at=None),
            ),
            models.Index(fields=["borrower", "-borrowed_at"], name="circulation_loan_member_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["copy"],
                condition=Q(returned_at__isnull=True),
                name="circulation_one_open_loan_per_copy",
            ),
            models.UniqueConstraint(
                fields=["borrower", "book"],
                condition=Q(returned_at__isnull=True),
                name="circulation_one_open_loan_per_member_and_book",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gt=models.F("borrowed_at")), name="circulation_loan_due_after"
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True) | Q(returned_at__gte=models.F("borrowed_at")),
                name="circulation_loan_returned_after",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.copy.barcode} → {self.borrower}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()

    @property
    def days_late(self) -> int:
        """Days past due, at return or now, in calendar days as the due date is shown (due
        on the 26th, back on the 28th: 2 days late), and at least 1 once past due."""
        back = self.returned_at or timezone.now()
        if back <= self.due_at:
            return 0
        days = (timezone.localdate(back) - timezone.localdate(self.due_at)).days
        return max(days, 1)


class HoldStatus(models.TextChoices):
    WAITING = "waiting", _("waiting")
    READY = "ready", _("ready on the hold shelf")
    COLLECTED = "collected", _("collected")
    CANCELLED = "cancelled", _("cancelled")
    EXPIRED = "expired", _("not collected in time")


ACTIVE_HOLD = Q(status__in=[HoldStatus.WAITING, HoldStatus.READY])


class HoldQuerySet(models.QuerySet):
    def active(self) -> HoldQuerySet:
        return self.filter(ACTIVE_HOLD)

    def queue(self, book: Book) -> HoldQuerySet:
        """The book's waiting holds, first come first served."""
        return self.filter(book=book, status=HoldStatus.WAITING).order_by("placed_at", "id")


class Hold(models.Model):
    """A member's place in a book's queue; when a copy comes back it waits for them on the
    hold shelf (``copy``, ``ready_until``)."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="holds")
    # PROTECT, like a loan's borrower: deleting a member whose copy waits on the hold shelf
    # would leave that copy kept for nobody. (Deactivate them instead.)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="holds"
    )
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=16, choices=HoldStatus.choices, default=HoldStatus.WAITING
    )
    copy = models.ForeignKey(
        Copy, on_delete=models.SET_NULL, null=True, blank=True, related_name="holds"
    )
    ready_until = models.DateTimeField(_("ready until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = HoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["placed_at", "id"]
        default_permissions = ()
        indexes = [
            models.Index(
                fields=["book", "placed_at"],
                name="circulation_hold_queue_idx",
                condition=Q(status="waiting"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["book", "member"],
                condition=ACTIVE_HOLD,
                name="circulation_one_active_hold_per_member_and_book",
            ),
            models.UniqueConstraint(
                fields=["copy"],
                condition=Q(status=HoldStatus.READY),
                name="circulation_one_member_per_shelved_copy",
            ),
            # Ready ⇔ a copy waits for them, until a time.
            models.CheckConstraint(
                condition=Q(status=HoldStatus.READY, copy__isnull=False, ready_until__isnull=False)
                | (~Q(status=HoldStatus.READY) & Q(ready_until__isnull=True)),
                name="circulation_hold_ready_has_copy",
            ),
            models.CheckConstraint(
                condition=Q(status__in=HoldStatus.values), name="circulation_hold_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} ← {self.book.title} ({self.status})"
