from __future__ import annotations

from django.urls import path

from . import views
from .services import BOOK_ACTIONS

app_name = "bookshelf"

urlpatterns = [
    path("", views.BookListView.as_view(), name="book-list"),
    path("review/", views.ReviewQueueView.as_view(), name="review-queue"),
    path("new/", views.BookCreateView.as_view(), name="book-create"),
    path("<int:pk>/", views.BookDetailView.as_view(), name="book-detail"),
    path("<int:pk>/edit/", views.BookUpdateView.as_view(), name="book-update"),
    path("<int:pk>/delete/", views.BookDeleteView.as_view(), name="book-delete"),
    path("<int:pk>/history/", views.BookHistoryView.as_view(), name="book-history"),
    path(
        "<int:pk>/request-changes/",
        views.RequestChangesView.as_view(),
        name="book-request-changes",
    ),
    # /books/<id>/submit/, approve/, withdraw/, unpublish/, archive/, unarchive/, feature/,
    # unfeature/, premium/
    *(
        path(
            f"<int:pk>/{action.slug}/",
            views.BookActionView.as_view(action=name),
            name=f"book-{action.slug}",
        )
        for name, action in BOOK_ACTIONS.items()
        if not action.needs_comment
    ),
    # The old way to publish: it approves a book in review, and refuses a draft ("Submit it
    # for review first"): nothing reaches the catalogue without a second person.
    path("<int:pk>/publish/", views.BookActionView.as_view(action="approve"), name="book-publish"),
]
