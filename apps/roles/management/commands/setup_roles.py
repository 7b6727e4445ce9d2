from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.roles.sync import UnknownPermissionError, roles_sync


class Command(BaseCommand):
    """Create or update the groups declared in apps/roles/definitions.py. Idempotent."""

    help = (
        "Create or update the roles (groups) from apps/roles/definitions.py. "
        "--dry-run shows the difference without writing; --prune also removes permissions "
        "a role no longer grants."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Show, do not write.")
        parser.add_argument(
            "--prune", action="store_true", help="Remove permissions the module no longer grants."
        )

    def handle(
        self, *args: Any, dry_run: bool = False, prune: bool = False, **options: Any
    ) -> None:
        try:
            plans = roles_sync(dry_run=dry_run, prune=prune)
        except UnknownPermissionError as error:
            raise CommandError(str(error)) from error
        would = "would " if dry_run else ""
        for plan in plans:
            if plan.created:
                self.stdout.write(f"{plan.role}: {would}create the group")
            for name in plan.added:
                self.stdout.write(f"{plan.role}: {would}add {name}")
            for name in plan.removed:
                self.stdout.write(f"{plan.role}: {would}remove {name}")
            if plan.kept:
                self.stdout.write(f"{plan.role}: left {len(plan.kept)} permission(s) as they are")
            for name in plan.undeclared:
                self.stdout.write(
                    f"{plan.role}: keeps {name}, which the module does not grant "
                    "(--prune removes it)"
                )
        changed = sum(plan.changed for plan in plans)
        summary = f"{changed} role(s) {'would change' if dry_run else 'changed'}."
        self.stdout.write(self.style.SUCCESS(summary) if not dry_run else summary)
