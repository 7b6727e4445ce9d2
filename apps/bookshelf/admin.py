from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Book
from .services import BookActionError, book_apply_action


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "author",
        "publication_year",
        "isbn",
        "is_published",
        "is_archived",
        "is_featured",
        "is_premium",
        "updated_at",
    ]
    list_filter = ["is_published", "is_archived", "is_featured", "is_premium", "publication_year"]
    search_fields = ["title", "author", "isbn"]
    date_hierarchy = "updated_at"
    readonly_fields = [
        "published_at",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "version",
    ]
    # State flags change through the actions (and their permissions), not the form.
    exclude = ["is_published", "is_archived", "is_featured", "is_premium"]
    list_select_related = False
    actions = ["publish_selected", "archive_selected"]

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["bookshelf.change_book", "bookshelf.can_publish_book"])

    def has_archive_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["bookshelf.change_book", "bookshelf.can_archive_book"])

    def _apply(self, request: HttpRequest, queryset: QuerySet[Book], action: str) -> None:
        done = skipped = 0
        for book in queryset:
            try:
                book_apply_action(book=book, action=action, user=request.user)
                done += 1
            except BookActionError:
                skipped += 1
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

    @admin.action(description=_("Publish selected books"), permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Book]) -> None:
        self._apply(request, queryset, "publish")

    @admin.action(description=_("Archive selected books"), permissions=["archive"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Book]) -> None:
        self._apply(request, queryset, "archive")

    def save_model(self, request: HttpRequest, obj: Book, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        else:
            # An admin edit is an edit too: editors holding an older version get a conflict.
            obj.version = F("version") + 1
            obj.updated_at = timezone.now()
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        obj.refresh_from_db(fields=["version"])
