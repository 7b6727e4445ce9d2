from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.templatetags.static import static
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import RedirectView, TemplateView


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
