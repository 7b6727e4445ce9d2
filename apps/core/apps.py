from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import security  # noqa: F401  (connects the login/logout signal receivers)


class BookshelfAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with our site (apps/core/admin_site.py) as ``admin.site``."""

    default = False  # not the default config of apps.core: CoreConfig is
    default_site = "apps.core.admin_site.BookshelfAdminSite"
