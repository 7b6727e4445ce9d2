"""Group checks that cost one query per request, however often a template asks."""

from __future__ import annotations

from typing import Any


def group_names(user: Any) -> frozenset[str]:
    """The names of the user's groups, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_group_names_cache", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._group_names_cache = cached
    return cached
