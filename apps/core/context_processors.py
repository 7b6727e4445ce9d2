from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .htmx import browser_path


def return_to(request: HttpRequest) -> dict[str, Any]:
    """``return_to``: the page the user is looking at, for ``next`` fields in forms.

    For an htmx request that is the browser's page (HX-Current-URL), not the fragment URL.
    """

    def current_page() -> str:
        return browser_path(request) or request.get_full_path()

    return {"return_to": SimpleLazyObject(current_page)}


def site(request: HttpRequest) -> dict[str, Any]:
    """Product switches templates need (the navbar shows Books to visitors when public)."""
    return {"public_catalogue": settings.BOOKSHELF_PUBLIC_CATALOGUE}
