"""Search-box text from a query string, made safe to hand to any database."""

from __future__ import annotations

import unicodedata

from django.http import QueryDict

SEARCH_MAX_LENGTH = 100


def search_text(params: QueryDict, key: str = "q") -> str:
    """The search box's text: control characters removed, spaces trimmed, at most
    ``SEARCH_MAX_LENGTH`` characters.

    PostgreSQL refuses a NUL byte in a text parameter (``DataError``, a 500) where SQLite
    simply finds nothing, and no stored text contains control characters, so they go.
    A search box is lenient: odd input searches for what is left rather than failing.
    """
    value = params.get(key, "")
    cleaned = "".join(char for char in value if unicodedata.category(char) != "Cc")
    return cleaned.strip()[:SEARCH_MAX_LENGTH]
