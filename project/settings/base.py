"""Settings shared by every environment.

Every value that comes from the environment is read in this module, so there is one place
to look. ``dev``, ``test`` and ``prod`` only change what they must.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.contrib.messages import constants as message_constants
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated environment variable as a list, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_bool(name: str, *, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# --- Environment --------------------------------------------------------------------------
# Empty when unset: dev and test fall back to an insecure local key, prod refuses to start.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
# Seconds a worker keeps its database connection between requests (0: a new one for each
# request, the default here; prod.py keeps them a minute when this is not set).
DB_CONN_MAX_AGE = (
    int(os.environ["DJANGO_DB_CONN_MAX_AGE"]) if os.environ.get("DJANGO_DB_CONN_MAX_AGE") else None
)
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD") or "bookshelf-demo"
# Several instances of the app share one Redis (docs/deployment.md): empty for one instance.
REDIS_URL = os.environ.get("REDIS_URL", "")
# Only true when a TLS-terminating proxy of ours is the sole way in (docs/deployment.md):
# then its X-Forwarded-Proto and X-Real-IP headers are believed. Otherwise any client could
# claim to be on HTTPS or to come from any address by sending those headers itself.
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", default=False)
# Where plain-HTTP requests are redirected ("host:port"); empty means the request's host.
SECURE_SSL_HOST = os.environ.get("DJANGO_SECURE_SSL_HOST") or None
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_IDLE_SECONDS") or 2 * 60 * 60)
SESSION_ABSOLUTE_LIFETIME = int(os.environ.get("DJANGO_SESSION_MAX_SECONDS") or 12 * 60 * 60)
# Sudo mode: role changes and email/password changes need the password from this recently.
BOOKSHELF_SUDO_SECONDS = int(os.environ.get("DJANGO_SUDO_SECONDS") or 15 * 60)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST") or "localhost"
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT") or 587)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL") or "Bookshelf <noreply@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")

DEBUG = False

# --- Applications -------------------------------------------------------------------------
INSTALLED_APPS = [
    "apps.accounts",  # first, so its templates (registration/…) win over admin's
    "apps.core",
    "apps.bookshelf",
    "apps.circulation",
    "apps.roles",  # after the apps whose permissions its roles grant (post_migrate order)
    "apps.core.apps.BookshelfAdminConfig",  # django.contrib.admin, with our admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    # Django's sessions with their user, IP and browser (the sessions page): it replaces
    # django.contrib.sessions, whose table and engines it extends.
    "qsessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",  # whitenoise serves static files in runserver too
    "django.contrib.staticfiles",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "template_partials.apps.SimpleAppConfig",
    "axes",
    # Second factors: django-otp's devices, its TOTP plugin (authenticator apps), passkeys
    # and security keys (django-otp-webauthn) and our recovery codes
    # (apps.accounts.models.RecoveryCodeDevice).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "rules",  # object-level permissions: the apps' policy modules register their rules
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above whitenoise, so static files get the same headers as pages.
    "apps.core.security.SecurityHeadersMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # qsessions' middleware, with the client's IP as the rest of the app reads it.
    "apps.accounts.sessions.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.security.SessionLifetimeMiddleware",
    # Tells the page when the session ends; tells the login page that it has (session.js).
    "apps.core.middleware.SessionExpiryMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Deny by default: every view needs a logged-in user unless marked login_not_required.
    "apps.core.middleware.LoginRequiredMiddleware",
    # Privileged pages need a second factor: enrolment first, for those who have none.
    "apps.accounts.two_factor.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After MessageMiddleware in the list, so it runs before it on the way out.
    "apps.core.middleware.HtmxMessagesMiddleware",
    "apps.core.middleware.HtmxErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "apps.core.context_processors.return_to",
                "apps.core.context_processors.site",
            ],
            # Named partials ("page.html#partial") configured by hand rather than by the
            # package's automatic loader wrapping, so moving to Django 6's built-in
            # partials is a settings change.
            "builtins": ["template_partials.templatetags.partials"],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------------------
# Health checks: a kept connection the server has dropped is replaced, not used and failed.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE or 0, conn_health_checks=True
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions -------------------------------------------------------------------
# Sessions are qsessions' (a row per session with its user, IP and browser: the sessions
# page lists them, and a user's sessions are ended in one query).
SESSION_ENGINE = "apps.accounts.session_engines.db"
# One instance: each process's own memory (the default), sessions in the database. With
# REDIS_URL every instance shares the cache, so what is counted in it (the CSP report
# limit) is counted once across them, and sessions are read from it before the database
# (cached_db: still written to the database, so a Redis restart signs nobody out).
# Login lockouts (django-axes) and everything else live in the database, shared anyway.
# "counts": the list totals (apps/core/counting.py), one entry per search typed, kept apart
# so that they never push out what "default" holds.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "counts": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "counts",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bookshelf",
        },
        "counts": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bookshelf-counts",
        },
    }
    SESSION_ENGINE = "apps.accounts.session_engines.cached_db"

# --- Authentication -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses before any password is checked when the login is locked out.
    "axes.backends.AxesStandaloneBackend",
    "apps.accounts.backends.UsernameOrEmailBackend",
    # has_perm(perm, obj) for one object: the rules of apps/*/policy.py (django-rules).
    "rules.permissions.ObjectPermissionBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Signed-in pages warn this long before the idle limit (SESSION_COOKIE_AGE, above) and offer
# "Stay signed in" (static/js/session.js).
SESSION_WARNING_SECONDS = 2 * 60
# Argon2 makes every hash; the PBKDF2 ones read hashes from before it (re-made at the next
# login). No scrypt: Django's cost for it (2^14) is below what OWASP ASVS 2.4.6 asks.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# NIST SP 800-63B: length and a blocklist, no composition rules, no maximum below 64.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Login throttling (django-axes) ------------------------------------------------------
# 5 failures for one account from one IP lock that pair for 15 minutes. Keying on the pair
# means an attacker cannot lock a user out everywhere by failing from many addresses; the
# price is that a distributed guesser gets 5 tries per address (see docs/SECURITY.md).
# "Account", not "username as typed": login takes any case and the e-mail address, so the
# key is the account the login resolves to (apps.accounts.backends.lockout_key).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "apps.core.net.client_ip"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "apps.accounts.backends.lockout_key"
AXES_VERBOSE = False
# The login's second step reports wrong codes to axes too (apps/accounts/two_factor.py);
# axes stores the POST data of failures, so the code field is masked like the password.
AXES_SENSITIVE_PARAMETERS = ["code"]

# --- Two-factor authentication (django-otp) ------------------------------------------------
# Authenticator apps show this name beside the username.
OTP_TOTP_ISSUER = "Bookshelf"
# The login's second step must follow the password within this many seconds.
BOOKSHELF_TWO_FACTOR_LOGIN_SECONDS = 5 * 60
# URL namespaces that only a session verified by a second factor reaches, for the users who
# must have one (apps.accounts.two_factor.must_use_two_factor): role management and the admin.
BOOKSHELF_TWO_FACTOR_NAMESPACES = ["roles", "admin"]
# Passkeys (django-otp-webauthn) are a second factor only: a passkey never replaces the
# password (apps/accounts/two_factor_views.py serves its ceremonies for the pending login).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Bookshelf"  # some browsers show it when a passkey is made
# The relying party is the host the browser asked for, and the origin a passkey's answers
# must come from is the page's own (apps/accounts/passkeys.py): localhost on any port in
# dev and the browser tests, the site's name behind HTTPS in production, each checked
# against ALLOWED_HOSTS by Django. A fixed list of origins cannot follow the live server's
# random port, so our helper ignores the library's; its system check still wants one (this
# would be a developer's runserver on localhost).
OTP_WEBAUTHN_RP_ID_CALLABLE = "apps.accounts.passkeys.relying_party_id"
OTP_WEBAUTHN_HELPER_CLASS = "apps.accounts.passkeys.WebAuthnHelper"
OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://localhost:8000"]

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Profile photos: bytes and pixels accepted before anything is decoded.
PROFILE_PHOTO_MAX_BYTES = 2 * 1024 * 1024
PROFILE_PHOTO_MAX_PIXELS = (4096, 4096)
# Uploads larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Forms --------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email --------------------------------------------------------------------------------
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Security headers ---------------------------------------------------------------------
# Strict CSP: everything is denied unless named; scripts need our origin or the request
# nonce. default-src is explicit because django-csp would otherwise add 'self'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "report-uri": ["/csp-report/"],
        "report-to": "csp-endpoint",  # named in the Reporting-Endpoints header
    }
}
CSP_REPORT_PATH = "/csp-report/"
# Nothing here uses these browser features; deny them to every frame and script. Passkeys
# (WebAuthn) are for our own pages only, never a frame's.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
} | {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "screen-wake-lock",
        "sync-xhr",
        "usb",
        "xr-spatial-tracking",
    ]
}
CSRF_FAILURE_VIEW = "apps.core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Messages -----------------------------------------------------------------------------
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# Tags are Bootstrap's contextual names, so templates and app.js use them as they are.
MESSAGE_TAGS = {
    message_constants.DEBUG: "secondary",
    message_constants.INFO: "info",
    message_constants.SUCCESS: "success",
    message_constants.WARNING: "warning",
    message_constants.ERROR: "danger",
}

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "apps.core.log_format.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # stderr: where process managers and containers collect logs.
        "security": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO"},
        "security": {"handlers": ["security"], "level": "INFO", "propagate": False},
    },
}

# --- Product switches ---------------------------------------------------------------------
BOOKSHELF_PUBLIC_CATALOGUE = env_bool("BOOKSHELF_PUBLIC_CATALOGUE", default=True)
# The address e-mails link to (they are sent outside any request): scheme and host, no slash.
BOOKSHELF_SITE_URL = (os.environ.get("BOOKSHELF_SITE_URL") or "http://127.0.0.1:8000").rstrip("/")

# --- Circulation rules --------------------------------------------------------------------
BOOKSHELF_LOAN_DAYS = 21  # a loan's period, and what a renewal adds from the day of renewal
BOOKSHELF_LOAN_LIMIT = 5  # open loans per member
BOOKSHELF_RENEWALS = 2  # per loan; refused while someone waits for the book
BOOKSHELF_HOLD_SHELF_DAYS = 7  # how long a returned copy waits for the next member in the queue
