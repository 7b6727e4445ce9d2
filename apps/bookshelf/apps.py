from __future__ import annotations

from django.apps import AppConfig


class BookshelfConfig(AppConfig):
    name = "apps.bookshelf"
    label = "bookshelf"
    verbose_name = "Bookshelf"

    def ready(self) -> None:
        from apps.core.counting import track_changes

        # Registers the book rules with django-rules (user.has_perm("bookshelf.…", book)).
        from . import policy  # noqa: F401

        # The list's "of 100,000" is counted once per change of the books (apps.core.counting).
        track_changes(self.get_model("Book"))
