from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import RecoveryCodeDevice, User
from .notices import security_notice
from .photos import clean_profile_photo
from .two_factor import (
    THROTTLED_MESSAGE,
    CodeThrottled,
    code_verify,
    has_two_factor,
    is_locked_out,
    report_wrong_code,
)
from .two_factor_forms import code_field


class LoginForm(auth_forms.AuthenticationForm):
    username = auth_forms.UsernameField(
        label=_("Username or email"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": _(
            "That username or email and password do not match. Check them and try again."
        ),
    }


class DateInput(forms.DateInput):
    input_type = "date"


class ProfilePhotoFormMixin(forms.ModelForm):
    """Validates and re-encodes an uploaded ``profile_photo``; deletes the replaced file."""

    # A plain FileField, not forms.ImageField: clean_profile_photo does every check itself,
    # so each refusal gets a precise message instead of "not an image or corrupted".
    profile_photo = forms.FileField(
        label=_("Profile photo"),
        required=False,
        help_text=_("JPEG, PNG or WebP, at most 2 MB and 4096×4096 pixels."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._previous_photo_name = self.instance.profile_photo.name or ""

    def clean_profile_photo(self) -> Any:
        photo = self.cleaned_data.get("profile_photo")
        # A new upload is an UploadedFile; an unchanged photo is the stored FieldFile and
        # False means "clear".
        if photo and hasattr(photo, "content_type"):
            return clean_profile_photo(photo)
        return photo

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        previous = self._previous_photo_name
        if commit and previous and previous != user.profile_photo.name:
            storage = user.profile_photo.storage
            # Only once the new row is committed, so a rollback never loses the old photo.
            transaction.on_commit(lambda: storage.delete(previous))
        return user


class ProfileForm(ProfilePhotoFormMixin, forms.ModelForm):
    """A user's own details. A new email address (the key to password resets) is never
    saved here: it needs the password when that was not entered in the last minutes (sudo
    mode), then ProfileView mails a link to it (apps/accounts/email_change.py) and the
    address changes when that link is confirmed. ``new_email`` is the address asked for."""

    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed to change your email address."),
    )

    class Meta:
        model = User
        fields = [
            "first_name",
            "last_name",
            "email",
            "date_of_birth",
            "profile_photo",
            "email_notifications",
        ]
        widgets = {"date_of_birth": DateInput(format="%Y-%m-%d")}

    def __init__(
        self,
        *args: Any,
        request: Any = None,
        sudo_fresh: bool = False,
        pending_email: str = "",
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.request = request
        self.sudo_fresh = sudo_fresh
        self.password_confirmed = False
        # Validation copies the typed address onto the instance; save() puts this back.
        self.stored_email = self.instance.email
        if sudo_fresh:
            del self.fields["current_password"]
        if pending_email:
            # Escaped: crispy marks help texts safe, and an address may hold quoted "<…>".
            self.fields["email"].help_text = format_html(
                gettext(
                    "Waiting for confirmation: {email}. Open the link we sent there to make it "
                    "your address."
                ),
                email=pending_email,
            )
        else:
            self.fields["email"].help_text = _(
                "A new address changes once you open the link we send to it."
            )

    @property
    def new_email(self) -> str:
        """The address to send a confirmation link to, or "" when it was not changed."""
        if "email" not in self.changed_data:
            return ""
        return str(self.cleaned_data.get("email") or "")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.sudo_fresh or "email" not in self.changed_data:
            return cleaned
        password = cleaned.get("current_password")
        user = self.instance
        if not password:
            self.add_error("current_password", _("Enter your password to change your email."))
        elif authenticate(self.request, username=user.get_username(), password=password) is None:
            self.add_error("current_password", _("That is not your password."))
        else:
            self.password_confirmed = True
        return cleaned

    def save(self, commit: bool = True) -> User:
        self.instance.email = self.stored_email  # changed only by the confirmation link
        return super().save(commit=commit)


class AdminUserCreationForm(ProfilePhotoFormMixin, auth_forms.AdminUserCreationForm):
    # django-stubs leave out the Meta of Django's user forms (model, fields, field_classes).
    class Meta(auth_forms.AdminUserCreationForm.Meta):  # type: ignore[name-defined]
        model = User
        fields = ["username", "email", "first_name", "last_name", "date_of_birth", "profile_photo"]


class AdminUserChangeForm(ProfilePhotoFormMixin, auth_forms.UserChangeForm):
    class Meta(auth_forms.UserChangeForm.Meta):  # type: ignore[name-defined]
        model = User
        # The admin's fieldsets decide what is shown; these are the fields it may edit.
        fields = [
            "username",
            "password",
            "first_name",
            "last_name",
            "email",
            "date_of_birth",
            "profile_photo",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
            "last_login",
            "date_joined",
        ]


class ConfirmPasswordForm(forms.Form):
    """Sudo mode: the signed-in user types their password again, or, with two-factor on, a
    code from their authenticator app or a recovery code (either proves it is them)."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args: Any, request: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.with_code = has_two_factor(request.user)
        if self.with_code:
            self.fields["code"] = code_field(
                label=_("Or a code from your authenticator app"),
                help_text=_("Or one of your recovery codes."),
            )
            self.fields["code"].required = False  # the password will do as well

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password, code = cleaned.get("password"), cleaned.get("code")
        user = self.request.user
        if password:
            # Through authenticate(), so django-axes counts and locks out wrong guesses too.
            if authenticate(self.request, username=user.get_username(), password=password) is None:
                self.add_error(
                    "password",
                    forms.ValidationError(_("That is not your password."), code="wrong_password"),
                )
        elif code and self.with_code:
            if is_locked_out(self.request, user):
                raise forms.ValidationError(
                    _("Too many wrong attempts. Try again later."), code="locked_out"
                )
            try:
                device = code_verify(user=user, code=code)
            except CodeThrottled:
                self.add_error("code", forms.ValidationError(THROTTLED_MESSAGE, code="throttled"))
                return cleaned
            if device is None:
                report_wrong_code(self.request, user)
                self.add_error(
                    "code",
                    forms.ValidationError(
                        _("That code is not right, or was used already."), code="wrong_code"
                    ),
                )
            elif isinstance(device, RecoveryCodeDevice):
                security_notice(
                    request=self.request,
                    user=user,
                    what="recovery_code_used",
                    detail=_("to confirm it was you; %(left)s left")
                    % {"left": device.codes_left()},
                )
        elif self.with_code:
            raise forms.ValidationError(_("Type your password or a code."), code="required")
        else:
            self.add_error(
                "password", forms.ValidationError(_("This field is required."), code="required")
            )
        return cleaned
