"""E-mail about the editorial workflow, sent only once the change is committed.

Publishers hear when a book is submitted; the submitter hears when it is approved or sent
back with a comment. Nobody is told about their own action, and each person can turn these
e-mails off on their profile (``User.email_notifications``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

if TYPE_CHECKING:
    from .models import Book

logger = logging.getLogger(__name__)

PUBLISH = "bookshelf.can_publish_book"
# Which action tells whom: the publishers, or the person who submitted the book.
TELLS_PUBLISHERS = {"submit"}
TELLS_SUBMITTER = {"approve", "request_changes"}


def notify_after_commit(
    action: str, book: Book, *, actor: Any, submitter_id: int | None, comment: str = ""
) -> None:
    """Queue the e-mails ``action`` calls for; they go out after the transaction commits
    (and never if it rolls back)."""
    if action not in TELLS_PUBLISHERS | TELLS_SUBMITTER:
        return
    context = {
        "action": action,
        # One line: a title with a line break must not become a broken mail header.
        "title": " ".join(book.title.split()),
        "actor": str(actor),
        "comment": comment,
        "path": reverse("bookshelf:book-detail", args=[book.pk]),
        "queue_path": reverse("bookshelf:review-queue"),
        "site": settings.BOOKSHELF_SITE_URL,
    }
    if action in TELLS_PUBLISHERS:
        recipients = list(_publishers().exclude(pk=actor.pk).values_list("email", flat=True))
    else:
        recipients = list(
            _willing().filter(pk=submitter_id).exclude(pk=actor.pk).values_list("email", flat=True)
        )
    if recipients:
        transaction.on_commit(lambda: _send(context, recipients))


def _willing() -> Any:
    return (
        get_user_model().objects.filter(is_active=True, email_notifications=True).exclude(email="")
    )


def _publishers() -> Any:
    """Who may approve: holders of can_publish_book through a role or directly, and
    superusers (as ``ModelBackend.with_perm`` answers it)."""
    holders = get_user_model().objects.with_perm(
        PUBLISH, backend="django.contrib.auth.backends.ModelBackend"
    )
    return _willing().filter(pk__in=holders.values("pk"))


def _send(context: dict[str, Any], recipients: list[str]) -> None:
    subject = render_to_string("bookshelf/email/review_subject.txt", context).strip()
    body = render_to_string("bookshelf/email/review_body.txt", context)
    # One message per person: nobody sees the others' addresses.
    messages = [(subject, body, None, [address]) for address in recipients]
    try:
        send_mass_mail(messages, fail_silently=False)
    except OSError:
        # The change is committed; a mail server that is down must not turn it into a 500.
        logger.exception("Could not send the review notification for %s", context["title"])
