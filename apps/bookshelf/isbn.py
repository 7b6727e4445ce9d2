"""ISBN-10 and ISBN-13: checksum validation and normalisation to ISBN-13."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Hyphens and spaces are how people write ISBNs; they carry no meaning.
_SEPARATORS = re.compile(r"[\s\-‐‑–]+")


def compact(value: str) -> str:
    """The ISBN without separators, upper-cased (for the ISBN-10 check digit X)."""
    return _SEPARATORS.sub("", value).upper()


def is_valid_isbn10(digits: str) -> bool:
    if not re.fullmatch(r"\d{9}[\dX]", digits):
        return False
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
    return total % 11 == 0


def isbn13_check_digit(first12: str) -> str:
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def is_valid_isbn13(digits: str) -> bool:
    return (
        bool(re.fullmatch(r"97[89]\d{10}", digits))
        and isbn13_check_digit(digits[:12]) == digits[12]
    )


def normalize_isbn(value: str) -> str:
    """Return the ISBN-13 form of a valid ISBN-10 or ISBN-13, or raise ``ValidationError``."""
    digits = compact(value)
    if len(digits) == 10 and is_valid_isbn10(digits):
        first12 = "978" + digits[:9]
        return first12 + isbn13_check_digit(first12)
    if len(digits) == 13 and is_valid_isbn13(digits):
        return digits
    if not re.fullmatch(r"\d{9}[\dX]|\d{13}", digits):
        raise ValidationError(
            _("An ISBN has 10 or 13 digits (hyphens and spaces are fine)."), code="isbn_format"
        )
    raise ValidationError(
        _("This ISBN's check digit is wrong; check for a typo."), code="isbn_checksum"
    )


def validate_isbn13(value: str) -> None:
    """Model-level guard: what is stored is always a valid, normalised ISBN-13."""
    if not is_valid_isbn13(value):
        raise ValidationError(_("Store ISBNs as 13 digits with a valid check digit."))


def format_isbn13(digits: str) -> str:
    """978-0-441-17271-9 style is publisher-specific; a fixed 3-10 split stays honest."""
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 13 else digits
