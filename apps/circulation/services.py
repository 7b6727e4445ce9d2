"""Every circulation write: borrow, return, renew, holds, copies.

Each runs in one transaction holding a lock on the book's row (``_lock_book``), so
everything that moves that book's copies happens one at a time: two members borrowing the
last copy at once get one loan and one refusal, a return racing a walk-in borrow while a hold
waits serves the hold. A borrow also locks the member's row first (always member, then book:
no deadlock), so two borrows by one member at once cannot pass the loan limit together. The
database constraints (``models``) back each rule. Every change is written to the book's
history (``BookEvent``) in the same transaction; e-mails go after commit.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.bookshelf.models import Book, BookEvent
from apps.bookshelf.services import record_event
from apps.core.policy import PolicyDenied, enforce

from .models import Copy, CopyStatus, Hold, HoldStatus, Loan
from .notifications import tell_hold_ready
from .policy import (
    why_cannot_borrow,
    why_cannot_cancel_hold,
    why_cannot_manage_inventory,
    why_cannot_place_hold,
    why_cannot_renew,
    why_cannot_return,
)

MAX_COPIES_AT_ONCE = 50


class CirculationRefused(Exception):
    """Not now, with the sentence saying why (no free copy, the loan limit, …).
    ``offer_hold``: the person may place a hold instead."""

    def __init__(self, message: str, *, offer_hold: bool = False) -> None:
        super().__init__(message)
        self.offer_hold = offer_hold


# --- Reading availability --------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    available: int
    total: int
    waiting: int  # holds in the queue
    on_hold_shelf: int = 0  # copies waiting for the member they were kept for

    def __str__(self) -> str:
        if not self.total and not self.waiting:
            return _("No copies yet")
        if self.available or not self.total:
            return _("%(available)s of %(total)s available") % {
                "available": self.available,
                "total": self.total,
            }
        if self.on_hold_shelf == self.total and not self.waiting:
            return _("On the hold shelf")
        if self.waiting:
            return ngettext("On loan · %(n)s waiting", "On loan · %(n)s waiting", self.waiting) % {
                "n": self.waiting
            }
        return _("On loan")


def availability(book_ids: list[int]) -> dict[int, Availability]:
    """Availability of several books in two queries, whatever their number (a list page)."""
    copies = (
        Copy.objects.filter(book_id__in=book_ids)
        .exclude(status=CopyStatus.WITHDRAWN)
        .values("book_id")
        .annotate(
            total=Count("id"),
            available=Count("id", filter=Q(status=CopyStatus.AVAILABLE)),
            on_hold_shelf=Count("id", filter=Q(status=CopyStatus.ON_HOLD_SHELF)),
        )
    )
    waiting = (
        Hold.objects.filter(book_id__in=book_ids, status=HoldStatus.WAITING)
        .values("book_id")
        .annotate(n=Count("id"))
    )
    waiting_of = {row["book_id"]: row["n"] for row in waiting}
    found = {
        row["book_id"]: Availability(
            row["available"], row["total"], waiting_of.get(row["book_id"], 0), row["on_hold_shelf"]
        )
        for row in copies
    }
    return {pk: found.get(pk, Availability(0, 0, waiting_of.get(pk, 0))) for pk in book_ids}


# --- Locks ---------------------------------------------------------------------------------


# FOR NO KEY UPDATE, not FOR UPDATE: inserting a loan or hold checks its foreign keys with
# FOR KEY SHARE on the member's and the book's rows, which FOR UPDATE would block. With it,
# a hold placed (book locked, then the member's row referenced) and a borrow by the same
# member (member locked, then the book) deadlocked on PostgreSQL; so would an editor saving
# a book (updated_by) while the desk lends to them.
def _lock_book(book_id: int) -> Book:
    try:
        return Book.objects.select_for_update(no_key=True).get(pk=book_id)
    except Book.DoesNotExist:  # deleted since the page was read
        raise CirculationRefused(_("This book is no longer in the catalogue.")) from None


def _lock_member(member: Any) -> None:
    get_user_model().objects.select_for_update(no_key=True).filter(pk=member.pk).exists()


def _event(book: Book, action: str, actor: Any, barcode: str = "", **extra: Any) -> None:
    changes = {"copy": [None, barcode]} if barcode else {}
    record_event(book, action, actor, changes=changes, **extra)


# --- Borrowing -----------------------------------------------------------------------------


def why_at_loan_limit(member: Any, actor: Any, *, open_loans: int) -> str:
    """The loan limit (``BOOKSHELF_LOAN_LIMIT``), said to the member or to the desk.
    ``borrow`` enforces it under the member's lock; the Copies panel shows it instead of
    Borrow."""
    limit = settings.BOOKSHELF_LOAN_LIMIT
    if open_loans < limit:
        return ""
    if actor == member:
        return _("You have %(n)s books on loan, the most at once. Return one first.") % {"n": limit}
    return _("%(member)s has %(n)s books on loan, the most at once.") % {
        "member": member,
        "n": limit,
    }


def borrow(*, book: Book, member: Any, actor: Any | None = None, copy: Copy | None = None) -> Loan:
    """``member`` takes a copy of ``book``: the one waiting for them on the hold shelf, else
    an available one. ``actor`` is the librarian at the desk, or the member themselves. At
    the desk the librarian scans a given ``copy``: that one is lent, if it is free or waits
    on the hold shelf for this member."""
    actor = actor or member
    enforce(why_cannot_borrow(actor, book, member))
    now = timezone.now()
    with transaction.atomic():
        _lock_member(member)
        book = _lock_book(book.pk)
        open_loans = Loan.objects.open().filter(borrower=member)
        if open_loans.filter(book=book).exists():
            raise CirculationRefused(
                _("You already have this book on loan.")
                if actor == member
                else _("%(member)s already has this book on loan.") % {"member": member}
            )
        at_limit = why_at_loan_limit(member, actor, open_loans=open_loans.count())
        if at_limit:
            raise CirculationRefused(at_limit)
        hold = (
            Hold.objects.filter(book=book, member=member, status=HoldStatus.READY)
            .select_related("copy")
            .first()
        )
        if copy is not None:
            copy = _scanned_copy_for(book, copy, member)
        elif hold is not None:
            copy = hold.copy  # a ready hold has its copy (constraint)
        else:
            copy = (
                Copy.objects.filter(book=book, status=CopyStatus.AVAILABLE)
                .order_by("barcode")
                .first()
            )
        if copy is None:
            raise CirculationRefused(
                _("No copy of “%(title)s” is free right now. Place a hold to be next.")
                % {"title": book.title},
                offer_hold=not Hold.objects.active().filter(book=book, member=member).exists(),
            )
        if hold is not None:
            Hold.objects.filter(pk=hold.pk).update(
                status=HoldStatus.COLLECTED, ready_until=None, closed_at=now
            )
        Copy.objects.filter(pk=copy.pk).update(status=CopyStatus.ON_LOAN)
        loan = Loan.objects.create(
            copy=copy,
            book=book,
            borrower=member,
            borrowed_at=now,
            due_at=now + datetime.timedelta(days=settings.BOOKSHELF_LOAN_DAYS),
        )
        # A waiting hold of this member is served by the walk-in borrow too.
        Hold.objects.filter(book=book, member=member, status=HoldStatus.WAITING).update(
            status=HoldStatus.COLLECTED, closed_at=now
        )
        _event(book, BookEvent.Action.BORROWED, actor, copy.barcode, comment=_for(member, actor))
        if hold is not None and hold.copy is not None and hold.copy.pk != copy.pk:
            # They took another copy than the one kept for them: that one passes on.
            _shelve(book, hold.copy, actor, now)
    return loan


def _scanned_copy_for(book: Book, copy: Copy, member: Any) -> Copy:
    """The copy a librarian scanned, re-read under the book's lock: lent if it is on the
    open shelf or waits on the hold shelf for ``member``; refused otherwise."""
    copy = Copy.objects.get(pk=copy.pk)
    if copy.book_id != book.pk:
        raise CirculationRefused(
            _("Copy %(barcode)s is not of this book.") % {"barcode": copy.barcode}
        )
    if copy.status == CopyStatus.AVAILABLE:
        return copy
    if copy.status == CopyStatus.ON_HOLD_SHELF:
        kept_for = (
            Hold.objects.filter(copy=copy, status=HoldStatus.READY).select_related("member").first()
        )
        if kept_for is not None and kept_for.member_id == member.pk:
            return copy
        raise CirculationRefused(
            _("Copy %(barcode)s waits on the hold shelf for %(member)s.")
            % {"barcode": copy.barcode, "member": kept_for.member if kept_for else _("someone")}
        )
    raise CirculationRefused(
        _("Copy %(barcode)s is %(status)s.")
        % {"barcode": copy.barcode, "status": copy.get_status_display()}
    )


def return_loan(*, loan: Loan, actor: Any) -> Loan:
    """Close the loan; the copy goes to the first member waiting (the hold shelf), never
    back on the open shelf while someone waits."""
    enforce(why_cannot_return(actor, loan))
    now = timezone.now()
    with transaction.atomic():
        book = _lock_book(loan.book_id)
        loan = Loan.objects.select_related("copy").get(pk=loan.pk)
        if loan.returned_at is not None:
            raise CirculationRefused(_("This loan was already returned."))
        Loan.objects.filter(pk=loan.pk).update(returned_at=now)
        _event(
            book,
            BookEvent.Action.RETURNED,
            actor,
            loan.copy.barcode,
            comment=_for(loan.borrower, actor),
        )
        _shelve(book, loan.copy, actor, now)
        loan.refresh_from_db()
    return loan


def why_not_renewable(loan: Loan, *, someone_waits: bool) -> str:
    """The state rule of renewing (who may is ``policy.why_cannot_renew``): at most
    ``BOOKSHELF_RENEWALS`` times, not while someone waits. ``renew`` enforces it under the
    book's lock; /loans/ and the Copies panel show its sentence instead of the button."""
    if loan.returned_at is not None:
        return _("This loan was already returned.")
    if loan.renewals >= settings.BOOKSHELF_RENEWALS:
        return _("Renewed %(n)s times already, the most a loan allows.") % {
            "n": settings.BOOKSHELF_RENEWALS
        }
    if someone_waits:
        return _("Someone is waiting for this book: it cannot be renewed.")
    return ""


