"""Forms of two-factor authentication: enrolling an authenticator, naming a factor, and the
code asked at login (apps/accounts/two_factor.py does the checking)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:  # django-stubs-ext is a dev-only package (requirements/dev.in)
    from django_stubs_ext import StrOrPromise

# The field every code is typed into (login, sudo mode): masked in axes' logs
# (AXES_SENSITIVE_PARAMETERS) and filled by the phone's keyboard suggestions
# (autocomplete="one-time-code").
CODE_FIELD = "code"


def code_field(
    *, label: StrOrPromise, help_text: StrOrPromise, digits_only: bool = False
) -> forms.CharField:
    attrs: dict[str, Any] = {
        "autocomplete": "one-time-code",
        "autocapitalize": "off",
        "spellcheck": "false",
    }
    if digits_only:
        attrs |= {"inputmode": "numeric", "pattern": "[0-9 ]*"}
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=32,
        widget=forms.TextInput(attrs=attrs),
    )


class FactorNameForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("So that you can tell your factors apart, e.g. “Phone”."),
    )


class AuthenticatorAddForm(FactorNameForm):
    code = code_field(
        label=_("Code from the app"),
        help_text=_("The 6 digits your authenticator app shows for Bookshelf now."),
        digits_only=True,
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if re.fullmatch(r"[0-9]{6}", code) is None:  # not isdigit(): "¹²³⁴⁵⁶" passes it
            raise forms.ValidationError(_("Enter the 6 digits the app shows."), code="format")
        return code


class SecondFactorForm(forms.Form):
    """The login's second step. ``with_authenticator``: whether the user has an
    authenticator app; someone with passkeys only types a recovery code here."""

    code = code_field(
        label=_("Code"),
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
    )

    def __init__(self, *args: Any, with_authenticator: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs["autofocus"] = True
        if not with_authenticator:
            self.fields["code"].help_text = _("One of your recovery codes.")
