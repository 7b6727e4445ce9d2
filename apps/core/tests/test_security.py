"""Security settings and behaviour: deploy check, headers, SRI, lockout, sessions,
passwords, CSP reports and the security log."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import subprocess
import time
from http import HTTPStatus

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from qsessions.models import Session

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, force_login_verified
from apps.core.security import SESSION_STARTED_AT

from .processes import run_django
from .support import in_role

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("accounts:login")
STRONG_KEY = "k" * 20 + "-strong-enough-secret-key-for-check-deploy-0123456789"


def run_prod(script: str, **env: str) -> subprocess.CompletedProcess:
    args = script.split() if script.startswith("manage.py") else ["-c", script]
    return run_django(
        *args,
        DJANGO_SETTINGS_MODULE="project.settings.prod",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS="books.example.org",
        **env,
    )


# --- Production settings --------------------------------------------------------------------


def test_check_deploy_is_clean_with_a_valid_environment():
    result = run_prod("manage.py check --deploy --fail-level WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


PROD_VALUES = """
import django, json; django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE", "CSRF_COOKIE_NAME", "LANGUAGE_COOKIE_SECURE",
    "PASSWORD_HASHERS", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY", "SECURE_CROSS_ORIGIN_OPENER_POLICY", "EMAIL_BACKEND",
    "AXES_USERNAME_CALLABLE", "AXES_LOCKOUT_PARAMETERS"]}))
