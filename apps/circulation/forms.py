from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .services import MAX_COPIES_AT_ONCE


class DeskScanForm(forms.Form):
    """The desk's one form: who is at the desk (to check out to), and the scanned copy."""

    member = forms.CharField(
        label=_("Member"),
        required=False,
        max_length=254,
        help_text=_("Username or e-mail of the person at the desk. Leave empty to check in."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    barcode = forms.CharField(
        label=_("Barcode"),
        max_length=32,
        error_messages={"required": _("Scan or type a copy's barcode.")},
        help_text=_("Enter checks the copy in if it is on loan, else out to the member."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "characters",
                "autofocus": True,  # the desk is scanned into
            }
        ),
    )

    def clean_member(self) -> Any | None:
        name = self.cleaned_data["member"].strip()
        if not name:
            return None
        found = list(
            get_user_model().objects.filter(
                Q(username__iexact=name) | Q(email__iexact=name), is_active=True
            )[:2]
        )
        if len(found) != 1:
            raise forms.ValidationError(
                _("No member is called “%(name)s” (username or e-mail)."), params={"name": name}
            )
        return found[0]


class AddCopiesForm(forms.Form):
    count = forms.IntegerField(
        label=_("Copies to add"),
        min_value=1,
        max_value=MAX_COPIES_AT_ONCE,
        initial=1,
        help_text=_("Each gets a new barcode; a waiting member is served first."),
        error_messages={
            "required": _("Enter how many copies to add, a whole number from 1 to 50."),
            "invalid": _("Enter how many copies to add, a whole number from 1 to 50."),
            "min_value": _("Add at least 1 copy."),
            "max_value": _("Add at most %(limit_value)s copies at a time."),
        },
    )
