"""Subresource Integrity for our own static files: ``integrity="{% sri 'js/app.js' %}"``.

Hand-written rather than django-sri: its tags render whole <script> elements, and ours must
also carry the CSP nonce and `defer`. The hash is of the file that is actually served (the
hashed, post-processed copy under manifest storage), so a tampered file is refused.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

register = template.Library()


def _read_served_file(path: str) -> bytes:
    stored_name = getattr(staticfiles_storage, "stored_name", None)
    name = stored_name(path) if stored_name else path
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as handle:
            return handle.read()
    found = finders.find(path)  # not collected (development and tests): the source file
    if not found:
        raise ValueError(f"Static file not found for SRI: {path}")
    with open(found, "rb") as handle:
        return handle.read()


def _integrity(path: str) -> str:
    digest = hashlib.sha384(_read_served_file(path)).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


_cached_integrity = lru_cache(maxsize=64)(_integrity)


@register.simple_tag
def sri(path: str) -> str:
    """The ``integrity`` value for a static file (cached unless DEBUG, where files change)."""
    return _integrity(path) if settings.DEBUG else _cached_integrity(path)
