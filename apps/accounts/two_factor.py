"""Two-factor authentication: who must have a second factor, enrolling and removing factors,
recovery codes, the login's second step, and the middleware that keeps privileged pages
behind it.

The factors are django-otp devices: authenticator apps (``TOTPDevice``: replay protection
in ``last_t``, throttling in the database), passkeys and security keys (django-otp-webauthn's
``WebAuthnCredential``; apps/accounts/passkeys.py) and our hashed recovery codes
(``RecoveryCodeDevice``). Recovery codes are a way back in, not a factor of their own: a
user "has two-factor" when they have an authenticator or a passkey.
"""

from __future__ import annotations

import re
import time
from base64 import b32encode
from binascii import unhexlify
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from apps.core.htmx import browser_path, page_redirect
from apps.core.security import log_event
from apps.roles.definitions import MANAGE_ROLES, ROLES

from .models import RecoveryCode, RecoveryCodeDevice, User
from .notices import security_notice
from .passkeys import WebAuthnCredential
from .recovery_codes import (
    CODES_PER_SET,
    looks_like_recovery_code,
    new_recovery_code,
    recovery_code_digest,
)
from .sessions import end_other_sessions

# Session keys. VERIFIED_AT: this session passed a second factor (login's second step, or
# enrolling one). PENDING_LOGIN: the password was right; the second step is still to come.
# PENDING_SECRET: the authenticator being enrolled, until its first code confirms it.
VERIFIED_AT = "bookshelf_two_factor_verified_at"
PENDING_LOGIN = "bookshelf_two_factor_pending_login"
# NO_FACTOR_AT_LOGIN: the user had no second factor when this session signed in.
NO_FACTOR_AT_LOGIN = "bookshelf_two_factor_none_at_login"
PENDING_SECRET = "bookshelf_two_factor_pending_secret"  # noqa: S105 (a session key name)

TOTP_DIGITS = 6
TOTP_STEP = 30


# --- Policy ----------------------------------------------------------------------------------


def privileged_role_names() -> frozenset[str]:
    """The roles of apps/roles/definitions.py marked ``requires_two_factor``."""
    return frozenset(role.name for role in ROLES if role.requires_two_factor)


def must_use_two_factor(user: Any) -> bool:
    """Holders of the keys: superusers, anyone who may manage roles (and so hand out every
    permission), and members of a role marked ``requires_two_factor`` (Admins)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.has_perm(MANAGE_ROLES):
        return True
    return user.groups.filter(name__in=privileged_role_names()).exists()


def authenticators_of(user: Any) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk"))


def passkeys_of(user: Any) -> list[Device]:
    return list(
        WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")
    )


def factors_of(user: Any) -> list[Device]:
    """The user's confirmed second factors (not the recovery codes), oldest first: one query
    for the authenticators, one for the passkeys."""
    return sorted(
        [*authenticators_of(user), *passkeys_of(user)],
        key=lambda device: (device.created_at, type(device).__name__, device.pk),
    )


def _factor_ids(user: Any) -> QuerySet[Any]:
    """The ids of the user's confirmed factors of every kind, as one query (a UNION)."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True)
        .values("pk")
        .union(WebAuthnCredential.objects.filter(user=user, confirmed=True).values("pk"), all=True)
    )


def has_two_factor(user: Any) -> bool:
    return _factor_ids(user).exists()


def has_passkey(user: Any) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def why_cannot_remove_factor(
    user: Any, device: Device, *, required: bool | None = None, count: int | None = None
) -> str | None:
    """A user who must have a second factor keeps at least one (of any kind). ``required``
    and ``count``, when the caller knows them already (a page listing every factor):
    ``must_use_two_factor(user)`` and how many factors the user has."""
    if device.user_id != user.pk:
        return _("That is not one of your factors.")
    if required is None:
        required = must_use_two_factor(user)
    if required and (count if count is not None else _factor_ids(user).count()) <= 1:
        return _(
            "Your account can change what other people may do, so it keeps at least one "
            "second factor. Add another one before removing this one."
        )
    return None


def is_session_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(VERIFIED_AT))


def verifying_factor_remains(request: HttpRequest) -> bool:
    """This session passed a second factor that the user still has. (A factor removed since,
    by its owner or in the admin, no longer vouches for the sessions it verified.)"""
    if not is_session_verified(request):
        return False
    device = Device.from_persistent_id(request.session.get(DEVICE_ID_SESSION_KEY) or "")
    return device is not None and device.user_id == request.user.pk and device.confirmed


