"""Every page is served with the strict Content-Security-Policy, and honours it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.accounts.tests.factories import force_login_verified

pytestmark = pytest.mark.django_db

EXPECTED_POLICY = {
    "default-src": {"'none'"},
    "script-src": {"'self'"},  # plus the request's nonce, checked separately
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "manifest-src": {"'self'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "report-uri": {"/csp-report/"},
    "report-to": {"csp-endpoint"},
}

ANONYMOUS_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/password/reset/",
    "/accounts/password/reset/sent/",
    "/accounts/password/reset/complete/",
    "/no-such-page/",
]
SIGNED_IN_PAGES = [
    "/",
    "/accounts/profile/",
    "/accounts/password/change/",
    "/no-such-page/",
    "/admin/",
    "/admin/accounts/user/",
]


def parse_policy(header: str) -> dict[str, set[str]]:
    policy = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        policy[name] = set(values)
    return policy


def assert_strict_policy(response) -> None:
    policy = parse_policy(response["Content-Security-Policy"])
    nonces = {value for value in policy.get("script-src", ()) if value.startswith("'nonce-")}
    policy["script-src"] = policy.get("script-src", set()) - nonces
    assert policy == EXPECTED_POLICY
    # A script without src runs only with this response's nonce, which the header names.
    inline_scripts = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", response.content.decode())
        if "src=" not in tag
    ]
    for tag in inline_scripts:
        (nonce_source,) = nonces
        assert f'nonce="{nonce_source[7:-1]}"' in tag, tag


def assert_no_inline_code(html: str) -> None:
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "javascript:" not in html
    assert "hx-on" not in html
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, f"inline script: {tag}"


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_anonymous_pages_send_the_strict_policy(client, path):
    response = client.get(path)
    assert response.status_code in {200, 404}
    assert_strict_policy(response)


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_signed_in_pages_send_the_strict_policy(client, superuser, path):
    force_login_verified(client, superuser)
    response = client.get(path)
    assert response.status_code in {200, 404}
    assert_strict_policy(response)


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [("/", False), ("/accounts/login/", False), ("/", True), ("/accounts/profile/", True)],
)
def test_our_pages_have_no_inline_code_and_nonce_every_script(client, member, path, signed_in):
    if signed_in:
        force_login_verified(client, member)
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert_no_inline_code(html)
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 4  # bootstrap, htmx, app.js, session.js
    assert all(f'nonce="{nonce}"' in tag for tag in scripts), scripts


def test_json_and_redirect_responses_carry_the_policy_too(client):
    assert_strict_policy(client.get(reverse("core:healthz")))
    assert_strict_policy(client.get(reverse("accounts:profile")))


def test_each_response_gets_a_fresh_nonce(client):
    first = client.get("/")["Content-Security-Policy"]
    second = client.get("/")["Content-Security-Policy"]
    assert "'nonce-" in first
    assert first != second
