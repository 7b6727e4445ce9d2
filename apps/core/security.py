"""Security headers, caching rules, session lifetimes and the `security` log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from .net import client_ip

security_log = logging.getLogger("security")

# Session keys.
AUTHENTICATED_AT = "bookshelf_authenticated_at"  # when the password was last entered
SESSION_STARTED_AT = "bookshelf_session_started_at"
LAST_SEEN_AT = "bookshelf_last_seen_at"


def log_event(event: str, request: HttpRequest | None = None, **fields: Any) -> None:
    """One structured record on the `security` logger. Never pass secrets in ``fields``."""
    record: dict[str, Any] = {"event": event}
    if request is not None:
        user = getattr(request, "user", None)
        record["user"] = user.get_username() if user and user.is_authenticated else None
        record["ip"] = client_ip(request)
        record["path"] = request.path
    record.update(fields)
    security_log.info(event, extra={"security": record})


class SecurityHeadersMiddleware:
    """Headers Django has no setting for, on every response (static files included: it sits
    above whitenoise): Cross-Origin-Resource-Policy, Cross-Origin-Embedder-Policy and the
    Reporting-Endpoints header django-csp does not send. Dynamic pages are never cached:
    they carry private data and a one-time CSP nonce."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("X-Frame-Options", "DENY")  # for static files too
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.setdefault("Cross-Origin-Embedder-Policy", "require-corp")
        response.setdefault(
            "Reporting-Endpoints",
            f'csp-endpoint="{request.build_absolute_uri(settings.CSP_REPORT_PATH)}"',
        )
        if not request.path.startswith(settings.STATIC_URL) and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response


class SessionLifetimeMiddleware:
    """Idle timeout and absolute lifetime for signed-in sessions.

    The session's expiry (SESSION_COOKIE_AGE, the idle timeout) is pushed forward by saving
    it at most once a minute while the user is active, instead of on every request. After
    SESSION_ABSOLUTE_LIFETIME seconds from login the user is logged out whatever they do.
    """

    SAVE_EVERY_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            # Sessions from before this rule start counting now.
            started = request.session.setdefault(SESSION_STARTED_AT, now)
            if now - started > settings.SESSION_ABSOLUTE_LIFETIME:
                log_event("session_expired", request, reason="absolute lifetime")
                logout(request)
            elif now - request.session.get(LAST_SEEN_AT, 0) > self.SAVE_EVERY_SECONDS:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="bookshelf-login")
def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[SESSION_STARTED_AT] = now
    request.session[LAST_SEEN_AT] = now
    request.session[AUTHENTICATED_AT] = now
    log_event("login_succeeded", request, user=user.get_username())


@receiver(user_login_failed, dispatch_uid="bookshelf-login-failed")
def on_login_failed(
    sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # `credentials` is already cleansed by Django (the password is masked); keep the login only.
    log_event("login_failed", request, login=credentials.get("username"))


@receiver(user_logged_out, dispatch_uid="bookshelf-logout")
def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None:
        log_event("logout", request, user=user.get_username() if user else None)


@receiver(user_locked_out, dispatch_uid="bookshelf-locked-out")
def on_locked_out(
    sender: Any, request: HttpRequest, username: str | None = None, **kwargs: Any
) -> None:
    log_event("lockout", request, login=username)