def second_factor_skipped(request: HttpRequest) -> bool:
    """A signed-in session of a user with a second factor that never passed it: a login by
    some path other than ours (Django's admin login, say, which follows the password
    alone). Sessions of users without a factor are told apart once, at login
    (``note_login_without_factor``) or at their first request (one query), and remember it:
    adding a first factor signs every other session out."""
    session = request.session
    if session.get(VERIFIED_AT) or session.get(NO_FACTOR_AT_LOGIN):
        return False
    if has_two_factor(request.user):
        return True
    session[NO_FACTOR_AT_LOGIN] = True
    return False


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="bookshelf-last-factor-authenticator")
@receiver(post_delete, sender=WebAuthnCredential, dispatch_uid="bookshelf-last-factor-passkey")
def recovery_codes_go_with_the_last_factor(sender: Any, instance: Any, **kwargs: Any) -> None:
    """However the last factor goes (its owner, or an administrator in the admin), the
    recovery codes go too: they would otherwise stay valid for a later enrolment, which
    makes none of its own while some exist."""
    if not has_two_factor(instance.user_id):
        RecoveryCodeDevice.objects.filter(user_id=instance.user_id).delete()


@receiver(user_logged_in, dispatch_uid="bookshelf-two-factor-login")
def note_login_without_factor(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session") and not has_two_factor(user):
        request.session[NO_FACTOR_AT_LOGIN] = True


def mark_session_verified(request: HttpRequest, device: Device) -> None:
    request.session[VERIFIED_AT] = time.time()
    # django-otp's own record of the device, for its OTPMiddleware and the passkey views.
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id


# --- Authenticator apps (TOTP) ------------------------------------------------------------------


def pending_secret(request: HttpRequest) -> str:
    """The key of the authenticator being enrolled in this session (hex), made on first use.
    It lives in the session until a code confirms it, so opening the page changes nothing."""
    secret = request.session.get(PENDING_SECRET)
    if not isinstance(secret, str):
        secret = random_hex(20)
        request.session[PENDING_SECRET] = secret
    return secret


def secret_for_typing(secret_hex: str) -> str:
    """The key as authenticator apps take it by hand: base32, in groups of four."""
    text = b32encode(unhexlify(secret_hex)).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(user: Any, secret_hex: str) -> str:
    return TOTPDevice(user=user, key=secret_hex, digits=TOTP_DIGITS, step=TOTP_STEP).config_url


def qr_code_svg(text: str) -> bytes:
    """The QR code as SVG paths (no script, no style attribute: fine under the strict CSP)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def authenticator_add(
    *, request: HttpRequest, user: Any, code: str, name: str
) -> TOTPDevice | None:
    """Confirms the pending authenticator with its first code and keeps it. Returns None
    when the code is wrong (nothing is saved). The first factor of an account also signs out
    its other sessions: any of them may have been opened with a stolen password."""
    secret = request.session.get(PENDING_SECRET)
    if not isinstance(secret, str) or not is_authenticator_code(code):
        return None
    totp = TOTP(unhexlify(secret), step=TOTP_STEP, digits=TOTP_DIGITS)
    if not totp.verify(int(code), tolerance=1):
        return None
    with transaction.atomic():
        first = not has_two_factor(user)
        device = TOTPDevice.objects.create(
            user=user,
            name=name,
            key=secret,
            digits=TOTP_DIGITS,
            step=TOTP_STEP,
            confirmed=True,
            last_t=totp.t(),  # the enrolment code cannot be used again to log in
        )
    del request.session[PENDING_SECRET]
    factor_added(request=request, user=user, device=device, first=first, kind="authenticator")
    return device


def factor_added(
    *, request: HttpRequest, user: Any, device: Device, first: bool, kind: str
) -> None:
    """After a factor is kept: this session counts as verified by it; the first factor of an
    account signs out its other sessions (any of them may have been opened with a stolen
    password); the owner is told by mail."""
    mark_session_verified(request, device)
    if first:
        end_other_sessions(user, request.session.session_key)
    log_event("two_factor_added", request, kind=kind)
    security_notice(
        request=request,
        user=user,
        what="two_factor_on" if first else "factor_added",
        detail=device.name,
    )


# --- Passkeys and security keys (WebAuthn) ---------------------------------------------------


def passkey_add(
    *, request: HttpRequest, user: Any, helper: Any, state: dict[str, Any], data: Any
) -> Device:
    """Verifies the browser's answer to a passkey registration (``helper``: the library's
    WebAuthnHelper for this request; ``state``: the challenge it sent) and keeps the passkey.
    Raises py_webauthn's errors when the answer does not verify (nothing is saved). As with
    an authenticator, the first factor of an account signs out its other sessions."""
    with transaction.atomic():
        first = not has_two_factor(user)
        # The credential and its attestation, both or neither.
        device = helper.register_complete(user=user, state=state, data=data)
    factor_added(request=request, user=user, device=device, first=first, kind="passkey")
    return device


def factor_rename(*, user: Any, device: Device, name: str) -> None:
    if device.user_id != user.pk:
        raise PermissionError(_("That is not one of your factors."))
    type(device).objects.filter(pk=device.pk).update(name=name)


def factor_remove(*, request: HttpRequest, user: Any, device: Device) -> None:
    """Removes a factor; with the last one go the recovery codes (two-factor is then off)."""
    with transaction.atomic():
        # Locks the user's row: two removals at once cannot both see "one more left".
        User.objects.select_for_update().filter(pk=user.pk).first()
        refusal = why_cannot_remove_factor(user, device)
        if refusal:
            raise PermissionError(refusal)
        deleted, _rows = type(device).objects.filter(pk=device.pk).delete()
        if not deleted:
            return  # removed meanwhile by another request, which said so
        off = not has_two_factor(user)
        if off:
            RecoveryCodeDevice.objects.filter(user=user).delete()
    log_event("two_factor_removed", request)
    security_notice(
        request=request,
        user=user,
        what="two_factor_off" if off else "factor_removed",
        detail=device.name,
    )


# --- Recovery codes ------------------------------------------------------------------------


def recovery_codes_generate(*, user: Any) -> list[str]:
    """A new set of ten codes, replacing any earlier set. Returned once, to be shown once:
    only their digests are stored."""
    codes = [new_recovery_code() for _ in range(CODES_PER_SET)]
    with transaction.atomic():
        device, _created = RecoveryCodeDevice.objects.get_or_create(
            user=user, defaults={"name": _("Recovery codes")}
        )
        device.codes.all().delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=device, digest=recovery_code_digest(code)) for code in codes
        )
    return codes


def recovery_codes_left(user: Any) -> int | None:
    """How many unused codes the user has, or None when they never made any."""
    device = RecoveryCodeDevice.objects.filter(user=user).first()
    return None if device is None else device.codes_left()


# --- Verifying a code: the login's second step and sudo mode ---------------------------------


THROTTLED_MESSAGE = _lazy(
    "Too many wrong codes in a row: wait a few seconds, then type the newest code."
)


class CodeThrottled(Exception):
    """Every device the code could be for is waiting after wrong codes: nothing was checked
    (django-otp would refuse even the right code), so nothing counts as a failure."""

    def __init__(self, until: Any) -> None:
        super().__init__(until)
        self.until = until


def is_authenticator_code(code: str) -> bool:
    # ASCII digits only: str.isdigit() also takes "¹²³⁴⁵⁶", which int() refuses.
    return re.fullmatch(rf"[0-9]{{{TOTP_DIGITS}}}", code) is not None


def code_verify(*, user: Any, code: str) -> Device | None:
    """The device that accepts ``code``: six digits go to the authenticators, anything
    shaped like a recovery code to those (passkeys take no codes). An authenticator's code
    is refused at or before the last time step it accepted (no replay), under a row lock.

    Each device throttles its own wrong codes (1, 2, 4 … seconds). Only the authenticator
    the code matches is asked, so a right code for one does not count against another;
    when every candidate is waiting, ``CodeThrottled``.
    """
    code = code.strip().replace(" ", "")
    if is_authenticator_code(code):
        devices: list[Device] = list(authenticators_of(user))
    elif looks_like_recovery_code(code):
        devices = list(RecoveryCodeDevice.objects.filter(user=user))
    else:
        return None
    checks = [(device, device.verify_is_allowed()) for device in devices]
    allowed = [device for device, (ok, _info) in checks if ok]
    if devices and not allowed:
        raise CodeThrottled(min(info["locked_until"] for _device, (_ok, info) in checks))
    matching = [device for device in allowed if matches_without_using(device, code)]
    for device in matching or allowed:
        with transaction.atomic():
            # Locked, so that two requests with one code cannot both pass its replay check.
            locked = type(device).objects.select_for_update().get(pk=device.pk)
            if locked.verify_token(code):
                return locked
    return None


def matches_without_using(device: Device, code: str) -> bool:
    """Whether an authenticator would take ``code`` now, without recording anything (the
    device's own verify_token, under the lock, decides and records)."""
    if not isinstance(device, TOTPDevice):
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return bool(totp.verify(int(code), device.tolerance, device.last_t + 1))


def lockout_credentials(user: Any) -> dict[str, str]:
    """What axes counts a wrong code under: the same key as a wrong password
    (apps.accounts.backends.lockout_key turns the username into the account's key)."""
    return {settings.AXES_USERNAME_FORM_FIELD: user.get_username()}


def is_locked_out(request: HttpRequest, user: Any) -> bool:
    return AxesProxyHandler.is_locked(request, lockout_credentials(user))


def report_wrong_code(request: HttpRequest, user: Any) -> None:
    """A wrong code counts towards the lockout as a wrong password does (django-axes listens
    to Django's ``user_login_failed``)."""
    user_login_failed.send(sender=__name__, credentials=lockout_credentials(user), request=request)


# --- The login's second step ----------------------------------------------------------------


@dataclass(frozen=True)
class PendingLogin:
    user: Any
    backend: str
    next_url: str


def pending_login_start(request: HttpRequest, user: Any, next_url: str) -> None:
    """The password was right and the user has a second factor: remember who, for a few
    minutes, without logging them in. A new session key, as login() would give."""
    request.session.cycle_key()
    request.session[PENDING_LOGIN] = {
        "user": user.pk,
        "backend": user.backend,
        "at": time.time(),
        "next": next_url,
    }


def pending_login(request: HttpRequest) -> PendingLogin | None:
    data = request.session.get(PENDING_LOGIN)
    if not isinstance(data, dict):
        return None
    if time.time() - data.get("at", 0) > settings.BOOKSHELF_TWO_FACTOR_LOGIN_SECONDS:
        del request.session[PENDING_LOGIN]
        return None
    user = User.objects.filter(pk=data.get("user") or 0, is_active=True).first()
    if user is None or data.get("backend") not in settings.AUTHENTICATION_BACKENDS:
        return None
    return PendingLogin(user=user, backend=data["backend"], next_url=data.get("next", ""))


def pending_login_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_LOGIN, None)


