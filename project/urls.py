from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("apps.core.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("books/", include("apps.bookshelf.urls")),
    path("roles/", include("apps.roles.urls")),
    path("admin/", admin.site.urls),
]
