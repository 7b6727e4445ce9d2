from __future__ import annotations

from django.apps import AppConfig


class BookshelfConfig(AppConfig):
    name = "apps.bookshelf"
    label = "bookshelf"
    verbose_name = "Bookshelf"
