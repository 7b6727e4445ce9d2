"""The member's side of circulation: borrow and hold from a book's page, return, renew and
cancel from /loans/. Thin: each view asks its rule (``policy``) and calls one service; a
refusal about the state (no free copy, the loan limit) is a message, a permission refusal a
403 (a toast under htmx). Without JavaScript every button is a plain form post that comes
back to the page it was on."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import FormView, TemplateView

from apps.bookshelf.models import Book
from apps.core.htmx import is_htmx
from apps.core.mixins import PolicyRequiredMixin
from apps.core.net import safe_next_url
from apps.core.policy import PolicyDenied

from .forms import AddCopiesForm, DeskScanForm
from .models import Copy, Hold, HoldStatus, Loan
from .panel import circulation_panel
from .policy import (
    sees_loan,
    why_cannot_cancel_hold,
    why_cannot_manage_inventory,
    why_cannot_use_loans,
)
from .services import (
    MAX_COPIES_AT_ONCE,
    CirculationRefused,
    DeskOutcome,
    add_copies,
    availability,
    borrow,
    cancel_hold,
    desk_scan,
    place_hold,
    renew,
    return_loan,
    why_not_renewable,
    withdraw_copy,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PAST_LOANS_SHOWN = 20


class MemberActionView(PolicyRequiredMixin, View):
    """POST only; answers htmx with the book's circulation panel, or with /loans/'s lists
    when the button was there (its form's ``next``); a plain post with a redirect."""

    http_method_names = ["post"]
    # Where focus goes on /loans/ afterwards: a heading, unless ``act`` names a loan's row.
    focus_heading = "open-loans"
    focus_loan: int | None = None

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
        loans_url = reverse("circulation:loans")
        if is_htmx(request) and request.POST.get("next") == loans_url:
            context = loans_context(
                request.user,
                focus_loan=self.focus_loan,
                focus_heading="" if self.focus_loan else self.focus_heading,
            )
            return render(request, "circulation/loans.html#loans-lists", context)
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
    @cached_property
    def public_book(self) -> Book:
        # Only books in the catalogue circulate; others are not found here.
        return get_object_or_404(Book.objects.public(), pk=self.kwargs["pk"])

    def book(self) -> Book:
        return self.public_book


class BorrowView(BookMemberActionView):
    focus_heading = "holds"  # from /loans/: a ready hold

    def act(self) -> tuple[Book, str]:
        loan = borrow(book=self.book(), member=self.request.user)
        self.focus_loan = loan.pk
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

    @cached_property
    def loan(self) -> Loan:
        loan = get_object_or_404(Loan.objects.select_related("book", "copy"), pk=self.kwargs["pk"])
        if not sees_loan(self.request.user, loan):
            raise Http404
        return loan

    def book(self) -> Book:
        return self.loan.book


class ReturnView(LoanActionView):
    def act(self) -> tuple[Book, str]:
        loan = return_loan(loan=self.loan, actor=self.request.user)
        return loan.book, _("“%(title)s” returned. Thank you!") % {"title": loan.book.title}


class RenewView(LoanActionView):
    def act(self) -> tuple[Book, str]:
        loan = renew(loan=self.loan, actor=self.request.user)
        self.focus_loan = loan.pk
        return loan.book, _("Renewed: “%(title)s” is now due on %(due)s.") % {
            "title": loan.book.title,
            "due": date_format(loan.due_at, "DATE_FORMAT"),
        }


class CancelHoldView(MemberActionView):
    focus_heading = "holds"

    @cached_property
    def hold(self) -> Hold:
        hold = get_object_or_404(Hold.objects.select_related("book"), pk=self.kwargs["pk"])
        if why_cannot_cancel_hold(self.request.user, hold):  # someone else's: not told
            raise Http404
        return hold

    def book(self) -> Book:
        return self.hold.book

    def act(self) -> tuple[Book, str]:
        hold = cancel_hold(hold=self.hold, actor=self.request.user)
        return hold.book, _("Hold on “%(title)s” cancelled.") % {"title": hold.book.title}


@dataclass(frozen=True)
class LoanRow:
    """An open loan on /loans/, with why it cannot be renewed ("" when it can)."""

    loan: Loan
    renew_refusal: str


class LoansView(PolicyRequiredMixin, TemplateView):
    """/loans/: the member's open loans (overdue first), holds with their place in the
    queue, and recent past loans. A fixed number of queries, however many rows."""

    template_name = "circulation/loans.html"

    def refusal(self) -> StrOrPromise:
        return why_cannot_use_loans(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**loans_context(self.request.user), **kwargs)


def loans_context(
    user: Any, *, focus_loan: int | None = None, focus_heading: str = ""
) -> dict[str, Any]:
    """/loans/'s lists for ``user``: open loans (soonest due first) with why each cannot be
    renewed, active holds with their place in the queue, recent past loans. A fixed number
    of queries, however many rows. ``focus_*``: where focus goes after an htmx action."""
    loans: QuerySet[Loan] = Loan.objects.filter(borrower=user).select_related("book", "copy")
    holds = list(
        Hold.objects.active().filter(member=user).select_related("book").order_by("placed_at")
    )
    positions = queue_positions(holds)
    for hold in holds:
        hold.position = positions.get(hold.pk)
    open_loans = list(loans.filter(returned_at=None).order_by("due_at"))
    # One query for all: which of these books someone waits for (no renewal then).
    awaited = set(
        Hold.objects.filter(
            book_id__in=[loan.book_id for loan in open_loans], status=HoldStatus.WAITING
        ).values_list("book_id", flat=True)
    )
    return {
        "open_loans": [
            LoanRow(loan, why_not_renewable(loan, someone_waits=loan.book_id in awaited))
            for loan in open_loans
        ],
        "past_loans": list(
            loans.exclude(returned_at=None).order_by("-returned_at")[:PAST_LOANS_SHOWN]
        ),
        "holds": holds,
        "focus_loan": focus_loan,
        "focus_heading": focus_heading,
    }


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


# --- The desk (/circulation/) and the copies (/inventory/<book id>/) -------------------------

DESK_LIST_LIMIT = 50


@dataclass(frozen=True)
class DeskResult:
    """One line at the top of the desk: what a scan did, or why not."""

    level: str  # success | warning (to the hold shelf) | danger (refused)
    label: StrOrPromise  # the badge: words, not only a colour
    text: str
    field: str = "barcode"  # where the librarian goes next
    barcode: str = ""  # put back in its field when the member was the problem

    @classmethod
    def of(cls, outcome: DeskOutcome) -> DeskResult:
        loan = outcome.loan
        item = _("“%(title)s” (%(barcode)s)") % {
            "title": loan.book.title,
            "barcode": loan.copy.barcode,
        }
        if not outcome.returned:
            return cls(
                "success",
                _("Checked out"),
                _("%(item)s to %(member)s, due %(due)s.")
                % {"item": item, "member": loan.borrower, "due": _day(loan.due_at)},
            )
        days_late = loan.days_late
        late = (
            ngettext(" It was %(n)s day late.", " It was %(n)s days late.", days_late)
            % {"n": days_late}
            if days_late > 0
            else ""
        )
        if outcome.kept_for is not None and outcome.ready_until is not None:
            return cls(
                "warning",
                _("Hold shelf"),
                _(
                    "%(item)s from %(borrower)s: put it on the hold shelf for %(member)s "
                    "(until %(until)s).%(late)s"
                )
                % {
                    "item": item,
                    "borrower": loan.borrower,
                    "member": outcome.kept_for,
                    "until": _day(outcome.ready_until),
                    "late": late,
                },
            )
        return cls(
            "success",
            _("Returned"),
            _("%(item)s from %(borrower)s: back on the shelf.%(late)s")
            % {"item": item, "borrower": loan.borrower, "late": late},
        )


def _day(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


class DeskView(PolicyRequiredMixin, FormView):
    """The librarian's desk: one barcode field that keeps its focus. Enter checks the copy in
    when it is on loan, else out to the member named above. Under htmx each result is a row
    added on top; without JavaScript a message after the redirect (the member is kept)."""

    template_name = "circulation/desk.html"
    form_class = DeskScanForm

    def refusal(self) -> StrOrPromise:
        return why_cannot_manage_inventory(self.request.user)

    def get_initial(self) -> dict[str, Any]:
        return {"member": self.request.GET.get("member", "")[:254]}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**desk_lists(), **kwargs)

    def form_valid(self, form: DeskScanForm) -> HttpResponse:
        try:
            outcome = desk_scan(
                barcode=form.cleaned_data["barcode"],
                member=form.cleaned_data["member"],
                actor=self.request.user,
            )
        except (CirculationRefused, PolicyDenied) as refused:
            return self.answer(form, DeskResult("danger", _("Not done"), str(refused)))
        return self.answer(form, DeskResult.of(outcome))

    def form_invalid(self, form: DeskScanForm) -> HttpResponse:
        if not is_htmx(self.request):
            return super().form_invalid(form)
        field = "member" if "member" in form.errors else "barcode"
        text = " ".join(str(error) for errors in form.errors.values() for error in errors)
        barcode = form.data.get("barcode", "")[:32]
        return self.answer(form, DeskResult("danger", _("Not done"), text, field, barcode))

    def answer(self, form: DeskScanForm, result: DeskResult) -> HttpResponse:
        if is_htmx(self.request):
            # The row on top of the results, and the lists again (out of band).
            context = {"result": result, "oob": True, **desk_lists()}
            return render(self.request, f"{self.template_name}#desk-answer", context)
        level = messages.ERROR if result.level == "danger" else messages.SUCCESS
        messages.add_message(self.request, level, f"{result.label}: {result.text}")
        member = form.data.get("member", "").strip()
        query = f"?{urlencode({'member': member})}" if member else ""
        return HttpResponseRedirect(reverse("circulation:desk") + query)


INVENTORY_TEMPLATE = "circulation/inventory.html"


@dataclass(frozen=True)
class CopyRow:
    """A copy on the inventory page, with whom it is: its open loan, or the hold it is kept
    for on the hold shelf."""

    copy: Copy
    loan: Loan | None
    hold: Hold | None


def desk_lists() -> dict[str, Any]:
    """The desk's lists: overdue loans (longest first) and the hold shelf (soonest to expire
    first), each with its count; four queries however long they are."""
    overdue = Loan.objects.overdue().select_related("book", "copy", "borrower")
    hold_shelf = Hold.objects.filter(status=HoldStatus.READY).select_related(
        "book", "copy", "member"
    )
    return {
        "overdue": list(overdue.order_by("due_at", "id")[:DESK_LIST_LIMIT]),
        "overdue_count": overdue.count(),
        "hold_shelf": list(hold_shelf.order_by("ready_until", "id")[:DESK_LIST_LIMIT]),
        "hold_shelf_count": hold_shelf.count(),
    }


class InventoryMixin(PolicyRequiredMixin):
    """The copies of one book, for the desk (``can_manage_inventory``)."""

    def refusal(self) -> StrOrPromise:
        return why_cannot_manage_inventory(self.request.user)

    def books(self) -> QuerySet[Book]:
        # A draft's copies are for those who may see the draft (deny by default: a custom
        # role with the desk but not change_book gets a 404, as on the book's page).
        return Book.objects.visible_to(self.request.user)

    def inventory(self, book: Book, *, form: AddCopiesForm | None = None, **extra: Any) -> dict:
        """The page's context: every copy with whom it is with, in four queries."""
        copies = list(Copy.objects.filter(book=book).order_by("barcode"))
        loans = {
            loan.copy_id: loan
            for loan in Loan.objects.open().filter(book=book).select_related("borrower")
        }
        kept = {
            hold.copy_id: hold
            for hold in Hold.objects.filter(book=book, status=HoldStatus.READY).select_related(
                "member"
            )
        }
        return {
            "book": book,
            "rows": [CopyRow(copy, loans.get(copy.pk), kept.get(copy.pk)) for copy in copies],
            "availability": availability([book.pk])[book.pk],
            "form": form or AddCopiesForm(),
            "max_copies": MAX_COPIES_AT_ONCE,
            "added": set(),  # copies just added (highlighted, focused)
            "focus": None,  # the copy just withdrawn (focused)
            **extra,
        }

    def answer(self, book: Book, **extra: Any) -> HttpResponse:
        """The copies section to htmx, the page to a plain request (a form with errors), or
        back to the page (POST/redirect/GET)."""
        if is_htmx(self.request):
            context = self.inventory(book, **extra)
            return render(self.request, f"{INVENTORY_TEMPLATE}#copies", context)
        if "form" in extra:
            return render(self.request, INVENTORY_TEMPLATE, self.inventory(book, **extra))
        return HttpResponseRedirect(reverse("circulation:inventory", args=[book.pk]))


class InventoryView(InventoryMixin, TemplateView):
    template_name = INVENTORY_TEMPLATE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        book = get_object_or_404(self.books(), pk=self.kwargs["pk"])
        return super().get_context_data(**self.inventory(book), **kwargs)


class AddCopiesView(InventoryMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        book = get_object_or_404(self.books(), pk=self.kwargs["pk"])
        form = AddCopiesForm(request.POST)
        if not form.is_valid():
            return self.answer(book, form=form)
        copies = add_copies(book=book, count=form.cleaned_data["count"], actor=request.user)
        barcodes = [copy.barcode for copy in copies]
        # A long list would fill a phone's screen: the first and the last say the range.
        shown = ", ".join(barcodes) if len(barcodes) <= 3 else f"{barcodes[0]} … {barcodes[-1]}"
        messages.success(
            request,
            ngettext(
                "Added %(n)s copy: %(barcodes)s.", "Added %(n)s copies: %(barcodes)s.", len(copies)
            )
            % {"n": len(copies), "barcodes": shown},
        )
        return self.answer(book, added={copy.pk for copy in copies})


class WithdrawCopyView(InventoryMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        copy = get_object_or_404(
            Copy.objects.filter(book__in=self.books()).select_related("book"), pk=self.kwargs["pk"]
        )
        try:
            copy = withdraw_copy(copy=copy, actor=request.user)
        except CirculationRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("Copy %(barcode)s withdrawn.") % {"barcode": copy.barcode})
        return self.answer(copy.book, focus=copy.pk)