def login_complete(request: HttpRequest, pending: PendingLogin, device: Device) -> str:
    """The second factor passed (a code, or a passkey): the pending user is logged in, in a
    session verified by ``device``. Returns where they were going. The one way out of the
    second step, whichever factor was used."""
    pending_login_clear(request)
    login(request, pending.user, backend=pending.backend)
    mark_session_verified(request, device)
    if isinstance(device, RecoveryCodeDevice):
        security_notice(
            request=request,
            user=pending.user,
            what="recovery_code_used",
            detail=_("to sign in; %(left)s left")
            % {"left": recovery_codes_left(pending.user) or 0},
        )
    return pending.next_url or reverse("core:home")


# --- Privileged pages -------------------------------------------------------------------------


def is_privileged_view(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and any(
        namespace in settings.BOOKSHELF_TWO_FACTOR_NAMESPACES for namespace in match.namespaces
    )


def enrolment_url(next_path: str) -> str:
    return f"{reverse('accounts:two-factor')}?{urlencode({'next': next_path})}"


class TwoFactorRequiredMiddleware:
    """Second factors, enforced for every request of a signed-in user:

    - a user with a factor whose session never passed it (signed in by a path that skipped
      the second step) is signed out, to log in again with it;
    - privileged pages (``BOOKSHELF_TWO_FACTOR_NAMESPACES``: roles and the admin) need, for
      the users who must use two-factor, a session verified by a factor they still have: with
      no factor yet, to enrolment with the reason and back here once enrolled; with one, to
      log in again with it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        user = request.user
        if not user.is_authenticated:
            return None
        if second_factor_skipped(request):
            log_event("two_factor_skipped", request)
            return self.log_in_again(request)
        if (
            not is_privileged_view(request)
            or not must_use_two_factor(user)
            or verifying_factor_remains(request)
        ):
            return None
        if has_two_factor(user):
            log_event("two_factor_reverify", request)
            return self.log_in_again(request)
        log_event("two_factor_enrolment_required", request)
        request.session.pop(VERIFIED_AT, None)  # vouched for by a factor that is gone
        messages.info(
            request,
            _(
                "Your account can change what other people may do, so it needs a second "
                "factor as well as your password: a code from an authenticator app on your "
                "phone, or a passkey. Set one up here; it takes a minute."
            ),
        )
        return page_redirect(request, enrolment_url(self.back_to(request)))

    def log_in_again(self, request: HttpRequest) -> HttpResponseBase:
        back_to = self.back_to(request)
        logout(request)
        messages.info(request, _("Log in again with your second factor to go on."))
        return page_redirect(request, f"{reverse('accounts:login')}?{urlencode({'next': back_to})}")

    @staticmethod
    def back_to(request: HttpRequest) -> str:
        return browser_path(request) or (
            request.get_full_path() if request.method == "GET" else reverse("core:home")
        )
