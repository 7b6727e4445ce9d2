from __future__ import annotations

from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("healthz", views.HealthCheckView.as_view(), name="healthz"),
    # Browsers ask for /favicon.ico on pages without an icon link (Django admin's).
    path("favicon.ico", views.FaviconView.as_view(), name="favicon"),
    path("csp-report/", views.CspReportView.as_view(), name="csp-report"),
]
