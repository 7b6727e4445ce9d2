from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

# The client-side event that static/js/app.js turns into toasts.
MESSAGES_EVENT = "bookshelf:messages"


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Deny by default: views need a logged-in user unless marked ``login_not_required``.

    An anonymous htmx request gets ``HX-Redirect`` to the login page (returning to the page
    the user was on), instead of a login page swapped into part of the current one.
    """

    def handle_no_permission(self, request: HttpRequest, view_func: Callable) -> HttpResponse:
        htmx = getattr(request, "htmx", None)
        if not htmx:
            return super().handle_no_permission(request, view_func)
        login_url = resolve_url(self.get_login_url(view_func))
        next_path = htmx.current_url_abs_path or "/"
        redirect = redirect_to_login(
            next_path, login_url, self.get_redirect_field_name(view_func) or REDIRECT_FIELD_NAME
        )
        return HttpResponseClientRedirect(redirect["Location"])


class HtmxMessagesMiddleware:
    """Hands Django messages to htmx requests as an ``HX-Trigger`` event.

    Full page loads render messages in the base template; an htmx response does not
    re-render it, so the messages travel in a header and app.js shows them as toasts.
    Redirects keep their messages for the page they lead to.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or 300 <= response.status_code < 400:
            return response
        if "HX-Redirect" in response or "HX-Location" in response:
            return response
        pending = [
            {"message": str(message), "level": message.level_tag}
            for message in messages.get_messages(request)
        ]
        if pending:
            trigger_client_event(response, MESSAGES_EVENT, {"messages": pending})
        return response
