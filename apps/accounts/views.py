from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, UpdateView

from .forms import LoginForm, ProfileForm
from .models import User


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default since 5.0): a link or an image tag cannot log anyone out."""


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    success_url = reverse_lazy("accounts:profile")
    success_message = _("Your password was changed.")


class PasswordResetView(auth_views.PasswordResetView):
    success_url = reverse_lazy("accounts:password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    pass


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    pass


class ProfileView(LoginRequiredMixin, SuccessMessageMixin, UpdateView):
    form_class = ProfileForm
    template_name = "accounts/profile.html"
    success_url = reverse_lazy("accounts:profile")
    success_message = _("Your profile was saved.")

    def get_object(self, queryset: Any = None) -> User:
        # A fresh copy, not request.user: a rejected upload must not change the avatar the
        # navbar shows while the form is re-rendered with its errors.
        return User.objects.get(pk=self.request.user.pk)


class ProfilePhotoView(LoginRequiredMixin, DetailView):
    """Serves a profile photo by its random file name, in every environment.

    Media files are not public static files: only signed-in users see avatars, and the
    name changes with each upload, so the response may be cached for long.
    """

    def get_object(self, queryset: Any = None) -> User:
        return get_object_or_404(User, profile_photo=f"avatars/{self.kwargs['filename']}")

    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> FileResponse:
        photo = self.object.profile_photo
        try:
            handle = photo.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle)
        response["Cache-Control"] = "private, max-age=31536000, immutable"
        return response
