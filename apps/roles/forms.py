from __future__ import annotations

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _


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
