from __future__ import annotations

from django.urls import path

from . import views
from .services import BOOK_ACTIONS

app_name = "bookshelf"

urlpatterns = [
    path("", views.BookListView.as_view(), name="book-list"),
    path("new/", views.BookCreateView.as_view(), name="book-create"),
    path("<int:pk>/", views.BookDetailView.as_view(), name="book-detail"),
    path("<int:pk>/edit/", views.BookUpdateView.as_view(), name="book-update"),
    path("<int:pk>/delete/", views.BookDeleteView.as_view(), name="book-delete"),
    # /books/<id>/publish/, unpublish/, archive/, unarchive/, feature/, unfeature/, premium/
    *(
        path(
            f"<int:pk>/{name}/",
            views.BookActionView.as_view(action=name),
            name=f"book-{name}",
        )
        for name in BOOK_ACTIONS
    ),
]
