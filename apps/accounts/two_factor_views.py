"""The two-factor pages: the factors of one's account (``/accounts/two-factor/``), enrolling
an authenticator app, recovery codes, and the login's second step. The rules and the
writes are in apps/accounts/two_factor.py."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_lockout_response
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.net import safe_next_url
from apps.core.security import log_event
from apps.core.sudo import SudoRequiredMixin

from . import two_factor
from .models import RecoveryCodeDevice
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


class TwoFactorView(LoginRequiredMixin, TemplateView):
    """The user's second factors: rename or remove each, add an authenticator, make new
    recovery codes. Where privileged pages send those who must enrol."""

    template_name = "accounts/two_factor.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        factors = two_factor.factors_of(user)
        return super().get_context_data(
            factors=[
                (device, two_factor.why_cannot_remove_factor(user, device)) for device in factors
            ],
            required=two_factor.must_use_two_factor(user),
            codes_left=two_factor.recovery_codes_left(user),
            next=safe_next_url(self.request, ""),
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
    """A POST about one of the user's own authenticators (another's is a 404)."""

    request: HttpRequest
    kwargs: dict[str, Any]

    def get_device(self) -> TOTPDevice:
        return get_object_or_404(
            TOTPDevice, pk=self.kwargs["pk"], user=self.request.user, confirmed=True
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


class RecoveryCodesGenerateView(LoginRequiredMixin, SudoRequiredMixin, View):
    """A new set of recovery codes; the old ones stop working."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        if not two_factor.has_two_factor(request.user):
            messages.error(request, _("Set up an authenticator app first."))
            return HttpResponseRedirect(reverse("accounts:two-factor"))
        codes = two_factor.recovery_codes_generate(user=request.user)
        log_event("recovery_codes_generated", request)
        return recovery_codes_page(request, codes, first=False)


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

    def form_valid(self, form: SecondFactorForm) -> HttpResponse:
        request, user = self.request, self.pending.user
        credentials = two_factor.lockout_credentials(user)
        if two_factor.is_locked_out(request, user):
            return get_lockout_response(request, None, credentials)
        device = two_factor.code_verify(user=user, code=form.cleaned_data["code"])
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
        next_url = self.pending.next_url
        two_factor.pending_login_clear(request)
        login(request, user, backend=self.pending.backend)
        two_factor.mark_session_verified(request, device)
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
        return HttpResponseRedirect(next_url or reverse("core:home"))
