from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import BadRequest
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View, csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView, TemplateView

from apps.bookshelf.desk import editorial_desk
from apps.roles.definitions import ROLES, Role

from .htmx import is_htmx, toast_response
from .net import client_ip
from .permissions import group_names
from .security import log_event

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class DeskLink:
    """A page a role's work starts from, shown only to holders of the permission that page
    checks (``url_name`` plus an optional query string, such as a list filter)."""

    label: StrOrPromise
    url_name: str
    permission: str
    query: str = ""


@dataclass(frozen=True)
class Desk:
    """A role's panel on the dashboard: shown to the role's members, with its links."""

    role: Role
    links: tuple[DeskLink, ...]


BOOK_LIST = DeskLink(gettext_lazy("Book list"), "bookshelf:book-list", "bookshelf.view_book")
CATALOGUE = DeskLink(
    gettext_lazy("Browse the catalogue"), "bookshelf:book-list", "bookshelf.view_book"
)
NEW_BOOK = DeskLink(gettext_lazy("New book"), "bookshelf:book-create", "bookshelf.add_book")
# Drafts and archived books are listed for those who may change books
# (bookshelf.policy.sees_unpublished), so that is the permission these links need.
DRAFTS = DeskLink(
    gettext_lazy("Drafts"), "bookshelf:book-list", "bookshelf.change_book", "?status=draft"
)
ARCHIVED = DeskLink(
    gettext_lazy("Archived books"),
    "bookshelf:book-list",
    "bookshelf.change_book",
    "?status=archived",
)
REVIEW = DeskLink(
    gettext_lazy("Review queue"), "bookshelf:review-queue", "bookshelf.can_publish_book"
)
IN_REVIEW = DeskLink(
    gettext_lazy("In review"), "bookshelf:book-list", "bookshelf.change_book", "?status=in_review"
)
ROLES_PAGE = DeskLink(gettext_lazy("Roles"), "roles:group-list", "roles.manage_roles")
AUDIT = DeskLink(gettext_lazy("Audit trail"), "roles:audit", "roles.view_audit")

DESK_LINKS: dict[str, tuple[DeskLink, ...]] = {
    "Viewers": (CATALOGUE,),
    "Members": (CATALOGUE,),
    "Editors": (BOOK_LIST, NEW_BOOK, IN_REVIEW),
    "Publishers": (REVIEW, BOOK_LIST, DRAFTS, NEW_BOOK),
    "Librarians": (BOOK_LIST, ARCHIVED, NEW_BOOK),
    "Admins": (ROLES_PAGE, AUDIT, REVIEW, BOOK_LIST, NEW_BOOK),
}
# Every declared role, in apps/roles/definitions.py's order.
DESKS = tuple(Desk(role, DESK_LINKS.get(role.name, ())) for role in ROLES)


@method_decorator(login_not_required, name="dispatch")
class HomeView(TemplateView):
    """The dashboard for a signed-in user, a welcome page for everyone else.

    The dashboard shows one panel per role the user is in. Which panels show is a question
    about groups (who the user is: ``has_group`` in the template); each link in a panel is a
    question about permissions (``perms``), since the page behind it checks one.
    """

    def get_template_names(self) -> list[str]:
        if self.request.user.is_authenticated:
            return ["core/dashboard.html"]
        return ["core/welcome.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if self.request.user.is_authenticated:
            # One query for the whole page: has_group reads the same per-request cache.
            names = group_names(self.request.user)
            context.update(
                editorial=editorial_desk(self.request.user),
                desks=DESKS,
                # Roles added on the roles page have no desk: a panel with their name.
                other_roles=sorted(names - {desk.role.name for desk in DESKS}),
                has_role=bool(names),
            )
        return context


@method_decorator(login_not_required, name="dispatch")
class HealthCheckView(View):
    """For load balancers: 200 when the database answers, 503 when it does not."""

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError:
            return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
        return JsonResponse({"status": "ok", "database": "ok"})


@method_decorator(login_not_required, name="dispatch")
class FaviconView(RedirectView):
    permanent = True

    def get_redirect_url(self, *args: Any, **kwargs: Any) -> str:
        return static("favicon.ico")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A failed CSRF check: the friendly 403 page, or a toast for an htmx request."""
    log_event("csrf_failure", request, reason=reason)
    if is_htmx(request):
        return toast_response(
            request, _("This page has expired. Reload it and try again."), status=403
        )
    return csrf.csrf_failure(request, reason)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: Django's 400 page, or a toast for an htmx request.

    htmx swaps 400 bodies (base.html), so a malformed htmx request that never reached our
    middleware (too many fields, a suspicious operation) must not answer with a whole page,
    which would land inside a table row.
    """
    if is_htmx(request):
        message = str(exception) if isinstance(exception, BadRequest) else ""
        return toast_response(
            request,
            message or _("That request could not be understood. Reload the page and try again."),
            status=400,
        )
    return defaults.bad_request(request, exception)


# The fields of a violation report worth keeping, in both report formats.
CSP_REPORT_FIELDS = {
    "document-uri": "document",
    "documentURL": "document",
    "blocked-uri": "blocked",
    "blockedURL": "blocked",
    "effective-directive": "directive",
    "effectiveDirective": "directive",
    "violated-directive": "directive",
    "source-file": "source",
    "sourceFile": "source",
    "line-number": "line",
    "lineNumber": "line",
    "disposition": "disposition",
    "sample": "sample",
}
CSP_REPORT_MAX_BYTES = 16 * 1024
CSP_REPORTS_PER_MINUTE = 30


def _violations(payload: Any) -> list[dict[str, Any]]:
    """The violation bodies in a report-uri ({"csp-report": {…}}) or Reporting API
    ([{"type": "csp-violation", "body": {…}}]) payload; [] when it is neither."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        return [payload["csp-report"]]
    if isinstance(payload, list):
        return [
            item["body"]
            for item in payload[:20]
            if isinstance(item, dict)
            and item.get("type") == "csp-violation"
            and isinstance(item.get("body"), dict)
        ]
    return []


@method_decorator(login_not_required, name="dispatch")
# Browsers send these reports without cookies or tokens; the endpoint only logs.
@method_decorator(csrf_exempt, name="dispatch")
class CspReportView(View):
    """Receives CSP violation reports. Always answers 204 (logged, or dropped when the client
    sends too many) or 400 (not a report), never an error page."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = CSP_REPORT_MAX_BYTES + 1
        if length > CSP_REPORT_MAX_BYTES:
            return HttpResponse(status=400)
        try:
            payload = json.loads(request.body[:CSP_REPORT_MAX_BYTES])
        except (ValueError, UnicodeDecodeError):
            return HttpResponse(status=400)
        violations = _violations(payload)
        if not violations:
            return HttpResponse(status=400)
        if _over_rate_limit(request):
            return HttpResponse(status=204)
        for violation in violations:
            fields = {
                short: str(violation[key])[:500]
                for key, short in CSP_REPORT_FIELDS.items()
                if key in violation
            }
            log_event("csp_violation", request, **fields)
        return HttpResponse(status=204)


def _over_rate_limit(request: HttpRequest) -> bool:
    key = f"csp-report:{client_ip(request)}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) > CSP_REPORTS_PER_MINUTE
    except ValueError:  # expired between add and incr
        return False
