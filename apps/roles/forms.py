from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

from apps.core.ids import IdModelMultipleChoiceField


class GroupNameForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ["name"]
        labels = {"name": _("Role name")}

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        duplicate = Group.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise forms.ValidationError(_("A role with that name already exists."))
        return name


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Who"), required=False)
    group = forms.CharField(label=_("Role"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


# The forms below are built by the role pages themselves (Add buttons, checkbox grids): a
# person cannot make them invalid, so the views answer an invalid one with a 400
# (apps.core.ids.cleaned_or_bad_request).


class MemberAddForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True),
        error_messages={
            "required": _("Choose a person to add."),
            "invalid_choice": _(
                "That person can't be added: they don't exist or are inactive. Search again."
            ),
        },
    )


# Without the submitted value in the message: it is junk, possibly 5,000 characters of it.
STALE_FORM = _("This form is out of date or was changed. Reload the page and try again.")
STALE_FORM_ERRORS = {"invalid_choice": STALE_FORM, "invalid_pk_value": STALE_FORM}


class GroupPermissionsForm(forms.Form):
    """The grid's Save button: exactly the ticked permissions."""

    permissions = IdModelMultipleChoiceField(
        queryset=Permission.objects.all(), required=False, error_messages=STALE_FORM_ERRORS
    )


class UserRolesForm(forms.Form):
    """A person's roles: exactly the ticked ones."""

    groups = IdModelMultipleChoiceField(
        queryset=Group.objects.all(), required=False, error_messages=STALE_FORM_ERRORS
    )
