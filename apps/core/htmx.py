"""Responses for htmx requests that did not go as planned: refusals, missing rows, logins."""

from __future__ import annotations

from http import HTTPStatus
from typing import TypeGuard

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's ``HtmxMiddleware`` leaves it: with ``request.htmx``.

    For type checking only (the middleware sets the attribute on Django's own request
    objects); ``is_htmx`` narrows an ``HttpRequest`` to this type.
    """

    htmx: HtmxDetails


def is_htmx(request: HttpRequest) -> TypeGuard[HtmxHttpRequest]:
    """The one way to ask whether htmx made this request (django-htmx's ``request.htmx``).

    It takes any request (one that skipped the middleware has no ``htmx``: False), and
    where it says True the type checker knows ``request.htmx`` is there.
    """
    return bool(getattr(request, "htmx", False))


def browser_path(request: HttpRequest) -> str | None:
    """For an htmx request, the path of the page in the browser (``HX-Current-URL``, only
    when it is on this site); None otherwise. The request's own URL is a fragment's.

    Takes any request (context processors and sudo mode ask it of every one)."""
    return request.htmx.current_url_abs_path if is_htmx(request) else None


def page_redirect(request: HttpRequest, target: str) -> HttpResponseBase:
    """Send the browser to ``target``: a plain redirect, or for htmx ``HX-Redirect`` (a
    redirect would be followed by htmx and swapped into the fragment)."""
    if is_htmx(request):
        return HttpResponseClientRedirect(target)
    return HttpResponseRedirect(target)


def htmx_login_redirect(
    request: HtmxHttpRequest, login_url: str, redirect_field_name: str
) -> HttpResponseClientRedirect:
    """Send the browser (not the fragment) to the login page, then back to the page the
    user was on: the URL of an htmx request is a fragment's, not a page's."""
    next_path = browser_path(request) or "/"
    redirect = redirect_to_login(next_path, login_url, redirect_field_name)
    return HttpResponseClientRedirect(redirect["Location"])


def toast_response(
    request: HtmxHttpRequest,
    message: str,
    *,
    level: str = "danger",
    status: int = HTTPStatus.FORBIDDEN,
) -> HttpResponse:
    """A toast appended to the messages area, whatever element made the request.

    htmx is configured (base.html) to swap 400, 403, 404 and 409 bodies, so the refusal
    shows up as a toast rather than a full error page inside a table row.
    """
    response = render(
        request, "includes/toast.html", {"level": level, "text": message}, status=status
    )
    return reswap(retarget(response, "#toasts"), "beforeend")
