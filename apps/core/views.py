from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View, csrf
from django.views.generic import RedirectView, TemplateView

from .htmx import is_htmx, toast_response


@method_decorator(login_not_required, name="dispatch")
class HomeView(TemplateView):
    """The dashboard for a signed-in user, a welcome page for everyone else."""

    def get_template_names(self) -> list[str]:
        if self.request.user.is_authenticated:
            return ["core/dashboard.html"]
        return ["core/welcome.html"]


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
    if is_htmx(request):
        return toast_response(
            request, _("This page has expired. Reload it and try again."), status=403
        )
    return csrf.csrf_failure(request, reason)
