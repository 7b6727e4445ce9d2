from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.demo import demo_users_create
from apps.bookshelf.demo import demo_books_create
from apps.circulation.demo import demo_circulation_create


class Command(BaseCommand):
    """Create the demo users and books. Idempotent: what exists is left as it is."""

    help = (
        "Create demo users (password from DEMO_PASSWORD, default 'bookshelf-demo') and "
        "about 60 demo books. "
        "Existing users are left as they are. Refuses to run with DEBUG off unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (demo accounts have a known password).",
        )

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: demo accounts with a known password do not belong in production. "
                "Use --force if this really is a demo machine."
            )
        for username, user_created in demo_users_create(password=settings.DEMO_PASSWORD):
            verb = "created" if user_created else "kept (already there)"
            self.stdout.write(f"user {username}: {verb}")
        books_created, books_kept = demo_books_create()
        self.stdout.write(f"books: {books_created} created, {books_kept} kept")
        self.stdout.write(f"copies: {demo_circulation_create()} added")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
