from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.bookshelf.isbn import is_valid_isbn10, is_valid_isbn13, normalize_isbn


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("9780441172719", "9780441172719"),  # ISBN-13
        ("978-0-441-17271-9", "9780441172719"),  # hyphens
        ("978 0 441 17271 9", "9780441172719"),  # spaces
        ("0441172717", "9780441172719"),  # ISBN-10, converted
        ("0-441-17271-7", "9780441172719"),
        ("080442957X", "9780804429573"),  # ISBN-10 with check digit X
        ("080442957x", "9780804429573"),  # lower-case x
        ("979-10-90636-07-1", "9791090636071"),  # 979 prefix
    ],
)
def test_valid_isbns_are_normalised_to_isbn13(given, stored):
    assert normalize_isbn(given) == stored


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("9780441172710", "isbn_checksum"),  # wrong ISBN-13 check digit
        ("0441172718", "isbn_checksum"),  # wrong ISBN-10 check digit
        ("9770441172719", "isbn_checksum"),  # not a 978/979 book prefix
        ("12345", "isbn_format"),
        ("97804411727190", "isbn_format"),  # 14 digits
        ("ISBN-PLEASE", "isbn_format"),
        ("X441172717", "isbn_format"),  # X only allowed last
    ],
)
def test_invalid_isbns_are_refused_with_a_reason(given, code):
    with pytest.raises(ValidationError) as excinfo:
        normalize_isbn(given)
    assert excinfo.value.code == code


def test_checksum_helpers():
    assert is_valid_isbn10("0441172717")
    assert not is_valid_isbn10("044117271X")
    assert is_valid_isbn13("9780441172719")
    assert not is_valid_isbn13("978044117271")
