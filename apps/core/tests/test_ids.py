"""The parsers views use for ids and search text from forms and query strings."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.models import Group
from django.http import QueryDict

from apps.core.ids import MAX_ID, IdModelMultipleChoiceField, parse_id
from apps.core.search import SEARCH_MAX_LENGTH, search_text


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("1", 1),
        ("42", 42),
        (str(MAX_ID), MAX_ID),
        ("007", 7),
        ("0", None),
        ("-1", None),
        ("+1", None),
        ("1.5", None),
        ("1e3", None),
        ("abc", None),
        ("²", None),  # str.isdigit() says yes; int() says no
        ("١٢", None),  # Arabic-Indic digits: int() accepts them, ids are ASCII
        (" 1", None),
        ("1 ", None),
        ("1\x00", None),
        ("", None),
        (str(MAX_ID + 1), None),
        ("99999999999999999999999", None),
        ("1" * 5000, None),  # beyond int()'s 4,300-digit limit: refused before converting
        (None, None),
        (1, None),  # only text comes from a request
        (["1"], None),
    ],
)
def test_parse_id_accepts_only_ascii_digits_in_the_id_range(raw, parsed):
    assert parse_id(raw) == parsed


@pytest.mark.django_db
@pytest.mark.parametrize(
    "junk", ["abc", "1.5", "²", "1\x00", "99999999999999999999999", "1" * 5000]
)
def test_the_id_form_fields_turn_junk_into_validation_errors(junk):
    group = Group.objects.get(name="Editors")
    # Django's single-choice field needs no help (the members form relies on it).
    single = forms.ModelChoiceField(queryset=Group.objects.all())
    assert single.clean(str(group.pk)) == group
    with pytest.raises(forms.ValidationError):
        single.clean(junk)
    several = IdModelMultipleChoiceField(queryset=Group.objects.all())
    assert list(several.clean([str(group.pk)])) == [group]
    with pytest.raises(forms.ValidationError):
        several.clean([str(group.pk), junk])


@pytest.mark.parametrize(
    ("raw", "searched"),
    [
        ("dune", "dune"),
        ("  Frank Herbert  ", "Frank Herbert"),
        ("du\x00ne", "dune"),  # PostgreSQL refuses NUL in a text parameter
        ("a\tb\r\n", "ab"),
        ("é ü 日本", "é ü 日本"),
        ("x" * 5000, "x" * SEARCH_MAX_LENGTH),
        ("", ""),
    ],
)
def test_search_text_is_trimmed_and_free_of_control_characters(raw, searched):
    assert search_text(QueryDict.fromkeys(["q"], raw)) == searched
    assert search_text(QueryDict()) == ""
