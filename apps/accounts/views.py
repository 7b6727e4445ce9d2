from __future__ import annotations

import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView, UpdateView

from apps.core.htmx import is_htmx
from apps.core.middleware import change_refused_after_expiry, session_expired
from apps.core.net import safe_next_url
from apps.core.policy import PolicyDenied
from apps.core.security import LAST_SEEN_AT, log_event
from apps.core.sudo import sudo_is_fresh, sudo_renew

from .email_change import (
    EmailChange,
    email_change_confirm,
    email_change_pending,
    email_change_read,
    email_change_request,
    is_for_someone_else,
    why_cannot_confirm,
)
from .forms import ConfirmPasswordForm, LoginForm, ProfileForm
from .models import User
from .notices import security_notice
from .sessions import (
    device_label,
    end_other_sessions,
    end_session,
    find_session,
    has_other_sessions,
    public_id,
    sessions_of,
    why_cannot_end,
)
from .two_factor import has_two_factor, pending_login_start


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            session_expired=session_expired(self.request),
            change_refused=change_refused_after_expiry(self.request),
            **kwargs,
        )

    def form_valid(self, form: auth_forms.AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if has_two_factor(user):
            # Not logged in yet: the second step (two_factor_views.LoginVerifyView) does it.
            pending_login_start(self.request, user, self.get_success_url())
            return HttpResponseRedirect(reverse("accounts:login-verify"))
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default since 5.0): a link or an image tag cannot log anyone out."""


class KeepAliveView(View):
    """The "Stay signed in" button of static/js/session.js's warning toast: pushes the idle
    limit back (not the absolute lifetime). An htmx request gets 204 and, from
    SessionExpiryMiddleware, the new X-Session-Expires-In; a plain POST goes back to ``next``.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        request.session[LAST_SEEN_AT] = time.time()  # a write: the session is saved anew
        if is_htmx(request):
            return HttpResponse(status=HTTPStatus.NO_CONTENT)
        return HttpResponseRedirect(safe_next_url(request, reverse("core:home")))


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    """Asks for the current password (which also renews sudo mode). Django then signs out
    every other session of the user: their session hash no longer matches."""

    success_url = reverse_lazy("accounts:profile")
    success_message = _("Your password was changed. Your other sessions were signed out.")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        sudo_renew(self.request)
        # Their session hash no longer matches, so they were dead already; ended here, they
        # also leave the sessions page.
        end_other_sessions(self.request.user, self.request.session.session_key)
        log_event("password_changed", self.request)
        security_notice(request=self.request, user=self.request.user, what="password_changed")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    success_url = reverse_lazy("accounts:password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # Whoever knew the old password is signed out too: every session of the user but
        # this browser's, which (if it is theirs) is flushed rather than deleted under the
        # request's feet (the middleware would fail to save it: a 400).
        end_other_sessions(form.user, self.request.session.session_key)
        security_notice(request=self.request, user=form.user, what="password_reset")
        if str(self.request.session.get(SESSION_KEY)) == str(form.user.pk):
            self.request.session.flush()
        return response

    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    pass


class ConfirmPasswordView(LoginRequiredMixin, FormView):
    """Sudo mode: type the password again, then go back to what you were doing."""

    form_class = ConfirmPasswordForm
    template_name = "registration/confirm_password.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(next=self.get_success_url(), **kwargs)

    def form_valid(self, form: ConfirmPasswordForm) -> HttpResponse:
        sudo_renew(self.request)
        log_event("sudo_confirmed", self.request)
        messages.success(self.request, _("Password confirmed. You can go on."))
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self) -> str:
        return safe_next_url(self.request, reverse("core:home"))


class ProfileView(LoginRequiredMixin, UpdateView):
    form_class = ProfileForm
    template_name = "accounts/profile.html"
    success_url = reverse_lazy("accounts:profile")

    def get_object(self, queryset: Any = None) -> User:
        # A fresh copy, not request.user: a rejected upload must not change the avatar the
        # navbar shows while the form is re-rendered with its errors.
        return User.objects.get(pk=self.request.user.pk or 0)  # signed in: LoginRequired

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(two_factor_on=has_two_factor(self.request.user), **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "request": self.request,
            "sudo_fresh": sudo_is_fresh(self.request),
            "pending_email": email_change_pending(self.request, self.object),
        }

    def form_valid(self, form: ProfileForm) -> HttpResponse:
        if form.password_confirmed:
            sudo_renew(self.request)
        self.object = form.save()  # everything but a new address: that waits for its link
        new_email = form.new_email
        if not new_email:
            messages.success(self.request, _("Your profile was saved."))
        elif email_change_request(request=self.request, user=self.object, new_email=new_email):
            messages.success(
                self.request,
                _(
                    "Your profile was saved. We sent a link to %(email)s: your address "
                    "changes when you open it."
                )
                % {"email": new_email},
            )
        else:
            messages.success(self.request, _("Your profile was saved."))
            messages.error(
                self.request,
                _(
                    "We could not send the link to %(email)s, so your address stays as it is. "
                    "Try again in a few minutes."
                )
                % {"email": new_email},
            )
        return HttpResponseRedirect(self.get_success_url())


