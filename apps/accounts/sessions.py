"""A user's sessions: where they are signed in, and ending them.

Sessions are django-qsessions' (``SESSION_ENGINE``): Django's session table with the user,
IP address and browser of each row, so a user's sessions are one indexed query away, and
ending one deletes its row (and its cache entry, with ``cached_db``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.exceptions import SessionInterrupted
from django.core.cache import caches
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from qsessions.middleware import SessionMiddleware as QSessionsMiddleware
from qsessions.models import Session

from apps.core.net import client_ip

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SessionMiddleware(QSessionsMiddleware):
    """qsessions' middleware records the TCP peer (REMOTE_ADDR); behind our TLS proxy that
    is the proxy. The IP recorded is the one django-axes and the audit trail read."""

    def process_request(self, request: HttpRequest) -> None:
        request.session = self.SessionStore(
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent") or None,
            session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME),
        )

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except SessionInterrupted:
            # The session was ended while this request ran: an admin deactivated their own
            # account (which signs the user out everywhere), or it was signed out from
            # another browser. Django answers 400; they are signed out, so the login page.
            redirect = HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
            redirect.delete_cookie(
                settings.SESSION_COOKIE_NAME,
                path=settings.SESSION_COOKIE_PATH,
                domain=settings.SESSION_COOKIE_DOMAIN,
            )
            return redirect


def device_label(session: Session) -> str:
    """The browser and system, as qsessions parses them from the user agent, without its
    "Other" for a device it cannot name (every desktop): "Linux / Firefox 133.0"."""
    parts = [part.strip() for part in session.device.split(" / ")]
    return " / ".join(part for part in parts if part and part != "Other")


def sessions_of(user: Any) -> list[Session]:
    """The user's sessions that have not expired, the most recently used first."""
    return list(
        Session.objects.filter(user_id=user.pk, expire_date__gt=timezone.now()).order_by(
            "-updated_at", "-created_at"
        )
    )


def public_id(session: Session) -> str:
    """What a page names a session by. Never its key: the key is the session (whoever
    reads it off a page is signed in), so pages carry a keyed hash of it instead."""
    return salted_hmac("bookshelf.accounts.sessions", session.session_key).hexdigest()[:32]


def why_cannot_end(user: Any, session: Session | None, current_key: str | None) -> StrOrPromise:
    """Ending a session from the list is for its owner (an admin deactivates the user
    instead), and not for the one in use (that is "Log out"). Someone else's session, or
    one that has ended, is not found."""
    if session is None or session.user_id != user.pk:
        return _("This session has already ended.")
    if session.session_key == current_key:
        return _("This is the session you are using: “Log out” ends it.")
    return ""


def find_session(user: Any, session_id: str) -> Session | None:
    """The user's session named ``session_id`` on their sessions page, if it still exists."""
    for session in sessions_of(user):
        if constant_time_compare(public_id(session), session_id):
            return session
    return None


def end_session(session: Session) -> None:
    """Sign that session out: its row goes (and its cache entry), so its next request is
    anonymous."""
    _delete(Session.objects.filter(pk=session.pk))


def _delete(sessions: Any) -> int:
    """Delete the sessions' rows and, with ``cached_db``, their cache entries: on every
    instance, their next request is anonymous."""
    keys = list(sessions.values_list("session_key", flat=True))
    # qsessions clears the cache entries, then deletes the rows. A request of one of these
    # sessions that misses the cache in between reads the row, still there, and caches it
    # again: the entries are cleared once more after the rows are gone for good.
    deleted, _per_model = sessions.delete()
    prefix = getattr(Session.get_session_store_class(), "cache_key_prefix", None)
    if prefix and keys:
        cache = caches[settings.SESSION_CACHE_ALIAS]
        transaction.on_commit(lambda: cache.delete_many([prefix + key for key in keys]))
    return int(deleted)


def _other_sessions(user: Any, current_key: str | None) -> QuerySet[Session]:
    return Session.objects.filter(user_id=user.pk).exclude(session_key=current_key or "")


def end_other_sessions(user: Any, current_key: str | None) -> int:
    """Sign the user out everywhere but ``current_key``: how many sessions ended."""
    return _delete(_other_sessions(user, current_key))


def has_other_sessions(user: Any, current_key: str | None) -> bool:
    return _other_sessions(user, current_key).exists()


def end_all_sessions(user: Any) -> int:
    """Sign the user out everywhere (deactivated, or their password reset)."""
    return _delete(Session.objects.filter(user_id=user.pk))


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts-deactivated-signed-out")
def sign_out_deactivated(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A deactivated user is signed out everywhere at once, however they were deactivated
    (the admin, the roles pages, a script), not at each session's next request."""
    if kwargs.get("raw") or kwargs.get("created"):
        return  # loaddata, or a new user: no sessions yet
    if not instance.is_active:
        end_all_sessions(instance)