def renew(*, loan: Loan, actor: Any) -> Loan:
    """Another loan period from today, at most ``BOOKSHELF_RENEWALS`` times, and not while
    someone waits for the book."""
    enforce(why_cannot_renew(actor, loan))
    now = timezone.now()
    with transaction.atomic():
        book = _lock_book(loan.book_id)
        loan = Loan.objects.select_related("copy").get(pk=loan.pk)
        refusal = why_not_renewable(loan, someone_waits=Hold.objects.queue(book).exists())
        if refusal:
            raise CirculationRefused(refusal)
        due = max(loan.due_at, now) + datetime.timedelta(days=settings.BOOKSHELF_LOAN_DAYS)
        Loan.objects.filter(pk=loan.pk, returned_at=None, renewals=loan.renewals).update(
            due_at=due, renewals=loan.renewals + 1
        )
        _event(
            book,
            BookEvent.Action.RENEWED,
            actor,
            loan.copy.barcode,
            comment=_for(loan.borrower, actor),
        )
        loan.refresh_from_db()
    return loan


# --- Holds ---------------------------------------------------------------------------------


def place_hold(*, book: Book, member: Any) -> Hold:
    """A place in the book's queue, only when no copy is free."""
    enforce(why_cannot_place_hold(member, book))
    with transaction.atomic():
        book = _lock_book(book.pk)
        if Copy.objects.filter(book=book, status=CopyStatus.AVAILABLE).exists():
            raise CirculationRefused(_("A copy is free: borrow it instead of waiting."))
        if Loan.objects.open().filter(book=book, borrower=member).exists():
            raise CirculationRefused(_("You already have this book on loan."))
        if Hold.objects.active().filter(book=book, member=member).exists():
            raise CirculationRefused(_("You are already in the queue for this book."))
        hold = Hold.objects.create(book=book, member=member)
        _event(book, BookEvent.Action.HOLD_PLACED, member)
    return hold


