"""The test suite (pytest, unit and e2e)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import SECRET_KEY

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
