from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin as DjangoPermissionRequiredMixin
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DeleteView, DetailView, FormView, ListView, UpdateView
from django.views.generic.detail import SingleObjectMixin

from apps.core.htmx import is_htmx
from apps.core.mixins import (
    HtmxAccessMixin,
    HtmxPartialMixin,
    LenientPaginationMixin,
    PermissionRequiredMixin,
)
from apps.core.net import safe_next_url
from apps.core.search import search_text

from .forms import BookForm, BookUpdateForm
from .models import Book, BookStatus
from .services import (
    BOOK_ACTIONS,
    BookAction,
    BookActionError,
    BookConflictError,
    book_apply_action,
    book_update,
)

LIST_TEMPLATE = "bookshelf/book_list.html"

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


class CatalogueAccessMixin(HtmxAccessMixin, DjangoPermissionRequiredMixin):
    """Browsing is public while ``BOOKSHELF_PUBLIC_CATALOGUE`` is on (the guide's matrix
    lets anonymous users view books); otherwise it needs login and ``view_book``.
    What each user may see is decided by ``Book.objects.visible_to``."""

    permission_required = "bookshelf.view_book"

    def has_permission(self) -> bool:
        return settings.BOOKSHELF_PUBLIC_CATALOGUE or super().has_permission()


@method_decorator(login_not_required, name="dispatch")
class BookListView(CatalogueAccessMixin, HtmxPartialMixin, LenientPaginationMixin, ListView):
    template_name = LIST_TEMPLATE
    partial_name = "book-table"
    context_object_name = "books"
    paginate_by = 25

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
        may_change = self.request.user.has_perm("bookshelf.change_book")
        statuses = (
            BookStatus.choices
            if may_change
            else [
                (BookStatus.PUBLISHED, BookStatus.PUBLISHED.label),
                (BookStatus.FEATURED, BookStatus.FEATURED.label),
            ]
        )
        page = context["page_obj"]
        context.update(
            query=self.query,
            statuses=statuses,
            sort_headers=sort_headers(self.query.sort),
            page_range=page.paginator.get_elided_page_range(page.number, on_each_side=2),
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
        return Book.objects.visible_to(self.request.user).select_related("created_by", "updated_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if user.is_authenticated and not self.wants_partial():
            # Say what else exists and which roles can do it, so nobody wonders about a
            # missing button.
            permissions = (
                Permission.objects.filter(
                    content_type__app_label="bookshelf", content_type__model="book"
                )
                .order_by("id")
                .prefetch_related(Prefetch("group_set", queryset=Group.objects.order_by("name")))
            )
            context["missing_permissions"] = [
                {"name": p.name, "roles": [g.name for g in p.group_set.all()]}
                for p in permissions
                if not user.has_perm(f"bookshelf.{p.codename}")
            ]
        return context


class BookCreateView(PermissionRequiredMixin, HtmxPartialMixin, CreateView):
    permission_required = "bookshelf.add_book"
    permission_denied_message = _("You don't have permission to add books.")
    form_class = BookForm
    template_name = "bookshelf/book_form.html"
    partial_template_name = LIST_TEMPLATE
    partial_name = "book-new-form"

    def form_valid(self, form: BookForm) -> HttpResponse:
        form.instance.created_by = form.instance.updated_by = self.request.user
        try:
            self.object = form.save()
        except IntegrityError:
            form.add_error("isbn", _("Another book already has this ISBN."))
            return self.form_invalid(form)
        messages.success(self.request, _("Book added"))
        if is_htmx(self.request):
            return render_row(self.request, self.object, highlight=True)
        return HttpResponseRedirect(self.object.get_absolute_url())


class BookUpdateView(PermissionRequiredMixin, HtmxPartialMixin, UpdateView):
    permission_required = "bookshelf.change_book"
    permission_denied_message = _("You don't have permission to edit books.")
    form_class = BookUpdateForm
    context_object_name = "book"
    template_name = "bookshelf/book_form.html"
    partial_template_name = LIST_TEMPLATE
    partial_name = "book-row-form"

    def get_queryset(self) -> QuerySet[Book]:
        return Book.objects.visible_to(self.request.user)

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
        return self.render_to_response(context, status=409)


class BookDeleteView(PermissionRequiredMixin, HtmxPartialMixin, DeleteView):
    permission_required = "bookshelf.delete_book"
    permission_denied_message = _("You don't have permission to delete books.")
    context_object_name = "book"
    template_name = "bookshelf/book_confirm_delete.html"
    partial_template_name = LIST_TEMPLATE
    partial_name = "book-row-delete"
    success_url = reverse_lazy("bookshelf:book-list")

    def get_queryset(self) -> QuerySet[Book]:
        # delete_book without change_book reaches only the books that user can see.
        return Book.objects.visible_to(self.request.user)

    def form_valid(self, form: forms.Form) -> HttpResponse:
        title = self.object.title
        self.object.delete()
        messages.success(self.request, _("“%(title)s” deleted") % {"title": title})
        if is_htmx(self.request):
            return HttpResponse("")  # the row is swapped for nothing: it disappears
        return HttpResponseRedirect(safe_next_url(self.request, str(self.success_url)))


class BookActionView(PermissionRequiredMixin, SingleObjectMixin, FormView):
    """POST-only state changes (publish, archive, …), declared in ``services.BOOK_ACTIONS``."""

    action: str = ""
    form_class = forms.Form
    http_method_names = ["post"]

    @property
    def spec(self) -> BookAction:
        return BOOK_ACTIONS[self.action]

    def get_queryset(self) -> QuerySet[Book]:
        return Book.objects.visible_to(self.request.user)

    def get_permission_required(self) -> tuple[str, ...]:
        return self.spec.permissions

    def get_permission_denied_message(self) -> str:
        return str(self.spec.denied)

    def form_valid(self, form: forms.Form) -> HttpResponse:
        book = self.get_object()
        try:
            book = book_apply_action(book=book, action=self.action, user=self.request.user)
        except BookActionError as refusal:
            messages.error(self.request, str(refusal))
            book = refusal.current
        except Book.DoesNotExist:
            raise Http404 from None
        else:
            messages.success(self.request, str(self.spec.success))
        if is_htmx(self.request):
            return render_row(self.request, book)
        return HttpResponseRedirect(safe_next_url(self.request, book.get_absolute_url()))


def render_row(request: Any, book: Book, *, highlight: bool = False) -> HttpResponse:
    return render(request, f"{LIST_TEMPLATE}#book-row", {"book": book, "highlight": highlight})
