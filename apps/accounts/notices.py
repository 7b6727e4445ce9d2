"""Security notices: a mail to the account's address whenever how it signs in changes
(OWASP ASVS 2.2.3 and 2.5.5): the password changed or reset, two-factor turned on or off,
a factor added or removed, new recovery codes, a recovery code used. Whoever did not do it
learns at once, with the way back (a password reset signs out every session).

Always sent, whatever ``email_notifications`` says: that setting is about reviews. Sent
after the commit, so a change that was rolled back announces nothing; a mail server that
fails is logged and does not undo the change the user just made.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.net import client_ip

logger = logging.getLogger(__name__)

# What happened, as the subject line and the first sentence of the mail say it.
NOTICES = {
    "password_changed": _("Your password was changed"),
    "password_reset": _("Your password was reset"),
    "two_factor_on": _("Two-factor authentication was turned on"),
    "two_factor_off": _("Two-factor authentication was turned off"),
    "factor_added": _("A second factor was added to your account"),
    "factor_removed": _("A second factor was removed from your account"),
    "recovery_codes_made": _("New recovery codes were made; the old ones no longer work"),
    "recovery_code_used": _("One of your recovery codes was used"),
}


def security_notice(*, request: HttpRequest, user: Any, what: str, detail: str = "") -> None:
    """Mails ``user`` that ``what`` (a key of NOTICES) just happened, from where."""
    if not user.email:
        return
    context = {
        "username": user.get_username(),
        "what": NOTICES[what],
        "detail": detail,
        "when": timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"),
        "ip": client_ip(request) or "",
        "browser": request.headers.get("User-Agent", "")[:200],
        "password_reset_url": request.build_absolute_uri(reverse("accounts:password_reset")),
        "sessions_url": request.build_absolute_uri(reverse("accounts:sessions")),
    }
    subject = f"Bookshelf: {NOTICES[what]}"
    body = render_to_string("accounts/email/security_notice.txt", context)
    address = user.email

    def send() -> None:
        try:
            send_mail(subject, body, None, [address])
        except OSError:  # smtplib's errors included
            logger.exception("Could not send the security notice %s to %s", what, address)

    transaction.on_commit(send)