class ProfilePhotoView(LoginRequiredMixin, DetailView):
    """Serves a profile photo by its random file name, in every environment.

    Media files are not public static files: only signed-in users see avatars, and the
    name changes with each upload, so the response may be cached for long.
    """

    def get_object(self, queryset: Any = None) -> User:
        return get_object_or_404(User, profile_photo=f"avatars/{self.kwargs['filename']}")

    # A file, not a template: the stubs type this hook as returning a TemplateResponse.
    def render_to_response(  # type: ignore[override]
        self, context: dict[str, Any], **response_kwargs: Any
    ) -> FileResponse:
        photo = self.object.profile_photo
        try:
            handle = photo.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle)
        response["Cache-Control"] = "private, max-age=31536000, immutable"
        return response


# --- Sessions ---------------------------------------------------------------------------------


class SessionListView(LoginRequiredMixin, TemplateView):
    """``/accounts/sessions/``: where the user is signed in (browser, IP, last seen, this
    one marked), with "Sign out" for each other session and for all of them."""

    template_name = "accounts/sessions.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        current = self.request.session.session_key
        context["sessions"] = [
            SessionRow(
                session, public_id(session), session.session_key == current, device_label(session)
            )
            for session in sessions_of(self.request.user)
        ]
        return context


@dataclass(frozen=True)
class SessionRow:
    session: Any
    id: str  # public_id: never the key
    is_current: bool
    device: str


class EndSessionView(LoginRequiredMixin, View):
    """Signs one of the user's other sessions out: under htmx its row goes (an empty
    answer) with a toast; a plain POST comes back to the list."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, session_id: str) -> HttpResponse:
        session = find_session(request.user, session_id)
        refusal = why_cannot_end(request.user, session, request.session.session_key)
        if refusal or session is None:
            messages.info(request, str(refusal))
        else:
            end_session(session)
            log_event("session_ended", request)
            messages.success(request, _("That session is signed out."))
        if is_htmx(request):
            if has_other_sessions(request.user, request.session.session_key):
                return HttpResponse("")  # the row goes (the swap replaces it with nothing)
            return render(request, "accounts/sessions.html#nothing-else-to-end")
        return HttpResponseRedirect(reverse("accounts:sessions"))


class EndOtherSessionsView(LoginRequiredMixin, View):
    """Signs the user out everywhere but here."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        ended = end_other_sessions(request.user, request.session.session_key)
        log_event("sessions_ended", request, count=ended)
        messages.success(
            request,
            ngettext(
                "Signed out of %(n)s other session.", "Signed out of %(n)s other sessions.", ended
            )
            % {"n": ended}
            if ended
            else _("You were not signed in anywhere else."),
        )
        return HttpResponseRedirect(reverse("accounts:sessions"))


# --- E-mail change ----------------------------------------------------------------------------


class EmailChangeConfirmView(LoginRequiredMixin, FormView):
    """``/accounts/email/confirm/<token>/``, the link mailed to a new address: GET shows
    the change and a button (a GET must not change anything: mail scanners open links),
    POST makes it. Signed-out visitors log in first and come back (deny by default)."""

    form_class = forms.Form  # the button alone: the CSRF token is all it posts
    template_name = "accounts/email_confirm.html"

    @cached_property
    def change(self) -> EmailChange | None:
        return email_change_read(self.kwargs["token"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = cast(User, self.request.user)  # signed in: LoginRequiredMixin
        kwargs.setdefault("refusal", why_cannot_confirm(user, self.change))
        return super().get_context_data(change=self.change, **kwargs)

    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> HttpResponse:
        # Another account's link is a refusal (403); a dead link is a page that says so, as
        # Django's password reset answers.
        if is_for_someone_else(self.request.user, self.change):
            response_kwargs.setdefault("status", HTTPStatus.FORBIDDEN)
        return super().render_to_response(context, **response_kwargs)

    def form_valid(self, form: forms.Form) -> HttpResponse:
        if self.change is None:
            return self.render_to_response(self.get_context_data())
        try:
            email_change_confirm(request=self.request, change=self.change)
        except PolicyDenied as refusal:
            return self.render_to_response(self.get_context_data(refusal=str(refusal)))
        messages.success(
            self.request,
            _("Your email address is now %(email)s.") % {"email": self.change.new_email},
        )
        return HttpResponseRedirect(reverse("accounts:profile"))
