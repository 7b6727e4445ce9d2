"""Local development: `make run`. Debug on, console email, a local-only secret key."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, SECRET_KEY

DEBUG = True
# Only ever used on a developer's machine; prod refuses to start without its own key.
SECRET_KEY = SECRET_KEY or "django-insecure-local-development-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
