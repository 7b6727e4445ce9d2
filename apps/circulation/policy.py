"""Who may do what at the circulation desk: every rule about copies, loans and holds, each in
one function answering with the sentence that refuses (or ``""``), as in
``apps/bookshelf/policy.py``. ``services`` enforces them; pages show their sentences.

The permissions are the guide's names: members borrow and return their own books; holders
of ``can_manage_inventory`` (librarians) act for any member at the desk and manage copies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from rules.permissions import add_perm
from rules.predicates import predicate

from apps.core.policy import holds

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from apps.bookshelf.models import Book

    from .models import Hold, Loan

BORROW = "bookshelf.can_borrow_book"
RETURN = "bookshelf.can_return_book"
MANAGE = "bookshelf.can_manage_inventory"


def why_cannot_manage_inventory(user: Any) -> StrOrPromise:
    """The desk, the copies and acting for a member need can_manage_inventory."""
    if not holds(user, MANAGE):
        return _("Only librarians can manage the copies and the desk.")
    return ""


def sees_borrowers(user: Any) -> bool:
    """Who borrowed or waits for a book is the desk's business (a book's history shows
    everyone else "Someone")."""
    return not why_cannot_manage_inventory(user)


def why_cannot_borrow(actor: Any, book: Book, member: Any) -> StrOrPromise:
    """A member borrows for themselves with can_borrow_book; a librarian checks a book out
    to a member at the desk (can_manage_inventory), the member still needing can_borrow_book.
    Only books in the catalogue (published, not archived) are lent."""
    if actor != member and why_cannot_manage_inventory(actor):
        return _("Only librarians can check books out to someone else.")
    if actor == member and not holds(actor, BORROW):
        return _("You don't have permission to borrow books.")
    if actor != member and not holds(member, BORROW):
        return _("%(member)s may not borrow books (their role does not allow it).") % {
            "member": member
        }
    if not book.is_public:
        return _("Only books in the catalogue can be borrowed.")
    return ""


def why_cannot_place_hold(member: Any, book: Book) -> StrOrPromise:
    """A hold is for those who may borrow, on a book in the catalogue."""
    if not holds(member, BORROW):
        return _("You don't have permission to borrow books.")
    if not book.is_public:
        return _("Only books in the catalogue can be borrowed.")
    return ""


def sees_loan(user: Any, loan: Loan) -> bool:
    """A loan is its borrower's business, and the desk's. (Anyone else gets a 404.)"""
    return loan.borrower_id == getattr(user, "pk", None) or not why_cannot_manage_inventory(user)


def why_cannot_return(user: Any, loan: Loan) -> StrOrPromise:
    """The borrower returns their own loan with can_return_book; the desk any loan."""
    if loan.borrower_id == getattr(user, "pk", None) and holds(user, RETURN):
        return ""
    if not why_cannot_manage_inventory(user):
        return ""
    return _("You don't have permission to return books.")


def why_cannot_renew(user: Any, loan: Loan) -> StrOrPromise:
    """Renewing is the borrower's (with can_borrow_book) or the desk's."""
    if loan.borrower_id == getattr(user, "pk", None) and holds(user, BORROW):
        return ""
    if not why_cannot_manage_inventory(user):
        return ""
    return _("You don't have permission to renew this loan.")


def why_cannot_cancel_hold(user: Any, hold: Hold) -> StrOrPromise:
    """A hold is cancelled by its member or at the desk."""
    if hold.member_id == getattr(user, "pk", None) or not why_cannot_manage_inventory(user):
        return ""
    return _("You don't have permission to cancel this hold.")


def why_cannot_use_loans(user: Any) -> StrOrPromise:
    """The member's pages and buttons (borrow, hold, /loans/): can_borrow_book, or the desk."""
    if holds(user, BORROW) or not why_cannot_manage_inventory(user):
        return ""
    return _("You don't have permission to borrow books.")


# --- Django's API: user.has_perm("bookshelf.can_borrow_book", book), about one object --------


@predicate
def _may_borrow(user: Any, book: Book | None = None) -> bool:
    # Without an object the answer stays with ModelBackend and the roles (as in
    # apps/bookshelf/policy.py): saying yes here would grant the permission itself.
    return book is not None and not why_cannot_place_hold(user, book)


@predicate
def _may_return(user: Any, loan: Loan | None = None) -> bool:
    return loan is not None and not why_cannot_return(user, loan)


@predicate
def _may_manage(user: Any, book: Book | None = None) -> bool:
    return book is not None and not why_cannot_manage_inventory(user)


add_perm(BORROW, _may_borrow)
add_perm(RETURN, _may_return)
add_perm(MANAGE, _may_manage)