def cancel_hold(*, hold: Hold, actor: Any) -> Hold:
    """Leave the queue; a copy waiting on the hold shelf passes to the next member."""
    enforce(why_cannot_cancel_hold(actor, hold))
    now = timezone.now()
    with transaction.atomic():
        book = _lock_book(hold.book_id)
        hold = Hold.objects.select_related("copy").get(pk=hold.pk)
        if hold.status not in (HoldStatus.WAITING, HoldStatus.READY):
            raise CirculationRefused(_("This hold is no longer active."))
        copy = hold.copy if hold.status == HoldStatus.READY else None
        Hold.objects.filter(pk=hold.pk).update(
            status=HoldStatus.CANCELLED, ready_until=None, closed_at=now
        )
        _event(book, BookEvent.Action.HOLD_CANCELLED, actor, comment=_for(hold.member, actor))
        if copy is not None:
            _shelve(book, copy, actor, now)
        hold.refresh_from_db()
    return hold


def expire_holds(now: datetime.datetime | None = None) -> int:
    """Holds not collected in time expire and their copy passes on. Idempotent: run it from
    cron as often as you like. Returns how many expired."""
    now = now or timezone.now()
    expired = 0
    due = Hold.objects.filter(status=HoldStatus.READY, ready_until__lt=now).values_list(
        "pk", "book_id"
    )
    for hold_id, book_id in list(due):
        with transaction.atomic():
            book = _lock_book(book_id)
            hold = Hold.objects.select_related("copy", "member").get(pk=hold_id)
            if (
                hold.status != HoldStatus.READY
                or hold.ready_until is None
                or hold.ready_until >= now
            ):
                continue  # collected or cancelled meanwhile
            copy = hold.copy
            Hold.objects.filter(pk=hold.pk).update(
                status=HoldStatus.EXPIRED, ready_until=None, closed_at=now
            )
            _event(
                book,
                BookEvent.Action.HOLD_EXPIRED,
                None,
                copy.barcode if copy else "",
                comment=_for(hold.member, None),
            )
            if copy is not None:
                _shelve(book, copy, None, now)
            expired += 1
    return expired


