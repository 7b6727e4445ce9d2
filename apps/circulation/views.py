"""The member's side of circulation: borrow and hold from a book's page, return, renew and
cancel from /loans/. Thin: each view asks its rule (``policy``) and calls one service; a
refusal about the state (no free copy, the loan limit) is a message, a permission refusal a
403 (a toast under htmx). Without JavaScript every button is a plain form post that comes
back to the page it was on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from apps.bookshelf.models import Book
from apps.core.htmx import is_htmx
from apps.core.mixins import PolicyRequiredMixin
from apps.core.net import safe_next_url

from .models import Hold, HoldStatus, Loan
from .panel import circulation_panel
from .policy import sees_loan, why_cannot_manage_inventory, why_cannot_use_loans
from .services import CirculationRefused, borrow, cancel_hold, place_hold, renew, return_loan

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PAST_LOANS_SHOWN = 20


class MemberActionView(PolicyRequiredMixin, View):
    """POST only; answers with the book's circulation panel to htmx, else a redirect."""

    http_method_names = ["post"]

    def refusal(self) -> StrOrPromise:
        return why_cannot_use_loans(self.request.user)

    def act(self) -> tuple[Book, str]:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            book, done = self.act()
        except CirculationRefused as refused:
            messages.error(request, str(refused))
            book = self.book()
        else:
            messages.success(request, done)
        if is_htmx(request):
            return render(
                request,
                "circulation/includes/panel.html",
                {"book": book, "panel": circulation_panel(request.user, book)},
            )
        return HttpResponseRedirect(safe_next_url(request, book.get_absolute_url()))

    def book(self) -> Book:
        raise NotImplementedError


class BookMemberActionView(MemberActionView):
    def book(self) -> Book:
        # Only books in the catalogue circulate; others are not found here.
        return get_object_or_404(Book.objects.public(), pk=self.kwargs["pk"])


class BorrowView(BookMemberActionView):
    def act(self) -> tuple[Book, str]:
        loan = borrow(book=self.book(), member=self.request.user)
        return loan.book, _("You borrowed “%(title)s”. It is due back on %(due)s.") % {
            "title": loan.book.title,
            "due": date_format(loan.due_at, "DATE_FORMAT"),
        }


class PlaceHoldView(BookMemberActionView):
    def act(self) -> tuple[Book, str]:
        hold = place_hold(book=self.book(), member=self.request.user)
        return hold.book, _("You are in the queue for “%(title)s”. We will e-mail you.") % {
            "title": hold.book.title
        }


class LoanActionView(MemberActionView):
    """A loan of one's own, or any loan at the desk; anyone else's is a 404 (not told)."""

    def loan(self) -> Loan:
        loan = get_object_or_404(Loan.objects.select_related("book", "copy"), pk=self.kwargs["pk"])
        if not sees_loan(self.request.user, loan):
            raise_not_found()
        return loan

    def book(self) -> Book:
        return self.loan().book


class ReturnView(LoanActionView):
    def act(self) -> tuple[Book, str]:
        loan = return_loan(loan=self.loan(), actor=self.request.user)
        return loan.book, _("“%(title)s” returned. Thank you!") % {"title": loan.book.title}


class RenewView(LoanActionView):
    def act(self) -> tuple[Book, str]:
        loan = renew(loan=self.loan(), actor=self.request.user)
        return loan.book, _("Renewed: “%(title)s” is now due on %(due)s.") % {
            "title": loan.book.title,
            "due": date_format(loan.due_at, "DATE_FORMAT"),
        }


class CancelHoldView(MemberActionView):
    def hold(self) -> Hold:
        hold = get_object_or_404(Hold.objects.select_related("book"), pk=self.kwargs["pk"])
        if hold.member_id != self.request.user.pk and why_cannot_manage_inventory(
            self.request.user
        ):
            raise_not_found()
        return hold

    def book(self) -> Book:
        return self.hold().book

    def act(self) -> tuple[Book, str]:
        hold = cancel_hold(hold=self.hold(), actor=self.request.user)
        return hold.book, _("Hold on “%(title)s” cancelled.") % {"title": hold.book.title}


def raise_not_found() -> None:
    from django.http import Http404

    raise Http404


class LoansView(PolicyRequiredMixin, TemplateView):
    """/loans/: the member's open loans (overdue first), holds with their place in the
    queue, and recent past loans. A fixed number of queries, however many rows."""

    template_name = "circulation/loans.html"

    def refusal(self) -> StrOrPromise:
        return why_cannot_use_loans(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user: Any = self.request.user  # signed in (the rule above)
        loans: QuerySet[Loan] = Loan.objects.filter(borrower=user).select_related("book", "copy")
        holds = list(
            Hold.objects.active().filter(member=user).select_related("book").order_by("placed_at")
        )
        positions = queue_positions(holds)
        for hold in holds:
            hold.position = positions.get(hold.pk)
        return super().get_context_data(
            open_loans=list(loans.filter(returned_at=None).order_by("due_at")),
            past_loans=list(
                loans.exclude(returned_at=None).order_by("-returned_at")[:PAST_LOANS_SHOWN]
            ),
            holds=holds,
            **kwargs,
        )


def queue_positions(holds: list[Hold]) -> dict[int, int]:
    """Each waiting hold's place in its book's queue (1 = next), in one query."""
    waiting = [h for h in holds if h.status == HoldStatus.WAITING]
    if not waiting:
        return {}
    queue = (
        Hold.objects.filter(book_id__in={h.book_id for h in waiting}, status=HoldStatus.WAITING)
        .order_by("book_id", "placed_at", "id")
        .values_list("pk", "book_id")
    )
    places: dict[int, int] = {}
    counter: dict[int, int] = {}
    for pk, book_id in queue:
        counter[book_id] = counter.get(book_id, 0) + 1
        places[pk] = counter[book_id]
    return places
