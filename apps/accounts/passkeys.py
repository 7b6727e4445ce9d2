"""Passkeys and security keys (WebAuthn, through django-otp-webauthn): which site a passkey
belongs to, which origin a browser's answer must come from, whether this address can use
passkeys at all, and the refusals the ceremonies' JSON views answer with.

The views are in two_factor_views.py; what a registration or a login changes is in
two_factor.py.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper as LibraryWebAuthnHelper
from django_otp_webauthn.utils import get_credential_model

WebAuthnCredential = get_credential_model()


def relying_party_id(request: HttpRequest) -> str:
    """The host name the page was asked for, without its port (the library's
    OTP_WEBAUTHN_RP_ID_CALLABLE). Django has checked it against ALLOWED_HOSTS, so only our
    own names can be chosen. A passkey belongs to the name it was made on: one made on
    localhost does not work on books.example.org."""
    domain, _port = split_domain_port(request.get_host())
    return domain


def request_origin(request: HttpRequest) -> str:
    """The origin the browser is on, as it writes it into its answers: the scheme Django
    sees (HTTPS behind our proxy too, SECURE_PROXY_SSL_HEADER) and the Host it sent."""
    return f"{request.scheme}://{request.get_host()}"


def passkeys_available(request: HttpRequest) -> bool:
    """Browsers make passkeys only for a host name (never an IP address such as
    127.0.0.1) in a secure context: HTTPS, or plain HTTP on localhost."""
    domain = relying_party_id(request)
    try:
        ip_address(domain.strip("[]"))
    except ValueError:
        pass
    else:
        return False
    return request.is_secure() or domain == "localhost" or domain.endswith(".localhost")


class WebAuthnHelper(LibraryWebAuthnHelper):
    """The library's helper (OTP_WEBAUTHN_HELPER_CLASS), with the allowed origin taken from
    the request (the library only has a fixed list, which the live server's random port and
    the deployments' own names do not fit) and a name for each new passkey."""

    def get_allowed_origins(self) -> list[str]:
        return [request_origin(self.request)]

    def create_credential(
        self, user: Any, response: Any, parsed_credential: Any, original_data: dict[str, Any]
    ) -> Any:
        device = super().create_credential(user, response, parsed_credential, original_data)
        count = WebAuthnCredential.objects.filter(user=user).count()
        device.name = _("Passkey %(number)s") % {"number": count + 1} if count else _("Passkey")
        return device


# --- Refusals, answered as the library's JSON errors ({"detail", "code"}), whose text its
# --- script shows beside the button ------------------------------------------------------------


class PasskeysUnavailable(exceptions.OTPWebAuthnApiError):
    status_code = 400
    default_detail = gettext_lazy(
        "Passkeys work only over HTTPS (or on localhost), at the site's name rather than an "
        "IP address."
    )
    default_code = "passkeys_unavailable"


class SudoRequired(exceptions.OTPWebAuthnApiError):
    """Sudo mode's redirect cannot be followed by a script: it is told instead."""

    status_code = 403
    default_detail = gettext_lazy(
        "For your safety, confirm your password again: reload this page and follow "
        "“Add a passkey or security key”."
    )
    default_code = "sudo_required"


class NoPendingLogin(exceptions.OTPWebAuthnApiError):
    """Not a refusal of who is asking (400, not 403): the second step was asked for out of
    turn, before a password (or after the few minutes it waits)."""

    status_code = 400
    default_detail = gettext_lazy("Log in with your password first.")
    default_code = "no_pending_login"


class LockedOut(exceptions.OTPWebAuthnApiError):
    status_code = 429
    default_detail = gettext_lazy("Too many failed attempts. Try again later.")
    default_code = "locked_out"
