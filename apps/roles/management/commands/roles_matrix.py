from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.roles.matrix import roles_matrix_markdown


class Command(BaseCommand):
    """Print the role × permission matrix as Markdown (what docs/permissions.md holds)."""

    help = "Print the role × permission matrix as Markdown (docs/permissions.md)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(roles_matrix_markdown(), ending="")
