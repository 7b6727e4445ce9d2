"""Production. Everything comes from the environment; nothing insecure has a default."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, SECRET_KEY

DEBUG = False

if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (a long random string).")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must be set (comma-separated host names, e.g. books.example.org)."
    )

# --- Static files: compressed, hashed names, served by whitenoise --------------------------
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email: real SMTP (host and credentials from DJANGO_EMAIL_* in base) -------------------
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
