"""URLs of one object, many times a page, without a ``reverse()`` each.

``reverse()`` matches the name against the URLconf and checks the result against the
pattern on every call: about 20 µs. The book list builds five URLs a row, 140 a page
(``make bench``). A URL whose only argument is an integer id differs from one id to the
next only in the digits, so it is reversed once (per URLconf and script prefix) and the
id put in its place after that.
"""

from __future__ import annotations

from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

# Reversed in place of the id, then replaced: a number no real id is written as.
_PLACEHOLDER = 987654321987654321


@lru_cache(maxsize=128)
def _around_the_id(name: str, urlconf: str | None, prefix: str) -> tuple[str, str]:
    url = reverse(name, args=[_PLACEHOLDER], urlconf=urlconf)
    before, found, after = url.partition(str(_PLACEHOLDER))
    if not found or str(_PLACEHOLDER) in after:
        raise ValueError(f"{name}: not a URL with one id argument")
    return before, after


def url_with_id(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` for a URL pattern whose one argument is ``<int:…>``."""
    before, after = _around_the_id(name, get_urlconf(), get_script_prefix())
    return f"{before}{int(pk)}{after}"


@receiver(setting_changed)
def _forget_on_urlconf_change(setting: str, **kwargs: object) -> None:
    # Tests that swap ROOT_URLCONF (Django clears its own URL caches the same way).
    if setting == "ROOT_URLCONF":
        _around_the_id.cache_clear()
