"""Production. Everything comes from the environment; nothing insecure has a default."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, BEHIND_TLS_PROXY, DATABASES, DB_CONN_MAX_AGE, SECRET_KEY

DEBUG = False

if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (a long random string).")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must be set (comma-separated host names, e.g. books.example.org)."
    )

# --- Database: keep each worker's connection (a new one per request cost more than a ------
# --- page: /healthz was 3× faster with reuse, make bench) -----------------------------------
DATABASES["default"]["CONN_MAX_AGE"] = 60 if DB_CONN_MAX_AGE is None else DB_CONN_MAX_AGE

# --- Static files: compressed, hashed names, served by whitenoise --------------------------
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email: real SMTP (host and credentials from DJANGO_EMAIL_* in base) -------------------
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

# --- HTTPS only: plain HTTP redirects, HSTS for a year ------------------------------------
# Every plain-HTTP request is redirected to HTTPS (to SECURE_SSL_HOST when set: the TLS
# port may differ from the one the request came in on). /healthz stays reachable over HTTP
# for load balancers that probe the backend directly.
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# HSTS: browsers refuse plain HTTP to this host (and its subdomains) for a year; "preload"
# allows submitting the domain to the browsers' built-in list.
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
if BEHIND_TLS_PROXY:
    # Believe X-Forwarded-Proto only from our own proxy, which sets it on every request.
    # Without one, any client could send "X-Forwarded-Proto: https" over plain HTTP and
    # Django would treat the request as secure (no redirect, secure cookies over HTTP).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Cookies ------------------------------------------------------------------------------
# Secure: sent over HTTPS only. HttpOnly: the session cookie is out of JavaScript's reach.
# SameSite=Lax (base.py): not sent on cross-site POSTs. The __Host- prefix makes browsers
# refuse the cookie unless it is Secure, has Path=/ and no Domain: no subdomain can plant it.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_NAME = "__Host-csrftoken"
CSRF_COOKIE_HTTPONLY = True  # the token reaches htmx through the page, never the cookie
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_NAME = "__Host-language"

# --- Django's classic security settings, and what each does today -------------------------
# SECURE_BROWSER_XSS_FILTER: no header since Django 4.0 (the X-XSS-Protection filter was
# dropped by browsers and could itself be abused); the strict CSP in base.py replaces it.
SECURE_BROWSER_XSS_FILTER = True
# X_FRAME_OPTIONS (base.py: "DENY") and CSP frame-ancestors 'none': no framing, no clickjacking.
# SECURE_CONTENT_TYPE_NOSNIFF (base.py: True): "X-Content-Type-Options: nosniff".
