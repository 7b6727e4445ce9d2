"""E-mail change confirmed by a link (issue 14).

The profile never writes a new address itself: ``email_change_request`` mails a signed link
to the new address and a notice to the old one, and the address changes only when its
owner, signed in, opens the link and confirms (``email_change_confirm``). Nothing is stored
in the database: the link carries the user, the new address and a digest of the account's
current address and password hash, so it stops working once either changes (after its own
use too) and after ``EMAIL_CHANGE_MAX_AGE``.

Django's ``PasswordResetTokenGenerator`` is not reused: its tokens carry no data (the new
address would travel beside the token, unsigned), they last ``PASSWORD_RESET_TIMEOUT`` and
they die at the next login, which would spoil a link opened while signed out (login first,
then back to the link). ``django.core.signing`` signs, dates and checks the whole payload.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.policy import enforce
from apps.core.security import log_event

from .models import User

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

EMAIL_CHANGE_MAX_AGE = datetime.timedelta(hours=24)
SALT = "bookshelf.accounts.email_change"
# This browser's last request, only for the profile's "Waiting for confirmation" line: the
# link never depends on it, and a link opened elsewhere works the same.
PENDING_SESSION_KEY = "bookshelf_email_change_pending"

INVALID_LINK = gettext_lazy(
    "This link does not work: it has expired (links work for 24 hours) or was not copied "
    "whole. Ask for a new one on your profile."
)
OTHER_ACCOUNT = gettext_lazy(
    "This link was sent for another account. Sign out, sign in as the account that asked for "
    "the change, and open the link again."
)
STALE_LINK = gettext_lazy(
    "This link no longer works: it was used already, or the address or password of your "
    "account changed since it was sent. Ask for a new one on your profile."
)
ADDRESS_TAKEN = gettext_lazy(
    "%(email)s is now the address of another account, so yours cannot change to it."
)


@dataclass(frozen=True)
class EmailChange:
    """What a valid link asks for."""

    user_id: int
    new_email: str
    state: str  # account_state() of the user when the link was made


def account_state(user: User) -> str:
    """A keyed digest of what must not change before the link is used: the address (so
    the link works once) and the password hash (a password change or reset cancels it).
    Keyed, like Django's password-reset token, so the mail reveals nothing of the hash.
    Not ``last_login``: opening the link while signed out means logging in first."""
    value = f"{user.pk}|{user.email}|{user.password}"
    return salted_hmac(f"{SALT}.state", value, algorithm="sha256").hexdigest()[:32]


def email_change_token(*, user: User, new_email: str) -> str:
    """The signed, dated token of the confirmation link."""
    payload = {"user": user.pk, "email": new_email, "state": account_state(user)}
    return signing.dumps(payload, salt=SALT, compress=True)


def email_change_read(token: str) -> EmailChange | None:
    """The change a link asks for; None when it is forged, mangled or too old."""
    try:
        data = signing.loads(token, salt=SALT, max_age=EMAIL_CHANGE_MAX_AGE)
        return EmailChange(user_id=int(data["user"]), new_email=data["email"], state=data["state"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):  # expired: BadSignature
        return None


def is_for_someone_else(user: Any, change: EmailChange | None) -> bool:
    return change is not None and change.user_id != user.pk


def why_cannot_confirm(user: User, change: EmailChange | None) -> StrOrPromise:
    """The sentence refusing ``user`` the change a link asks for, or "" when it may go on."""
    if change is None:
        return INVALID_LINK
    if is_for_someone_else(user, change):
        return OTHER_ACCOUNT
    if not constant_time_compare(change.state, account_state(user)):
        return STALE_LINK
    if User.objects.filter(email__iexact=change.new_email).exclude(pk=user.pk).exists():
        return ADDRESS_TAKEN % {"email": change.new_email}
    return ""


def masked(address: str) -> str:
    """``n***@example.net``: enough for the owner to recognise the address."""
    local, _at, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def email_change_request(*, request: HttpRequest, user: User, new_email: str) -> bool:
    """Mail the confirmation link to ``new_email`` and a notice to the user's current
    address; True when both were handed to the mail server. Nothing changes yet."""
    token = email_change_token(user=user, new_email=new_email)
    confirm_url = request.build_absolute_uri(
        reverse("accounts:email-confirm", kwargs={"token": token})
    )
    context = {
        "username": user.get_username(),
        "confirm_url": confirm_url,
        "max_age_hours": int(EMAIL_CHANGE_MAX_AGE.total_seconds() // 3600),
        # The old address is told only the masked new one: that address may no longer be
        # the owner's (a former employer's mailbox is a common reason to change it) and
        # must not learn where the user moved; the owner still recognises it.
        "masked_email": masked(new_email),
        # A reset rather than "change your password": it works from a signed-out browser
        # and after an intruder changed the password, and it cancels the link (the
        # password hash is part of it) and ends every session.
        "password_reset_url": request.build_absolute_uri(reverse("accounts:password_reset")),
    }
    mails = [
        EmailMessage(
            _("Your Bookshelf email address is about to change"),
            render_to_string("accounts/email/email_change_notice.txt", context),
            to=[user.email],
        ),
        EmailMessage(
            _("Confirm your new Bookshelf email address"),
            render_to_string("accounts/email/email_change_confirm.txt", context),
            to=[new_email],
        ),
    ]
    # The notice first: no link leaves without the current owner being told.
    try:
        get_connection().send_messages(mails if user.email else mails[1:])
    except OSError:  # smtplib's errors included
        logger.exception("Could not send the email change link for %s", user.get_username())
        return False
    log_event("email_change_requested", request, new_email=new_email)
    request.session[PENDING_SESSION_KEY] = {
        "email": new_email,
        "until": time.time() + EMAIL_CHANGE_MAX_AGE.total_seconds(),
    }
    return True


def email_change_pending(request: HttpRequest, user: User) -> str:
    """The address this browser last asked for, while its link may still work."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return ""
    email = str(pending.get("email", ""))
    return "" if email.casefold() == user.email.casefold() else email


def email_change_confirm(*, request: HttpRequest, change: EmailChange) -> None:
    """Make ``change.new_email`` the signed-in user's address, checked again under the
    row's lock (two tabs confirming at once change it once). Raises ``PolicyDenied`` with
    the sentence when it may not."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=request.user.pk or 0)  # signed in
        enforce(why_cannot_confirm(user, change))
        old_email = user.email
        user.email = change.new_email
        try:
            with transaction.atomic():
                user.save(update_fields=["email"])
        except IntegrityError:  # another account took the address since the check
            enforce(ADDRESS_TAKEN % {"email": change.new_email})
    request.session.pop(PENDING_SESSION_KEY, None)
    log_event("email_changed", request, old_email=old_email, new_email=change.new_email)