"""


def prod_values(**env: str) -> dict:
    result = run_prod(PROD_VALUES, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_prod_settings_enforce_https_and_secure_cookies():
    values = prod_values()
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and values["SECURE_HSTS_PRELOAD"]
    assert values["SESSION_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["CSRF_COOKIE_SECURE"] and values["LANGUAGE_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert values["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert values["PASSWORD_HASHERS"][0].endswith("Argon2PasswordHasher")
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["SECURE_CROSS_ORIGIN_OPENER_POLICY"] == "same-origin"
    assert values["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    # The lockout counts per account and address, whatever spelling was typed.
    assert values["AXES_USERNAME_CALLABLE"] == "apps.accounts.backends.lockout_key"
    assert values["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]


def test_proxy_ssl_header_is_only_trusted_behind_our_proxy():
    assert prod_values()["SECURE_PROXY_SSL_HEADER"] is None
    assert prod_values(DJANGO_BEHIND_TLS_PROXY="true")["SECURE_PROXY_SSL_HEADER"] == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]


# --- Headers ------------------------------------------------------------------------------------

EXPECTED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}


def assert_security_headers(response) -> None:
    for header, value in EXPECTED_HEADERS.items():
        assert response.get(header) == value, (header, response.get(header))
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert 'csp-endpoint="http://testserver/csp-report/"' in response["Reporting-Endpoints"]


def test_pages_carry_every_security_header(client, superuser):
    force_login_verified(client, superuser)
    for path in ("/", "/books/", "/roles/", "/accounts/profile/", "/healthz", "/no-such-page/"):
        assert_security_headers(client.get(path))


def test_static_files_carry_the_same_headers(client):
    response = client.get(settings.STATIC_URL + "js/app.js")
    assert response.status_code == HTTPStatus.OK
    assert_security_headers(response)


def test_dynamic_pages_are_never_cached(client, member):
    force_login_verified(client, member)
    cache_control = client.get("/").get("Cache-Control", "")
    assert "no-store" in cache_control and "private" in cache_control


def test_every_script_and_stylesheet_has_a_matching_integrity_hash(client):
    page = client.get(LOGIN_URL).text
    tags = re.findall(
        r'<(?:script|link)\b[^>]*?(?:src|href)="(/static/[^"]+\.(?:js|css))"[^>]*>', page
    )
    assert len(tags) == 6
    for url in tags:
        tag = re.search(rf'<[^>]*"{re.escape(url)}"[^>]*>', page).group(0)
        served = b"".join(client.get(url).streaming_content)
        expected = "sha384-" + base64.b64encode(hashlib.sha384(served).digest()).decode()
        assert f'integrity="{expected}"' in tag, url


# --- Login throttling -------------------------------------------------------------------------


def attempt(client, login, password="wrong-password", ip="203.0.113.5"):
    return client.post(LOGIN_URL, {"username": login, "password": password}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_username_and_ip_pair_with_a_429(client):
    UserFactory(username="victim")
    for _ in range(4):
        assert attempt(client, "victim").status_code == HTTPStatus.OK
    response = attempt(client, "victim")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many failed attempts" in response.text
    # Even the right password is refused while locked.
    response = attempt(client, "victim", DEFAULT_PASSWORD)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert SESSION_KEY not in client.session


def test_a_lockout_does_not_spread_to_other_addresses_or_users(client):
    UserFactory(username="victim")
    UserFactory(username="bystander")
    for _ in range(5):
        attempt(client, "victim", ip="203.0.113.5")
    assert (
        attempt(client, "victim", DEFAULT_PASSWORD, ip="198.51.100.7").status_code
        == HTTPStatus.FOUND
    )
    client.logout()
    assert (
        attempt(client, "bystander", DEFAULT_PASSWORD, ip="203.0.113.5").status_code
        == HTTPStatus.FOUND
    )


def test_lockout_lasts_fifteen_minutes():
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_FAILURE_LIMIT == 5


def test_a_spoofed_forwarded_header_does_not_change_the_client_ip(client):
    UserFactory(username="victim")
    for index in range(5):
        client.post(
            LOGIN_URL,
            {"username": "victim", "password": "nope"},
            REMOTE_ADDR="203.0.113.5",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{index}",
            HTTP_X_REAL_IP=f"10.0.1.{index}",
        )
    assert attempt(client, "victim", DEFAULT_PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_behind_our_proxy_the_real_ip_header_is_used(rf, settings):
    from apps.core.net import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="198.51.100.9")
    assert client_ip(request) == "10.0.0.2"
    settings.BEHIND_TLS_PROXY = True
    assert client_ip(request) == "198.51.100.9"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="junk")) == "10.0.0.2"


def test_role_admins_see_and_clear_lockouts(client):

    UserFactory(username="victim")
    for _ in range(5):
        attempt(client, "victim")
    admin = in_role("Admins", username="roleadmin")
    force_login_verified(client, admin)
    page = client.get(reverse("roles:lockouts")).text
    assert "victim" in page and "locked" in page
    from axes.models import AccessAttempt

    pk = AccessAttempt.objects.get(username="victim").pk
    response = client.post(reverse("roles:lockout-clear", args=[pk]), follow=True)
    assert "victim may log in again from 203.0.113.5." in response.text
    client.logout()
    assert attempt(client, "victim", DEFAULT_PASSWORD).status_code == HTTPStatus.FOUND


# --- Passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [12, 64, 200])
def test_long_passphrases_are_accepted(length):
    validate_password(("correct horse battery staple " * 10)[:length].strip() + "x")


@pytest.mark.parametrize("password", ["short-pass", "qwerty123456", "1qaz2wsx3edc"])
def test_short_or_common_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_no_composition_rules():
    # Lowercase letters only, no digit or symbol: fine when long and not common.
    validate_password("wombatsquarelanternriver")


# --- Sessions ----------------------------------------------------------------------------------


def test_session_is_rotated_on_login(client):
    UserFactory(username="reader")
    client.get(LOGIN_URL)
    client.session.save()
    before = client.session.session_key
    attempt(client, "reader", DEFAULT_PASSWORD)
    assert client.session.session_key != before


def test_logout_destroys_the_session_on_the_server(client, member):
    force_login_verified(client, member)
    key = client.session.session_key
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=key).exists()
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stolen.get(reverse("accounts:profile")).status_code == HTTPStatus.FOUND


def test_idle_timeout_is_two_hours_by_default():
    assert settings.SESSION_COOKIE_AGE == 2 * 60 * 60
    assert settings.SESSION_ABSOLUTE_LIFETIME == 12 * 60 * 60


def test_sessions_end_after_the_absolute_lifetime(client, member):
    force_login_verified(client, member)
    session = client.session
    session[SESSION_STARTED_AT] = time.time() - 12 * 60 * 60 - 1
    session.save()
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(LOGIN_URL)


def test_activity_extends_the_idle_timeout_at_most_once_a_minute(
    client, member, django_assert_num_queries
):
    force_login_verified(client, member)
    client.get("/")  # session saved at login, nothing more to write
    session = client.session
    session["bookshelf_last_seen_at"] = time.time() - 120
    session.save()
    client.get("/")
    assert client.session["bookshelf_last_seen_at"] > time.time() - 5


# --- CSP reports -------------------------------------------------------------------------------

CSP_URL = reverse("core:csp-report")
LEGACY_REPORT = {
    "csp-report": {
        "document-uri": "https://books.example.org/books/",
        "violated-directive": "style-src-attr",
        "effective-directive": "style-src-attr",
        "blocked-uri": "inline",
        "line-number": 12,
    }
}


def post_report(client, payload, content_type="application/csp-report", **extra):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(CSP_URL, body, content_type=content_type, **extra)


def test_csp_reports_are_logged_in_both_formats(client, caplog):
    caplog.set_level(logging.INFO, logger="security")
    assert post_report(client, LEGACY_REPORT).status_code == HTTPStatus.NO_CONTENT
    modern = [
        {
            "type": "csp-violation",
            "body": {
                "documentURL": "https://x/",
                "effectiveDirective": "script-src-elem",
                "blockedURL": "inline",
            },
        }
    ]
    assert (
        post_report(client, modern, "application/reports+json").status_code == HTTPStatus.NO_CONTENT
    )
    records = [
        r.security
        for r in caplog.records
        if getattr(r, "security", {}).get("event") == "csp_violation"
    ]
    assert [r["directive"] for r in records] == ["style-src-attr", "script-src-elem"]


@pytest.mark.parametrize(
    "body",
    ["", "not json", "[1, 2, 3]", '{"csp-report": "text"}', '{"other": {}}', b"\xff\xfe\x00"],
)
def test_junk_reports_get_400(client, body):
    assert post_report(client, body).status_code == HTTPStatus.BAD_REQUEST


def test_oversized_reports_get_400(client):
    big = {"csp-report": {"document-uri": "x" * 20_000}}
    assert post_report(client, big).status_code == HTTPStatus.BAD_REQUEST


def test_csp_reports_need_no_csrf_token_and_no_login():
    assert (
        post_report(Client(enforce_csrf_checks=True), LEGACY_REPORT).status_code
        == HTTPStatus.NO_CONTENT
    )


def test_csp_reports_are_rate_limited_per_client(client, caplog, monkeypatch):
    from django.core.cache import cache

    from apps.core import views

    cache.clear()
    # One fixed minute, so the window cannot roll over in the middle of the test.
    monkeypatch.setattr(views.time, "time", lambda: 1_800_000_000.0)
    caplog.set_level(logging.INFO, logger="security")
    for _ in range(40):
        assert (
            post_report(client, LEGACY_REPORT, REMOTE_ADDR="192.0.2.77").status_code
            == HTTPStatus.NO_CONTENT
        )
    logged = [
        r for r in caplog.records if getattr(r, "security", {}).get("event") == "csp_violation"
    ]
    assert len(logged) == 30


# --- The security log --------------------------------------------------------------------------


def events(caplog) -> list[dict]:
    return [r.security for r in caplog.records if hasattr(r, "security")]


def test_logins_logouts_lockouts_and_denials_are_logged_without_secrets(client, caplog):
    caplog.set_level(logging.INFO, logger="security")
    UserFactory(username="reader")
    attempt(client, "reader", "my-secret-guess")
    attempt(client, "reader", DEFAULT_PASSWORD)
    client.get(reverse("roles:group-list"))
    client.post(reverse("accounts:logout"))
    for _ in range(5):
        attempt(client, "reader", "my-secret-guess")
    names = [event["event"] for event in events(caplog)]
    assert names[:4] == ["login_failed", "login_succeeded", "permission_denied", "logout"]
    assert "lockout" in names
    denied = next(e for e in events(caplog) if e["event"] == "permission_denied")
    assert (denied["user"], denied["path"]) == ("reader", "/roles/")
    text = caplog.text + json.dumps(events(caplog))
    assert "my-secret-guess" not in text
    assert DEFAULT_PASSWORD not in text
    assert client.session.session_key is None or client.session.session_key not in text


def test_the_json_formatter_writes_one_object_per_record():
    from apps.core.log_format import JsonFormatter

    record = logging.LogRecord("security", logging.INFO, __file__, 1, "login_failed", None, None)
    record.security = {"event": "login_failed", "ip": "192.0.2.1"}
    line = JsonFormatter().format(record)
    assert json.loads(line)["event"] == "login_failed"


def test_only_argon2_and_pbkdf2_hash_passwords():
    """OWASP ASVS 2.4: Argon2id makes every hash; PBKDF2 only reads older ones. scrypt at
    Django's cost (2^14) is below ASVS 2.4.6's 2^16, so it is not listed."""
    from project.settings import base

    assert base.PASSWORD_HASHERS == [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
