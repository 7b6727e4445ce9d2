from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.circulation.overdue import send_overdue_notices


class Command(BaseCommand):
    """E-mail the borrowers of overdue loans, once a loan a day. Idempotent and safe to
    overlap (see apps/circulation/overdue.py): run it daily, or hourly to catch loans that
    fell due since, without anyone getting two reminders in a day."""

    help = (
        "E-mail one reminder per overdue loan per day (borrowers without an e-mail address "
        "are skipped). Idempotent: a second run the same day sends nothing "
        "(-v 0 keeps it quiet)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_overdue_notices()
        if options["verbosity"] < 1:
            return
        if not sent:
            self.stdout.write("No overdue reminder to send.")
        else:
            noun = "reminder" if sent == 1 else "reminders"
            self.stdout.write(self.style.SUCCESS(f"{sent} overdue {noun} sent."))
