"""Overdue reminders: one e-mail per overdue open loan per day, however often it runs.

``Loan.reminded_on`` is the day of the last reminder. Each loan is claimed with a
conditional UPDATE that repeats the selection's condition (open, overdue, not reminded
today); only the run whose UPDATE changed the row queues the mail, after its commit. So two
runs at once (cron overlapping a manual run, two machines) never remind a loan twice: on
PostgreSQL the second UPDATE waits for the first's row lock, re-reads the row and matches
nothing.

The price of "at most once a day": a mail that fails after the commit (the SMTP server down)
is logged, not retried before the next day's run.

Borrowers without an e-mail address are left out of the selection, and their loans are not
marked: ``reminded_on`` only ever records a reminder that went out, and once they give an
address the next run reminds them, the same day.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import Loan

logger = logging.getLogger(__name__)


def _not_reminded(today: datetime.date) -> Q:
    return Q(reminded_on__isnull=True) | Q(reminded_on__lt=today)


def send_overdue_notices(today: datetime.date | None = None) -> int:
    """Remind each borrower of each loan that is overdue now and was not reminded on
    ``today`` (default: today's local date). Returns how many reminders were sent (or, inside
    a caller's transaction, queued for its commit)."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    due = (
        Loan.objects.overdue(now)
        .filter(_not_reminded(today))
        .exclude(borrower__email="")
        .select_related("book", "copy", "borrower")
        .order_by("due_at", "pk")
    )
    sent = 0
    for loan in list(due):
        with transaction.atomic():
            claimed = (
                Loan.objects.overdue(now)
                .filter(_not_reminded(today), pk=loan.pk)
                .update(reminded_on=today)
            )
            if not claimed:
                continue  # returned meanwhile, or another run reminded it
            _queue_reminder(loan)
            sent += 1
    return sent


def _queue_reminder(loan: Loan) -> None:
    title = " ".join(loan.book.title.split())  # one line: a mail header
    subject = _("Overdue: “%(title)s”") % {"title": title}
    body = _(
        "Your copy of “%(title)s” (%(barcode)s) was due back on %(due)s.\n"
        "Please bring it back to the library, or renew it if you may.\n\n"
        "Your loans: %(site)s/loans/\n"
    ) % {
        "title": title,
        "barcode": loan.copy.barcode,
        "due": date_format(timezone.localtime(loan.due_at), "DATE_FORMAT"),
        "site": settings.BOOKSHELF_SITE_URL,
    }
    address = loan.borrower.email

    def send() -> None:
        try:
            send_mail(subject, body, None, [address])
        except OSError:
            logger.exception("Could not send the overdue reminder of loan %s", loan.pk)

    transaction.on_commit(send)
