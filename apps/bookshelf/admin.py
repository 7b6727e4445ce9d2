from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.ids import parse_id
from apps.core.policy import PolicyDenied

from .models import Book, BookQuerySet
from .policy import why_cannot_act
from .services import (
    BookActionError,
    BookConflictError,
    book_apply_action,
    book_create,
    book_delete,
    book_update,
)


class BookAdminForm(forms.ModelForm):
    """The admin's book form, with the version the editor loaded: saving over a newer one
    is refused (optimistic locking, as in the app), never a silent overwrite."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Book
        # The admin's own form fields; state flags change through actions (see below).
        fields = ["title", "author", "isbn", "publication_year", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.fields["loaded_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not self.instance.pk:
            return cleaned
        # Locked until the admin's save commits (changeform_view runs in one transaction),
        # so nobody can slip in between this check and the save on PostgreSQL.
        current = (
            Book.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .filter(pk=self.instance.pk)
            .first()
        )
        if current is None:
            raise forms.ValidationError(
                _("This book was deleted while you were editing. Nothing was saved."),
                code="deleted",
            )
        loaded = cleaned.get("loaded_version")
        if loaded == current.version:
            return cleaned
        # Keep what the editor typed; saving again applies it over the current version.
        self.data = {**dict(self.data.items()), "loaded_version": str(current.version)}
        if loaded is None:
            raise forms.ValidationError(
                _(
                    "This form is incomplete (it does not say which version you edited). "
                    "Reload the page and make your change again."
                ),
                code="incomplete",
            )
        raise forms.ValidationError(
            _(
                "Changed by %(who)s %(when)s ago while you were editing. It now reads: "
                "“%(title)s” by %(author)s, ISBN %(isbn)s, %(year)s. Nothing was overwritten. "
                "Save again to apply your version over it."
            ),
            code="conflict",
            params={
                "who": current.updated_by or _("someone else"),
                "when": timesince(current.updated_at),
                "title": current.title,
                "author": current.author,
                "isbn": current.isbn or "—",
                "year": current.publication_year,
            },
        )


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "author",
        "publication_year",
        "isbn",
        "is_published",
        "is_in_review",
        "is_archived",
        "is_featured",
        "is_premium",
        "updated_at",
    ]
    list_filter = [
        "is_published",
        "is_in_review",
        "is_archived",
        "is_featured",
        "is_premium",
        "publication_year",
    ]
    search_fields = ["title", "author", "isbn"]
    date_hierarchy = "updated_at"
    readonly_fields = [
        "published_at",
        "submitted_at",
        "submitted_by",
        "review_comment",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "version",
    ]
    # State flags change through the actions (and their permissions), not the form; the
    # review goes through the app's review queue.
    exclude = ["is_published", "is_in_review", "is_archived", "is_featured", "is_premium"]
    list_select_related = False
    actions = ["approve_selected", "archive_selected"]
    form = BookAdminForm

    # The admin asks the same rules as the app (policy.py), about the one book when there is
    # one: user.has_perm(..., book) goes to them through django-rules.
    def has_change_permission(self, request: HttpRequest, obj: Book | None = None) -> bool:
        return request.user.has_perm("bookshelf.change_book", obj)

    def has_delete_permission(self, request: HttpRequest, obj: Book | None = None) -> bool:
        return request.user.has_perm("bookshelf.delete_book", obj)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return not why_cannot_act(request.user, "approve")

    def has_archive_permission(self, request: HttpRequest) -> bool:
        return not why_cannot_act(request.user, "archive")

    def _apply(self, request: HttpRequest, queryset: QuerySet[Book], action: str) -> None:
        done = skipped = 0
        refused: list[str] = []
        for book in queryset:
            try:
                book_apply_action(book=book, action=action, user=request.user)
                done += 1
            except (BookActionError, Book.DoesNotExist):  # changed or deleted meanwhile
                skipped += 1
            except PolicyDenied as refusal:  # about this book: its submitter never approves
                refused.append(f"“{book.title}”: {refusal}")
        for sentence in refused:
            self.message_user(request, sentence, messages.ERROR)
        self.message_user(
            request,
            ngettext("%(count)d book updated.", "%(count)d books updated.", done) % {"count": done},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d book skipped: it was not in a state this applies to.",
                    "%(count)d books skipped: they were not in a state this applies to.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(
        description=_("Approve and publish selected books (in review)"), permissions=["approve"]
    )
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Book]) -> None:
        self._apply(request, queryset, "approve")

    @admin.action(description=_("Archive selected books"), permissions=["archive"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Book]) -> None:
        self._apply(request, queryset, "archive")

    def save_model(self, request: HttpRequest, obj: Book, form: Any, change: bool) -> None:
        # Through the app's services: the same rules, and an edit applies only to the
        # version the form was checked against (BookConflictError otherwise).
        model_fields = {field.name for field in Book._meta.concrete_fields}
        fields = {
            name: form.cleaned_data[name] for name in form.cleaned_data if name in model_fields
        }
        if change:
            book = book_update(
                book=obj,
                fields=fields,
                expected_version=form.cleaned_data.get("loaded_version"),
                user=request.user,
            )
        else:
            book = book_create(fields=fields, user=request.user)
        obj.pk = book.pk
        obj.refresh_from_db()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Book]:
        # The same books as in the app: drafts and archived ones only for those who may
        # see them (policy.sees_unpublished).
        return cast(BookQuerySet, super().get_queryset(request)).visible_to(request.user)

    def delete_model(self, request: HttpRequest, obj: Book) -> None:
        # The version the confirmation page showed (its template adds it; delete_view
        # refuses a form without it): a book changed since is not deleted
        # (BookConflictError, answered by delete_view).
        loaded = parse_id(request.POST.get("loaded_version", ""))
        book_delete(book=obj, expected_version=loaded or 0, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Book]) -> None:
        # "Delete selected": each book as this request read it (the bulk confirmation page
        # does not show versions), through the same service and rule.
        with transaction.atomic():  # all or nothing
            for book in queryset:
                book_delete(book=book, expected_version=book.version, user=request.user)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST" and not parse_id(request.POST.get("loaded_version", "")):
            self.message_user(
                request,
                _(
                    "This form is incomplete (it does not say which version you confirmed). "
                    "Nothing was deleted; confirm again."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        try:
            return super().delete_view(request, object_id, extra_context)
        except Book.DoesNotExist:
            self.message_user(request, _("This book was already deleted."), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:bookshelf_book_changelist"))
        except PolicyDenied as refusal:  # about this book: its copies are on loan
            self.message_user(request, str(refusal), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:bookshelf_book_change", args=[object_id]))
        except BookConflictError as conflict:
            self.message_user(
                request,
                _(
                    "Changed by %(who)s %(when)s ago since the confirmation was shown; nothing "
                    "was deleted. Here it is as it is now."
                )
                % {
                    "who": conflict.current.updated_by or _("someone else"),
                    "when": timesince(conflict.current.updated_at),
                },
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:bookshelf_book_change", args=[conflict.current.pk])
            )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)
        except PolicyDenied as refusal:  # "Delete selected" met a book with copies on loan
            self.message_user(request, f"{refusal} {_('Nothing was deleted.')}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        except (BookConflictError, Book.DoesNotExist):
            # "Delete selected" met a book changed or deleted since the confirmation page;
            # the deletion is all or nothing, so nothing was deleted.
            self.message_user(
                request,
                _(
                    "A selected book was changed or deleted by someone else meanwhile; "
                    "nothing was deleted. Check the list and select again."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BookConflictError:
            # Someone saved between the form's check and this save: nothing was written
            # (the conditional UPDATE matched no row); show the book as it is now.
            self.message_user(
                request,
                _(
                    "Someone else saved this book at the same moment. Nothing was overwritten: "
                    "here it is as it is now; make your change again."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
