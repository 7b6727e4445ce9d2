from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers


class HtmxPartialMixin:
    """Serve the page, or one named partial of its template to an htmx request.

    ``partial_name`` names a ``{% partialdef %}`` in ``template_name``. A history-restore
    request (the user pressed Back and htmx has no cached copy) gets the full page.
    """

    partial_name: str | None = None

    def get_partial_name(self) -> str | None:
        return self.partial_name

    def wants_partial(self) -> bool:
        htmx = getattr(self.request, "htmx", None)  # type: ignore[attr-defined]
        return bool(htmx) and not htmx.history_restore_request and bool(self.get_partial_name())

    def get_template_names(self) -> list[str]:
        names: list[str] = super().get_template_names()  # type: ignore[misc]
        if self.wants_partial():
            return [f"{name}#{self.get_partial_name()}" for name in names]
        return names

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)  # type: ignore[misc]
        # The same URL answers with a page or a fragment: caches must keep them apart.
        patch_vary_headers(response, ["HX-Request"])
        return response
