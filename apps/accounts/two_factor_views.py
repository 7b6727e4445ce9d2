"""The two-factor pages: the factors of one's account (``/accounts/two-factor/``), enrolling
an authenticator app or a passkey, recovery codes, and the login's second step (a code or a
passkey). The rules and the writes are in apps/accounts/two_factor.py.

Passkeys are django-otp-webauthn's ceremonies: a script on the page asks a JSON view to
begin (a challenge), the browser asks the passkey, and the script sends the answer to the
JSON view that completes. Our subclasses of its views decide whose passkey it is (the
signed-in user, behind sudo mode; at login, the user whose password was just right, never
a passwordless login) and what success does."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from axes.helpers import get_lockout_response
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from django.views.i18n import JavaScriptCatalog
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.settings import app_settings as webauthn_settings
from django_otp_webauthn.utils import rewrite_exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from apps.core.net import safe_next_url
from apps.core.security import log_event
from apps.core.sudo import SudoRequiredMixin, confirm_password_url, sudo_is_fresh

from . import two_factor
from .models import RecoveryCodeDevice
from .notices import security_notice
from .passkeys import (
    LockedOut,
    NoPendingLogin,
    PasskeysUnavailable,
    SudoRequired,
    WebAuthnCredential,
    passkeys_available,
)
from .two_factor_forms import AuthenticatorAddForm, FactorNameForm, SecondFactorForm


def next_or_overview(request: HttpRequest) -> str:
    return safe_next_url(request, reverse("accounts:two-factor"))


def recovery_codes_page(request: HttpRequest, codes: list[str], *, first: bool) -> HttpResponse:
    """The codes, shown this once: rendered into the answer to the POST that made them, so
    they are never stored anywhere in plain text (not even in the session)."""
    response = render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "first": first, "next": next_or_overview(request)},
    )
    response["Cache-Control"] = "no-store"
    return response


def passkey_script_config(request: HttpRequest) -> dict[str, Any]:
    """What django-otp-webauthn's scripts read from the page (json_script
    "otp_webauthn_config"): our views' URLs, and the CSRF token they send as X-CSRFToken
    (from the page, as htmx's: in production the cookie is out of JavaScript's reach)."""
    return {
        "beginRegistrationUrl": reverse("accounts:passkey-register-begin"),
        "completeRegistrationUrl": reverse("accounts:passkey-register-complete"),
        "beginAuthenticationUrl": reverse("accounts:passkey-login-begin"),
        "completeAuthenticationUrl": reverse("accounts:passkey-login-complete"),
        "autocompleteLoginFieldSelector": None,  # no passwordless login: no autofill
        "nextFieldSelector": "input[name='next']",
        "csrfToken": get_token(request),
    }


@dataclass(frozen=True)
class FactorRow:
    """One factor on the overview, with its kind and the URLs of its forms."""

    device: Device
    kind: str
    refusal: str | None
    rename_url: str
    remove_url: str


def factor_rows(user: Any, *, required: bool) -> list[FactorRow]:
    """``required``: must_use_two_factor(user), which the page asks anyway."""
    factors = two_factor.factors_of(user)
    rows = []
    for device in factors:
        passkey = isinstance(device, WebAuthnCredential)
        prefix = "accounts:passkey" if passkey else "accounts:authenticator"
        rows.append(
            FactorRow(
                device=device,
                kind=_("Passkey or security key") if passkey else _("Authenticator app"),
                refusal=two_factor.why_cannot_remove_factor(
                    user, device, required=required, count=len(factors)
                ),
                rename_url=reverse(f"{prefix}-rename", args=[device.pk]),
                remove_url=reverse(f"{prefix}-remove", args=[device.pk]),
            )
        )
    return rows


class TwoFactorView(LoginRequiredMixin, TemplateView):
    """The user's second factors: rename or remove each, add an authenticator or a passkey,
    make recovery codes. Where privileged pages send those who must enrol."""

    template_name = "accounts/two_factor.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        request, user = self.request, self.request.user
        next_url = safe_next_url(request, "")
        here = reverse("accounts:two-factor")
        if next_url:
            here += f"?{urlencode({'next': next_url})}"
        required = two_factor.must_use_two_factor(user)
        return super().get_context_data(
            factors=factor_rows(user, required=required),
            required=required,
            codes_left=two_factor.recovery_codes_left(user),
            next=next_url,
            passkeys_available=passkeys_available(request),
            # Adding a passkey is a script's request, which cannot follow sudo mode's redirect
            # to the password: without a recent one, the button is a link to confirm it first.
            sudo_fresh=sudo_is_fresh(request),
            confirm_url=confirm_password_url(here),
            passkey_done_url=here,
            passkey_config=passkey_script_config(request),
            **kwargs,
        )


@method_decorator(never_cache, name="dispatch")
class AuthenticatorAddView(LoginRequiredMixin, SudoRequiredMixin, FormView):
    """Scan the QR code (or type the key), then type the first code to confirm. The key
    stays in the session until then: opening the page changes nothing."""

    form_class = AuthenticatorAddForm
    template_name = "accounts/authenticator_add.html"
    initial = {"name": _("Authenticator app")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        secret = two_factor.pending_secret(self.request)
        return super().get_context_data(
            secret=two_factor.secret_for_typing(secret),
            next=safe_next_url(self.request, ""),
            **kwargs,
        )

    def form_valid(self, form: AuthenticatorAddForm) -> HttpResponse:
        user = self.request.user
        first = not two_factor.has_two_factor(user)
        device = two_factor.authenticator_add(
            request=self.request,
            user=user,
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
        )
        if device is None:
            form.add_error(
                "code",
                _("That code does not match. Check the app's clock and type the newest code."),
            )
            return self.form_invalid(form)
        if two_factor.recovery_codes_left(user) is None:
            codes = two_factor.recovery_codes_generate(user=user)
            log_event("recovery_codes_generated", self.request)
            return recovery_codes_page(self.request, codes, first=first)
        messages.success(self.request, _("Your authenticator app is set up."))
        return HttpResponseRedirect(next_or_overview(self.request))


@method_decorator(never_cache, name="dispatch")
class AuthenticatorQRCodeView(LoginRequiredMixin, View):
    """The QR code of the key being enrolled, as an SVG image (an <img>, so it runs nothing;
    served here rather than as a data: URL, which the CSP does not allow for images)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        secret = request.session.get(two_factor.PENDING_SECRET)
        if not isinstance(secret, str):
            raise Http404
        uri = two_factor.provisioning_uri(request.user, secret)
        return HttpResponse(two_factor.qr_code_svg(uri), content_type="image/svg+xml")


