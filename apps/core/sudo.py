"""Sudo mode: sensitive actions need the password entered within the last few minutes."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.http import urlencode

from .htmx import browser_path, page_redirect
from .net import is_own_url
from .security import AUTHENTICATED_AT, log_event

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def sudo_is_fresh(request: HttpRequest) -> bool:
    entered = request.session.get(AUTHENTICATED_AT, 0)
    return time.time() - entered <= settings.BOOKSHELF_SUDO_SECONDS


def sudo_renew(request: HttpRequest) -> None:
    """The user just typed their password."""
    request.session[AUTHENTICATED_AT] = time.time()


def confirm_password_url(next_path: str) -> str:
    return f"{reverse('accounts:confirm-password')}?{urlencode({'next': next_path})}"


def _return_path(request: HttpRequest) -> str:
    """The page to come back to: the browser's page, not the URL of the refused POST."""
    page = browser_path(request)
    if page:
        return page
    referer = request.META.get("HTTP_REFERER", "")
    if is_own_url(request, referer):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.get_full_path() if request.method in SAFE_METHODS else "/"


class SudoRequiredMixin:
    """Changes (any method but GET/HEAD/OPTIONS) need a recent password; otherwise the user
    confirms it and comes back to the page to repeat the action. htmx gets HX-Redirect."""

    # The signature of Django's View.dispatch (and of LoginRequiredMixin's), so a view may
    # combine this mixin with Django's access mixins.
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if (
            request.method not in SAFE_METHODS
            and request.user.is_authenticated
            and not sudo_is_fresh(request)
        ):
            log_event("sudo_required", request)
            return page_redirect(request, confirm_password_url(_return_path(request)))
        # A mixin: the view class after it in the MRO has dispatch, which mypy cannot see.
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
