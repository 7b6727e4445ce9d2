from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.circulation.services import expire_holds


class Command(BaseCommand):
    """Expire the holds not collected in time so their copies pass to the next member (or
    back on the shelf). Idempotent and safe to overlap: each hold is expired under its
    book's lock, and one already expired is skipped. Meant for cron every few minutes."""

    help = (
        "Expire the holds whose copy waited on the hold shelf past its time; each copy passes "
        "to the next member in the queue (told by e-mail) or goes back on the shelf. "
        "Idempotent: run it from cron as often as you like (-v 0 keeps it quiet)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        expired = expire_holds()
        if options["verbosity"] < 1:
            return
        if not expired:
            self.stdout.write("No hold expired.")
        elif expired == 1:
            self.stdout.write(self.style.SUCCESS("1 hold expired; its copy passed on."))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"{expired} holds expired; their copies passed on.")
            )