class FactorMixin(LoginRequiredMixin, SudoRequiredMixin):
    """A POST about one of the user's own factors of ``model``'s kind (another's is a 404)."""

    model: type[Model] = TOTPDevice
    request: HttpRequest
    kwargs: dict[str, Any]

    def get_device(self) -> Any:
        return get_object_or_404(
            self.model, pk=self.kwargs["pk"], user=self.request.user, confirmed=True
        )


class FactorRenameView(FactorMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        device = self.get_device()
        form = FactorNameForm(request.POST)
        if form.is_valid():
            two_factor.factor_rename(
                user=request.user, device=device, name=form.cleaned_data["name"]
            )
            messages.success(request, _("Renamed."))
        else:
            messages.error(request, " ".join(str(error) for error in form.errors["name"]))
        return HttpResponseRedirect(reverse("accounts:two-factor"))


class FactorRemoveView(FactorMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        device = self.get_device()
        try:
            two_factor.factor_remove(request=request, user=request.user, device=device)
        except PermissionError as refusal:
            messages.error(request, str(refusal))
        else:
            if two_factor.has_two_factor(request.user):
                messages.success(request, _("Removed. Your other factors still work."))
            else:
                messages.success(
                    request,
                    _("Removed. Two-factor is off: you log in with your password alone."),
                )
        return HttpResponseRedirect(reverse("accounts:two-factor"))


class PasskeyRenameView(FactorRenameView):
    model = WebAuthnCredential


class PasskeyRemoveView(FactorRemoveView):
    model = WebAuthnCredential


class RecoveryCodesGenerateView(LoginRequiredMixin, SudoRequiredMixin, View):
    """A new set of recovery codes; the old ones stop working. The first set of a user
    whose first factor is a passkey is made here too: a passkey is added by a script, whose
    JSON answer is no place to show codes, so the overview asks for them afterwards."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        if not two_factor.has_two_factor(request.user):
            messages.error(request, _("Set up an authenticator app or a passkey first."))
            return HttpResponseRedirect(reverse("accounts:two-factor"))
        first = two_factor.recovery_codes_left(request.user) is None
        codes = two_factor.recovery_codes_generate(user=request.user)
        log_event("recovery_codes_generated", request)
        security_notice(request=request, user=request.user, what="recovery_codes_made")
        return recovery_codes_page(request, codes, first=first)


# --- Passkeys: the library's JSON views, ours by subclassing ---------------------------------


class CeremonyMixin:
    """The library's views run their checks (``initial``) before Django's dispatch looks at
    the method: only a POST, the ceremony's one method, gets them; anything else is left to
    Django's 405."""

    def initial(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        if request.method == "POST":
            super().initial(request, *args, **kwargs)  # type: ignore[misc]


class PasskeyRegistrationMixin(CeremonyMixin):
    """Adding a passkey to the signed-in user's account: at an address where browsers make
    passkeys, with a password entered within sudo mode's window (refused with the reason,
    since the script cannot follow sudo mode's redirect), and, for a user who has factors
    already, in a session that used one (the library's own check)."""

    request: HttpRequest

    def get_user(self) -> Any:
        user: Any = self.request.user
        if not user.is_authenticated:
            return None
        # The library's check asks user.is_verified(), which django-otp's OTPMiddleware adds
        # to every request at the cost of a query each for everyone who logged in with a
        # second factor. This check is its only use here, so it gets the answer from our own
        # record of the session's second factor, the one privileged pages ask.
        user.is_verified = functools.partial(two_factor.is_session_verified, self.request)
        return user

    def user_is_mfa_enrolled(self, user: Any) -> bool:
        return two_factor.has_two_factor(user)

    def check_can_register(self) -> None:
        if not passkeys_available(self.request):
            raise PasskeysUnavailable
        if not sudo_is_fresh(self.request):
            log_event("sudo_required", self.request)
            raise SudoRequired


class PasskeyRegisterBeginView(PasskeyRegistrationMixin, BeginCredentialRegistrationView):
    """The options for the browser's navigator.credentials.create(), with a fresh challenge
    kept in the session."""


class PasskeyRegisterCompleteView(PasskeyRegistrationMixin, CompleteCredentialRegistrationView):
    """Verifies the browser's new credential against the challenge and keeps it; the script
    then goes back to the overview (static/js/passkeys.js), which asks for recovery codes if
    there are none yet."""

    def post(self, *args: Any, **kwargs: Any) -> JsonResponse:
        request: Any = self.request  # with .data: the JSON body, parsed by the library's view
        user, state = self.get_user(), self.get_state()  # the state is used up here
        with rewrite_exceptions(logger=_webauthn_logger()):
            device = two_factor.passkey_add(
                request=request, user=user, helper=self.get_helper(), state=state, data=request.data
            )
        messages.success(request, _("Your passkey is set up."))
        return JsonResponse({"id": device.pk})


def _webauthn_logger() -> logging.Logger | None:
    """Where the library logs why py_webauthn refused an answer (it does so itself too)."""
    name = webauthn_settings.OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME
    return logging.getLogger(name) if name else None


class PasskeyLoginMixin(CeremonyMixin):
    """The login's second step with a passkey: only for the user whose password was just
    right (the pending login), only their passkeys; never a passwordless login (with no
    pending login the library would otherwise look for one). A locked-out user is refused
    before anything is checked."""

    request: HttpRequest
    pending: two_factor.PendingLogin | None = None

    def check_can_authenticate(self) -> None:
        self.pending = two_factor.pending_login(self.request)
        if self.pending is None:
            raise NoPendingLogin
        if two_factor.is_locked_out(self.request, self.pending.user):
            raise LockedOut
        if not passkeys_available(self.request):
            raise PasskeysUnavailable

    def get_user(self) -> Any:
        return self.pending.user if self.pending else None


@method_decorator(login_not_required, name="dispatch")
class PasskeyLoginBeginView(PasskeyLoginMixin, BeginCredentialAuthenticationView):
    """The options for navigator.credentials.get(): a challenge, and the pending user's
    passkeys (allowCredentials), so the browser offers only those."""


@method_decorator(login_not_required, name="dispatch")
class PasskeyLoginCompleteView(PasskeyLoginMixin, CompleteCredentialAuthenticationView):
    """Verifies the passkey's signature over the challenge; the library refuses a passkey of
    anyone but the pending user (CredentialUserMismatch). A failure counts towards the
    lockout as a wrong code or password does."""

    next_url = ""

    def complete_auth(self, device: Any) -> None:
        assert self.pending is not None  # check_can_authenticate ran  # noqa: S101
        self.next_url = two_factor.login_complete(self.request, self.pending, device)

    def get_success_url(self) -> str:
        # Where the password step was going (checked then), not a ?next= the script adds.
        return self.next_url

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        pending, request = self.pending, self.request
        refusal = isinstance(exc, NoPendingLogin | LockedOut | PasskeysUnavailable)
        if pending is not None and isinstance(exc, OTPWebAuthnApiError) and not refusal:
            log_event("passkey_login_failed", request, reason=exc.code)
            two_factor.report_wrong_code(request, pending.user)
            if two_factor.is_locked_out(request, pending.user):
                two_factor.pending_login_clear(request)
                # The lockout page, as after a wrong code (axes' middleware would answer
                # with it anyway); the script sees the 429 and says so (passkeys.js).
                credentials = two_factor.lockout_credentials(pending.user)
                return get_lockout_response(request, None, credentials)
        return super().handle_exception(exc)


@method_decorator(login_not_required, name="dispatch")
class PasskeyScriptCatalogView(JavaScriptCatalog):
    """The translations of django-otp-webauthn's scripts (they call gettext()), which the
    library's own URLs would serve: those are not included, so that its views are only
    reachable through ours."""

    packages = ["django_otp_webauthn"]


@method_decorator([login_not_required, never_cache], name="dispatch")
class LoginVerifyView(FormView):
    """The login's second step: the password was right, now a code. Wrong codes count
    towards the same lockout as wrong passwords; the user is logged in only here."""

    form_class = SecondFactorForm
    template_name = "registration/login_verify.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        pending = two_factor.pending_login(request)
        if pending is None:
            messages.info(request, _("Log in with your password first."))
            return HttpResponseRedirect(reverse("accounts:login"))
        self.pending = pending
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def has_authenticator(self) -> bool:
        return bool(two_factor.authenticators_of(self.pending.user))

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "with_authenticator": self.has_authenticator}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        passkey = passkeys_available(self.request) and two_factor.has_passkey(self.pending.user)
        return super().get_context_data(
            has_authenticator=self.has_authenticator,
            passkey=passkey,
            passkey_config=passkey_script_config(self.request) if passkey else None,
            **kwargs,
        )

    def form_valid(self, form: SecondFactorForm) -> HttpResponse:
        request, user = self.request, self.pending.user
        credentials = two_factor.lockout_credentials(user)
        if two_factor.is_locked_out(request, user):
            return get_lockout_response(request, None, credentials)
        try:
            device = two_factor.code_verify(user=user, code=form.cleaned_data["code"])
        except two_factor.CodeThrottled:
            form.add_error("code", two_factor.THROTTLED_MESSAGE)
            return self.form_invalid(form)
        if device is None:
            two_factor.report_wrong_code(request, user)
            if two_factor.is_locked_out(request, user):
                two_factor.pending_login_clear(request)
                return get_lockout_response(request, None, credentials)
            form.add_error(
                "code",
                _("That code is not right, or was used already. Type the newest one."),
            )
            return self.form_invalid(form)
        next_url = two_factor.login_complete(request, self.pending, device)
        if isinstance(device, RecoveryCodeDevice):
            left = two_factor.recovery_codes_left(user) or 0
            messages.warning(
                request,
                _(
                    "You used a recovery code; %(left)s are left. If your phone is lost, "
                    "set up a new authenticator and make new codes."
                )
                % {"left": left},
            )
            return HttpResponseRedirect(reverse("accounts:two-factor"))
        return HttpResponseRedirect(next_url)
