"""What a book's page says about its copies, for the person looking: availability, and their
own loan, hold or the button they may press (Borrow, Place a hold)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.bookshelf.models import Book

from .models import Hold, HoldStatus, Loan
from .policy import why_cannot_manage_inventory, why_cannot_use_loans
from .services import Availability, availability, why_at_loan_limit, why_not_renewable


@dataclass(frozen=True)
class CirculationPanel:
    availability: Availability
    loan: Loan | None = None  # theirs, open
    hold: Hold | None = None  # theirs, active
    position: int | None = None  # in the queue, when waiting
    may_borrow: bool = False
    may_hold: bool = False
    signed_in: bool = False
    borrower: bool = False  # holds the permission to borrow
    manages: bool = False  # the desk: links to the book's copies
    renew_refusal: str = ""  # why their loan cannot be renewed, shown instead of Renew
    borrow_refusal: str = ""  # the loan limit, shown instead of Borrow


def circulation_panel(user: Any, book: Book) -> CirculationPanel:
    counts = availability([book.pk])[book.pk]
    if not user.is_authenticated:
        return CirculationPanel(counts)
    borrower = not why_cannot_use_loans(user)
    loan = Loan.objects.open().filter(book=book, borrower=user).select_related("copy").first()
    hold = Hold.objects.active().filter(book=book, member=user).first()
    position = None
    if hold is not None and hold.status == HoldStatus.WAITING:
        position = (
            Hold.objects.queue(book)
            .filter(placed_at__lte=hold.placed_at)
            .exclude(placed_at=hold.placed_at, id__gt=hold.pk)
            .count()
        )
    ready = hold is not None and hold.status == HoldStatus.READY
    free = counts.available > 0
    could_borrow = (
        borrower and book.is_public and loan is None and (ready or (free and hold is None))
    )
    at_limit = ""
    if could_borrow:
        at_limit = why_at_loan_limit(
            user, user, open_loans=Loan.objects.open().filter(borrower=user).count()
        )
    return CirculationPanel(
        counts,
        loan=loan,
        hold=hold,
        position=position,
        may_borrow=could_borrow and not at_limit,
        borrow_refusal=at_limit,
        may_hold=borrower
        and book.is_public
        and loan is None
        and hold is None
        and not free
        and counts.total > 0,
        signed_in=True,
        borrower=borrower,
        manages=not why_cannot_manage_inventory(user),
        renew_refusal=why_not_renewable(loan, someone_waits=counts.waiting > 0) if loan else "",
    )
