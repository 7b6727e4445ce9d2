"""E-mail from the circulation desk, sent only after the change commits."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    import datetime

    from apps.bookshelf.models import Book

logger = logging.getLogger(__name__)


def tell_hold_ready(*, book: Book, member: Any, ready_until: datetime.datetime) -> None:
    """The member's copy waits on the hold shelf (queued for after commit)."""
    if not member.email:
        return
    title = " ".join(book.title.split())  # one line: a mail header
    subject = _("Ready for you: “%(title)s”") % {"title": title}
    body = _(
        "A copy of “%(title)s” waits for you on the hold shelf until %(until)s.\n\n"
        "Your loans and holds: %(site)s/loans/\n"
    ) % {
        "title": title,
        "until": date_format(timezone.localtime(ready_until), "DATE_FORMAT"),
        "site": settings.BOOKSHELF_SITE_URL,
    }
    address = member.email

    def send() -> None:
        try:
            send_mail(subject, body, None, [address])
        except OSError:
            logger.exception("Could not tell %s that a hold is ready", address)

    transaction.on_commit(send)
