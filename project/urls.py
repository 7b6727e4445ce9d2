from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("apps.core.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("books/", include("apps.bookshelf.urls")),
    path("", include("apps.circulation.urls")),  # /books/<id>/borrow/, /loans/, …
    path("roles/", include("apps.roles.urls")),
    path("admin/", admin.site.urls),
]

# Django's 400 page, or a toast for an htmx request (htmx swaps 400 bodies).
handler400 = "apps.core.views.bad_request"
