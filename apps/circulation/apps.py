from __future__ import annotations

from django.apps import AppConfig


class CirculationConfig(AppConfig):
    """Copies, loans and holds: the guide's library example, done for real. Its permissions
    are the guide's own names on the book (``bookshelf.can_borrow_book`` …)."""

    name = "apps.circulation"
    label = "circulation"
    verbose_name = "Circulation"

    def ready(self) -> None:
        # The rules about one book or loan, for user.has_perm(perm, obj) (django-rules).
        from . import policy  # noqa: F401
