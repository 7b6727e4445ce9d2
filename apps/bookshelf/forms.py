from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .isbn import normalize_isbn
from .models import Book


class BookForm(forms.ModelForm):
    isbn = forms.CharField(
        label=_("ISBN"),
        required=False,
        max_length=32,
        help_text=_("ISBN-10 or ISBN-13, hyphens allowed. Optional."),
    )

    class Meta:
        model = Book
        fields = ["title", "author", "isbn", "publication_year", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["publication_year"].widget.attrs["min"] = 1450

    def clean_isbn(self) -> str | None:
        value = self.cleaned_data["isbn"].strip()
        # NULL, not "", when absent: the unique constraint applies only to given ISBNs.
        return normalize_isbn(value) if value else None

    @property
    def edited_fields(self) -> dict[str, Any]:
        """The model fields this form edits, as cleaned values."""
        return {name: self.cleaned_data[name] for name in BookForm.Meta.fields}


class BookUpdateForm(BookForm):
    # The version the editor started from; saving over a newer one is a conflict.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version
        self.fields["version"].error_messages["required"] = _(
            "This form is incomplete. Reload the page and edit the book again."
        )

    def with_version(self, version: int) -> BookUpdateForm:
        """The same submitted values, based on ``version``: saving it applies them again."""
        data = {**dict(self.data.items()), "version": str(version)}
        return type(self)(data=data, instance=self.instance)


class BookDeleteForm(forms.Form):
    # The version the confirmation showed; a book changed since is asked about again.
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": _("This form is incomplete. Reload the page and delete the book again.")
        },
    )


class RequestChangesForm(forms.Form):
    """What the publisher asks the submitter to change: required, it is the whole point."""

    comment = forms.CharField(
        label=_("What should change?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what should change: the comment is required.")},
    )