def _shelve(book: Book, copy: Copy, actor: Any, now: datetime.datetime) -> None:
    """A copy that came back: to the hold shelf for the first member waiting (told by
    e-mail after commit), else back on the open shelf. Call it holding the book's lock."""
    hold = Hold.objects.queue(book).select_related("member").first()
    if hold is None:
        Copy.objects.filter(pk=copy.pk).update(status=CopyStatus.AVAILABLE)
        return
    ready_until = now + datetime.timedelta(days=settings.BOOKSHELF_HOLD_SHELF_DAYS)
    Copy.objects.filter(pk=copy.pk).update(status=CopyStatus.ON_HOLD_SHELF)
    Hold.objects.filter(pk=hold.pk).update(
        status=HoldStatus.READY, copy=copy, ready_until=ready_until
    )
    _event(book, BookEvent.Action.HOLD_READY, actor, copy.barcode, comment=_for(hold.member, None))
    tell_hold_ready(book=book, member=hold.member, ready_until=ready_until)


def _for(member: Any, actor: Any) -> str:
    """The history's note when someone acts for another (the desk)."""
    return "" if actor == member else _("for %(member)s") % {"member": member}


# --- The desk: one barcode field ----------------------------------------------------------


@dataclass(frozen=True)
class DeskOutcome:
    """What a scan at the desk did: ``returned`` (with where the copy went) or lent."""

    loan: Loan
    returned: bool
    kept_for: Any | None = None  # the member whose hold the returned copy now waits for
    ready_until: datetime.datetime | None = None


def desk_scan(*, barcode: str, member: Any | None, actor: Any) -> DeskOutcome:
    """A librarian scans a copy: one on loan is checked in (it goes to the first member
    waiting, else back on the shelf); any other is checked out to ``member`` (the person
    at the desk), who must be given then. Raises ``CirculationRefused`` with the sentence
    for the desk: an unknown barcode, a withdrawn copy, one kept for someone else."""
    enforce(why_cannot_manage_inventory(actor))
    barcode = barcode.strip().upper()  # barcodes are stored in capitals (a constraint)
    copy = Copy.objects.select_related("book").filter(barcode=barcode).first()
    if copy is None:
        raise CirculationRefused(_("No copy has the barcode “%(barcode)s”.") % {"barcode": barcode})
    loan = Loan.objects.open().filter(copy=copy).first()
    if loan is not None:
        loan = return_loan(loan=loan, actor=actor)
        kept = (
            Hold.objects.filter(copy=copy, status=HoldStatus.READY).select_related("member").first()
        )
        return DeskOutcome(
            loan,
            returned=True,
            kept_for=kept.member if kept else None,
            ready_until=kept.ready_until if kept else None,
        )
    if member is None:
        raise CirculationRefused(
            _("Copy %(barcode)s is not on loan. To check it out, enter the member first.")
            % {"barcode": copy.barcode}
        )
    return DeskOutcome(
        borrow(book=copy.book, member=member, actor=actor, copy=copy), returned=False
    )


