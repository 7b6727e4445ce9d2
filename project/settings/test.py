"""The test suite (pytest, unit and e2e)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import CACHES, REDIS_URL, SECRET_KEY

DEBUG = False
SECRET_KEY = SECRET_KEY or "django-insecure-test-key"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# One Argon2 hash costs about 130 ms; tests create many users. Dev and prod keep Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Uploaded test files never land in the working tree.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="bookshelf-test-media-"))
# No collectstatic in tests: whitenoise serves straight from the finders, looking each file
# up when it is asked for (autorefresh). Listing them all instead happens whenever Django
# builds the middleware, which each test's client does: a large part of a short test's time.
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="bookshelf-test-static-"))
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Under pytest-xdist each worker has a database of its own; with REDIS_URL its cache entries
# (list totals keyed by a table's change counter, sessions) must be its own too, and those of
# another run at the same time. Processes a test starts inherit these variables, so they
# share the entries of the worker that started them.
_XDIST_RUN = "-".join(
    os.environ.get(name, "") for name in ("PYTEST_XDIST_TESTRUNUID", "PYTEST_XDIST_WORKER")
).strip("-")
if REDIS_URL and _XDIST_RUN:
    for _cache in CACHES.values():
        _cache["KEY_PREFIX"] = f"{_cache['KEY_PREFIX']}-{_XDIST_RUN}"  # type: ignore[index]
