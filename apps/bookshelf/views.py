from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group
from django.core.exceptions import BadRequest, ValidationError
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DeleteView, DetailView, FormView, ListView, UpdateView
from django.views.generic.detail import SingleObjectMixin

from apps.core.htmx import is_htmx
from apps.core.ids import parse_id
from apps.core.mixins import HtmxPartialMixin, LenientPaginationMixin, PolicyRequiredMixin
from apps.core.net import safe_next_url
from apps.core.pagination import CachedCountPaginator, NearerEndPaginator
from apps.core.policy import enforce
from apps.core.search import search_text

from .forms import BookDeleteForm, BookForm, BookUpdateForm, RequestChangesForm
from .models import Book, BookEvent, BookStatus
from .policy import (
    refusals,
    sees_unpublished,
    why_cannot_act,
    why_cannot_add,
    why_cannot_delete,
    why_cannot_edit,
    why_cannot_read_history,
    why_cannot_review,
    why_cannot_view,
    why_not_now,
)
from .services import (
    BOOK_ACTIONS,
    BookActionError,
    BookConflictError,
    book_apply_action,
    book_create,
    book_delete,
    book_update,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LIST_TEMPLATE = "bookshelf/book_list.html"
RECENT_EVENTS = 5  # on the book's page; the rest on its history page

# ?sort= values and the ordering each one means; the id keeps pages stable.
SORTS = {
    "title": ("title", "id"),
    "author": ("author", "title", "id"),
    "year": ("publication_year", "title", "id"),
    "updated": ("updated_at", "id"),
}
DEFAULT_SORT = "title"


@dataclass(frozen=True)
class BookListQuery:
    """The list's search, filter and sort, read leniently from the query string:
    an unknown value falls back to the default instead of failing."""

    q: str
    status: str
    sort: str

    @classmethod
    def from_querydict(cls, params: QueryDict) -> BookListQuery:
        status = params.get("status", "")
        sort = params.get("sort", DEFAULT_SORT)
        return cls(
            q=search_text(params),
            status=status if status in BookStatus.values else "",
            sort=sort if sort.removeprefix("-") in SORTS else DEFAULT_SORT,
        )

    @property
    def ordering(self) -> list[str]:
        fields = SORTS[self.sort.removeprefix("-")]
        if self.sort.startswith("-"):
            return [f"-{field}" for field in fields]
        return list(fields)


class CatalogueAccessMixin(PolicyRequiredMixin):
    """Browsing is public while ``BOOKSHELF_PUBLIC_CATALOGUE`` is on (the guide's matrix
    lets anonymous users view books); otherwise it needs login and ``view_book``
    (``policy.why_cannot_view``). Which books each user sees is ``Book.objects.visible_to``."""

    def refusal(self) -> StrOrPromise:
        return why_cannot_view(self.request.user)


class BookListPaginator(CachedCountPaginator, NearerEndPaginator):
    """Far pages read from the nearer end, which needs the exact total: counted once per
    change of the books, not on every page and keystroke."""


@method_decorator(login_not_required, name="dispatch")
class BookListView(CatalogueAccessMixin, HtmxPartialMixin, LenientPaginationMixin, ListView):
    template_name = LIST_TEMPLATE
    partial_name = "book-table"
    context_object_name = "books"
    paginate_by = 25
    paginator_class = BookListPaginator  # every sort ends with the id: a total order

    def get_queryset(self) -> QuerySet[Book]:
        self.query = BookListQuery.from_querydict(self.request.GET)
        return (
            Book.objects.visible_to(self.request.user)
            .search(self.query.q)
            .with_status(self.query.status)
            .order_by(*self.query.ordering)
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        statuses = (
            BookStatus.choices
            if sees_unpublished(self.request.user)
            else [
                (BookStatus.PUBLISHED, BookStatus.PUBLISHED.label),
                (BookStatus.FEATURED, BookStatus.FEATURED.label),
            ]
        )
        page = context["page_obj"]
        with_availability(page.object_list)
        context.update(
            query=self.query,
            statuses=statuses,
            sort_headers=sort_headers(self.query.sort),
            page_range=page.paginator.get_elided_page_range(page.number, on_each_side=2),
            may_add=not why_cannot_add(self.request.user),
        )
        return context


@dataclass(frozen=True)
class SortHeader:
    """One sortable column heading: its link sorts by it, or reverses the current sort."""

    heading: str
    key: str
    current: str  # the list's sort, e.g. "-year"
    newest_first: bool = False  # dates start descending

    @property
    def direction(self) -> str:
        """ "ascending", "descending" (the aria-sort values) or "" when not sorted by it."""
        if self.current == self.key:
            return "ascending"
        if self.current == f"-{self.key}":
            return "descending"
        return ""

    @property
    def next_sort(self) -> str:
        if self.direction == "ascending":
            return f"-{self.key}"
        if self.direction == "descending":
            return self.key
        return f"-{self.key}" if self.newest_first else self.key


def sort_headers(current: str) -> list[SortHeader]:
    return [
        SortHeader(_("Title"), "title", current),
        SortHeader(_("Author"), "author", current),
        SortHeader(_("Year"), "year", current),
        SortHeader(_("Updated"), "updated", current, newest_first=True),
    ]


@method_decorator(login_not_required, name="dispatch")
class BookDetailView(CatalogueAccessMixin, HtmxPartialMixin, DetailView):
    template_name = "bookshelf/book_detail.html"
    # To htmx (the Cancel of an inline edit), the book's row in the list.
    partial_template_name = LIST_TEMPLATE
    partial_name = "book-row"
    context_object_name = "book"

    def get_queryset(self) -> QuerySet[Book]:
        # Hidden books are a 404, not a 403: their existence is not revealed.
        return Book.objects.visible_to(self.request.user).select_related(
            "created_by", "updated_by", "submitted_by"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if not self.wants_partial() and not why_cannot_read_history(user, self.object):
            events = list(BookEvent.objects.of_book(self.object.pk)[: RECENT_EVENTS + 1])
            context.update(
                may_read_history=True,
                recent_events=events[:RECENT_EVENTS],
                more_events=len(events) > RECENT_EVENTS,
                sees_borrowers=sees_borrowers(user),
            )
        if not self.wants_partial():
            # circulation builds on books
            from apps.circulation.panel import circulation_panel
            from apps.circulation.policy import why_cannot_manage_inventory

            # Members see the copies of books in the catalogue; the desk sees every book's.
            if self.object.is_public or not why_cannot_manage_inventory(user):
                context["panel"] = circulation_panel(user, self.object)
        if user.is_authenticated and not self.wants_partial():
            # What else can be done to this book, why this user can't, and which roles can,
            # so nobody wonders about a missing button.
            refused = refusals(user, self.object)
            roles = roles_holding([permission for permission, _reason in refused])
            context["refusals"] = [
                {"reason": reason, "roles": roles[permission]} for permission, reason in refused
            ]
        return context


class BookCreateView(PolicyRequiredMixin, HtmxPartialMixin, CreateView):
    form_class = BookForm
    template_name = "bookshelf/book_form.html"
    partial_template_name = LIST_TEMPLATE
    partial_name = "book-new-form"

    def refusal(self) -> StrOrPromise:
        return why_cannot_add(self.request.user)

    def get_form_kwargs(self) -> dict[str, Any]:
        # The new-book row can be open beside edit rows: ids of its own, so each label
        # points at its own field.
        return {**super().get_form_kwargs(), "auto_id": "new-book-%s"}

    def form_valid(self, form: BookForm) -> HttpResponse:
        try:
            self.object = book_create(fields=form.edited_fields, user=self.request.user)
        except IntegrityError:
            form.add_error("isbn", _("Another book already has this ISBN."))
            return self.form_invalid(form)
        messages.success(self.request, _("Book added"))
        if is_htmx(self.request):
            return render_row(self.request, self.object, highlight=True)
        return HttpResponseRedirect(self.object.get_absolute_url())


class BookUpdateView(PolicyRequiredMixin, HtmxPartialMixin, UpdateView):
    form_class = BookUpdateForm
    context_object_name = "book"
    template_name = "bookshelf/book_form.html"
    partial_template_name = LIST_TEMPLATE
    partial_name = "book-row-form"

    def refusal(self) -> StrOrPromise:
        return why_cannot_edit(self.request.user)

    def get_form_kwargs(self) -> dict[str, Any]:
        # Several rows can be in edit at once, and the new-book row too: ids per book.
        return {**super().get_form_kwargs(), "auto_id": f"book-{self.object.pk}-%s"}

    def get_queryset(self) -> QuerySet[Book]:
        return Book.objects.visible_to(self.request.user)

    def get_object(self, queryset: QuerySet[Book] | None = None) -> Book:
        # The rule about this book (in review: publishers only) before the form opens, not
        # only when it is saved (book_update enforces it again).
        book = super().get_object(queryset)
        enforce(why_cannot_edit(self.request.user, book))
        return book

    def form_valid(self, form: BookUpdateForm) -> HttpResponse:
        try:
            self.object = book_update(
                book=self.object,
                fields=form.edited_fields,
                expected_version=form.cleaned_data["version"],
                user=self.request.user,
            )
        except BookConflictError as conflict:
            return self.render_conflict(form, conflict.current)
        except Book.DoesNotExist:
            raise Http404 from None
        except IntegrityError:
            form.add_error("isbn", _("Another book already has this ISBN."))
            return self.form_invalid(form)
        messages.success(self.request, _("Book saved"))
        if is_htmx(self.request):
            return render_row(self.request, self.object)
        return HttpResponseRedirect(safe_next_url(self.request, self.object.get_absolute_url()))

    def render_conflict(self, form: BookUpdateForm, current: Book) -> HttpResponse:
        """Show the current values and keep the editor's own, ready to apply again."""
        self.object = current
        context = self.get_context_data(form=form.with_version(current.version), conflict=current)
        return self.render_to_response(context, status=conflict_status(self.request))


class BookDeleteView(PolicyRequiredMixin, HtmxPartialMixin, DeleteView):
    form_class = BookDeleteForm
    context_object_name = "book"
    template_name = "bookshelf/book_confirm_delete.html"
    partial_template_name = LIST_TEMPLATE
    partial_name = "book-row-delete"
    success_url = reverse_lazy("bookshelf:book-list")

    def refusal(self) -> StrOrPromise:
        return why_cannot_delete(self.request.user)

    def get_queryset(self) -> QuerySet[Book]:
        return Book.objects.visible_to(self.request.user)

    def get_initial(self) -> dict[str, Any]:
        return {"version": self.object.version}

    def form_valid(self, form: BookDeleteForm) -> HttpResponse:
        title = self.object.title
        try:
            book_delete(
                book=self.object,
                expected_version=form.cleaned_data["version"],
                user=self.request.user,
            )
        except BookConflictError as conflict:
            # Changed since the confirmation was shown: ask again about the book as it is.
            self.object = conflict.current
            form = self.get_form_class()(initial={"version": conflict.current.version})
            context = self.get_context_data(form=form, conflict=conflict.current)
            return self.render_to_response(context, status=conflict_status(self.request))
        except Book.DoesNotExist:
            raise Http404 from None
        messages.success(self.request, _("“%(title)s” deleted") % {"title": title})
        if is_htmx(self.request):
            return HttpResponse("")  # the row is swapped for nothing: it disappears
        return HttpResponseRedirect(safe_next_url(self.request, str(self.success_url)))


class BookActionView(PolicyRequiredMixin, SingleObjectMixin, FormView):
    """POST-only state changes (submit, approve, archive, …): ``services.BOOK_ACTIONS``,
    each with its rule in ``policy.ACTION_RULES``. An htmx post from the book list gets the
    row back; from the review queue, the queue's row (or nothing once the book has left the
    queue). A refusal about this one book (four eyes) is the service's ``PolicyDenied``: a
    403 with its sentence, a toast under htmx."""

    action: str = ""
    form_class = forms.Form
    http_method_names = ["post"]

    def refusal(self) -> StrOrPromise:
        return why_cannot_act(self.request.user, self.action)

    def get_queryset(self) -> QuerySet[Book]:
        return Book.objects.visible_to(self.request.user)

    def form_valid(self, form: forms.Form) -> HttpResponse:
        return self.apply(self.get_object())

    def seen_version(self) -> int | None:
        """The version the page showed (its forms send it); None from a client that sent
        none, which acts on the book as it is. A malformed one is a bad request."""
        posted = self.request.POST.get("version")
        if posted is None:
            return None
        version = parse_id(posted)
        if version is None:
            raise BadRequest("The form is incomplete. Reload the page and try again.")
        return version

    def apply(self, book: Book, comment: str = "") -> HttpResponse:
        try:
            book = book_apply_action(
                book=book,
                action=self.action,
                user=self.request.user,
                comment=comment,
                expected_version=self.seen_version(),
            )
        except BookActionError as refusal:
            messages.error(self.request, str(refusal))
            book = refusal.current
        except Book.DoesNotExist:
            raise Http404 from None
        else:
            messages.success(self.request, str(BOOK_ACTIONS[self.action].success))
        return respond_with_book(self.request, book)


class RequestChangesView(HtmxPartialMixin, BookActionView):
    """Send a book in review back to its submitter with a comment (required). GET shows the
    form: a page of its own, or under htmx the row's inline form."""

    action = "request_changes"
    form_class = RequestChangesForm
    http_method_names = ["get", "post"]
    template_name = "bookshelf/book_request_changes.html"
    partial_template_name = LIST_TEMPLATE
    partial_name = "book-row-request-changes"
    context_object_name = "book"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # No form for a book that is not in review: the sentence says why instead.
        return super().get_context_data(not_now=why_not_now(self.action, self.object), **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: forms.Form) -> HttpResponse:
        try:
            return self.apply(self.object, comment=form.cleaned_data["comment"])
        except ValidationError as error:
            form.add_error("comment", error)
            return self.form_invalid(form)

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        if is_htmx(self.request) and from_review_queue(self.request):
            return render(
                self.request,
                "bookshelf/review_queue.html#review-row",
                {"book": self.object, "form": form, "waiting_since": self.object.submitted_at},
            )
        return super().form_invalid(form)


def from_review_queue(request: HttpRequest) -> bool:
    """An htmx request made from a row of the review queue (its target is that row)."""
    return is_htmx(request) and (request.htmx.target or "").startswith("review-")


def respond_with_book(request: HttpRequest, book: Book) -> HttpResponse:
    """After a state change: the list's row or the queue's (htmx), else back to the page."""
    if from_review_queue(request):
        if not book.is_in_review:
            return HttpResponse("")  # it has left the queue: its row disappears
        return render(request, "bookshelf/review_queue.html#review-row", {"book": book})
    if is_htmx(request):
        return render_row(request, book)
    return HttpResponseRedirect(safe_next_url(request, book.get_absolute_url()))


class ReviewQueueView(PolicyRequiredMixin, LenientPaginationMixin, ListView):
    """Books waiting for a publisher, oldest submission first (``can_publish_book``)."""

    template_name = "bookshelf/review_queue.html"
    context_object_name = "books"
    paginate_by = 25

    def refusal(self) -> StrOrPromise:
        return why_cannot_review(self.request.user)

    def get_queryset(self) -> QuerySet[Book]:
        return Book.objects.in_review().select_related("submitted_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["form"] = RequestChangesForm()
        return context


class BookHistoryView(PolicyRequiredMixin, LenientPaginationMixin, ListView):
    """Everything that happened to one book, newest first (``why_cannot_read_history``)."""

    template_name = "bookshelf/book_history.html"
    context_object_name = "events"
    paginate_by = 50

    def refusal(self) -> StrOrPromise:
        return why_cannot_read_history(self.request.user)

    def get_queryset(self) -> QuerySet[BookEvent]:
        # A book that is gone (or hidden from this user) has no page: 404.
        self.book = get_object_or_404(
            Book.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
        )
        return BookEvent.objects.of_book(self.book.pk)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            book=self.book, sees_borrowers=sees_borrowers(self.request.user), **kwargs
        )


def conflict_status(request: HttpRequest) -> int:
    """409 for a plain request; for htmx a 200: the conflict is an ordinary outcome the form
    explains, and Chromium logs every 4xx answer to a script's request as a console error."""
    return HTTPStatus.OK if is_htmx(request) else HTTPStatus.CONFLICT


def render_row(request: HttpRequest, book: Book, *, highlight: bool = False) -> HttpResponse:
    with_availability([book])
    return render(request, f"{LIST_TEMPLATE}#book-row", {"book": book, "highlight": highlight})


def sees_borrowers(user: Any) -> bool:
    """Whether the history may name borrowers (circulation's rule)."""
    from apps.circulation.policy import sees_borrowers as rule  # circulation builds on books

    return rule(user)


def with_availability(books: Any) -> None:
    """Set ``book.availability`` ("2 of 3 available") on each book, in two queries."""
    from apps.circulation.services import availability  # circulation builds on books

    books = list(books)
    counts = availability([book.pk for book in books])
    for book in books:
        book.availability = counts[book.pk]


def roles_holding(permissions: list[str]) -> dict[str, list[str]]:
    """The roles (group names) holding each permission ("app.codename"), in one query."""
    found: dict[str, list[str]] = {permission: [] for permission in permissions}
    codenames = [permission.split(".", 1)[1] for permission in permissions]
    groups = Group.objects.filter(
        permissions__content_type__app_label="bookshelf", permissions__codename__in=codenames
    ).values_list("permissions__codename", "name")
    for codename, name in groups.order_by("name"):
        found[f"bookshelf.{codename}"].append(name)
    return found