# --- Copies --------------------------------------------------------------------------------


def add_copies(*, book: Book, count: int, actor: Any) -> list[Copy]:
    """``count`` new copies with generated barcodes; each goes to a waiting member first."""
    enforce(why_cannot_manage_inventory(actor))
    if not 1 <= count <= MAX_COPIES_AT_ONCE:
        raise CirculationRefused(
            _("Add between 1 and %(most)s copies at a time.") % {"most": MAX_COPIES_AT_ONCE}
        )
    now = timezone.now()
    with transaction.atomic():
        book = _lock_book(book.pk)
        barcodes = _new_barcodes(book, count)
        Copy.objects.bulk_create(
            Copy(book=book, barcode=barcode, added_at=now) for barcode in barcodes
        )
        copies = list(Copy.objects.filter(barcode__in=barcodes).order_by("barcode"))
        record_event(
            book,
            BookEvent.Action.COPIES_ADDED,
            actor,
            comment=_("with the barcodes %(barcodes)s")
            % {"barcodes": ", ".join(copy.barcode for copy in copies)},
        )
        for copy in copies:
            _shelve(book, copy, actor, now)
    return copies


def _new_barcodes(book: Book, count: int) -> list[str]:
    """``count`` unused barcodes for the book, numbered on from its copies (B000042-001, …),
    skipping any already taken. Call it holding the book's lock."""
    prefix = f"B{book.pk:06d}-"
    taken = set(Copy.objects.filter(barcode__startswith=prefix).values_list("barcode", flat=True))
    barcodes: list[str] = []
    number = Copy.objects.filter(book=book).count()
    while len(barcodes) < count:
        number += 1
        barcode = f"{prefix}{number:03d}"
        if barcode not in taken:
            barcodes.append(barcode)
    return barcodes


def withdraw_copy(*, copy: Copy, actor: Any) -> Copy:
    """Take a copy out of circulation (lost, worn out). Refused while it is on loan or waits
    for someone on the hold shelf."""
    enforce(why_cannot_manage_inventory(actor))
    with transaction.atomic():
        book = _lock_book(copy.book_id)
        copy = Copy.objects.get(pk=copy.pk)
        if copy.status == CopyStatus.ON_LOAN:
            raise CirculationRefused(
                _("Copy %(barcode)s is on loan: it can be withdrawn once it is back.")
                % {"barcode": copy.barcode}
            )
        if copy.status == CopyStatus.ON_HOLD_SHELF:
            raise CirculationRefused(
                _(
                    "Copy %(barcode)s is kept on the hold shelf: it can be withdrawn once the "
                    "hold ends."
                )
                % {"barcode": copy.barcode}
            )
        if copy.status == CopyStatus.WITHDRAWN:
            raise CirculationRefused(
                _("Copy %(barcode)s is already withdrawn.") % {"barcode": copy.barcode}
            )
        Copy.objects.filter(pk=copy.pk).update(status=CopyStatus.WITHDRAWN)
        _event(book, BookEvent.Action.COPY_WITHDRAWN, actor, copy.barcode)
        copy.refresh_from_db()
    return copy


__all__ = [
    "Availability",
    "CirculationRefused",
    "DeskOutcome",
    "PolicyDenied",
    "add_copies",
    "availability",
    "borrow",
    "cancel_hold",
    "desk_scan",
    "expire_holds",
    "place_hold",
    "renew",
    "return_loan",
    "why_at_loan_limit",
    "why_not_renewable",
    "withdraw_copy",
]
