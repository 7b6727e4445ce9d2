"""HTTPS for real: `python -m project.serve_https` (what `make serve-https` runs), started
with production settings on free ports, checked over TLS and in Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from .conftest import watch
from .observatory import grade
from .servers import Server, free_port

BASE_DIR = Path(__file__).resolve().parent.parent

# One TLS server (session fixture) for all these tests: keep them in one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("https")
EXPECTED_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
}


@pytest.fixture(scope="session")
def https_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tls")
    https_port, http_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key != "DATABASE_URL"
    }
    env["DATABASE_URL"] = f"sqlite:///{data_dir / 'db.sqlite3'}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "project.serve_https",
            f"--https-port={https_port}",
            f"--http-port={http_port}",
            f"--data-dir={data_dir}",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(https_port, http_port, data_dir / "ca.pem")
    server.wait_until_up(process, "serve_https", timeout=120)
    yield server
    process.terminate()
    process.wait(timeout=20)


def cookies(response) -> dict[str, str]:
    return {raw.split("=", 1)[0]: raw for raw in response.headers.get_all("Set-Cookie") or []}


def test_plain_http_is_redirected_to_https_on_the_tls_port(https_server):
    response = https_server.http("/books/?q=dune")
    assert response.status == 301
    assert response.headers["Location"] == f"{https_server.base}/books/?q=dune"
    assert "Strict-Transport-Security" not in response.headers  # meaningless over HTTP


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/books/", "/healthz"])
def test_https_responses_carry_hsts_and_every_security_header(https_server, path):
    response = https_server.https("GET", path)
    assert response.status == 200
    for header, value in EXPECTED_HEADERS.items():
        assert response.headers[header] == value, header
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_static_files_over_https_carry_the_headers_too(https_server):
    page = https_server.https("GET", "/accounts/login/").text
    script = page.split('<script src="', 1)[1].split('"', 1)[0]
    assert script.startswith("/static/") and "." in script.rsplit("/", 1)[1]
    response = https_server.https("GET", script)
    assert response.status == 200
    for header, value in EXPECTED_HEADERS.items():
        assert response.headers[header] == value, header


def test_cookies_are_secure_httponly_and_samesite(https_server):
    page = https_server.https("GET", "/accounts/login/")
    csrf_cookie = cookies(page)["__Host-csrftoken"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in csrf_cookie
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = https_server.https(
        "POST",
        "/accounts/login/",
        body=f"csrfmiddlewaretoken={token}&username=publisher&password=bookshelf-demo",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": csrf_cookie.split(";", 1)[0],
            "Referer": f"{https_server.base}/accounts/login/",
            "Origin": https_server.base,
        },
    )
    assert response.status == 302, response.text[:500]
    session_cookie = cookies(response)["__Host-sessionid"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in session_cookie
    assert "Domain=" not in session_cookie


def test_the_observatory_grade_earns_every_bonus_and_no_penalty(https_server):
    http_redirect = https_server.http("/").headers["Location"]
    response = https_server.https("GET", "/")
    result = grade(
        headers=dict(response.headers.items()),
        set_cookies=response.headers.get_all("Set-Cookie") or [],
        html=response.text,
        page_url=f"{https_server.base}/",
        http_url=f"http://127.0.0.1:{https_server.http_port}/",
        http_redirect=http_redirect,
    )
    print("\n" + result.report())
    assert [r for r in result.results if r.modifier < 0] == []
    expectations = {r.test: r.expectation for r in result.results}
    assert expectations["cross-origin-opener-policy"] == "coop-implemented-with-same-origin"
    assert expectations["cross-origin-embedder-policy"] == "coep-implemented-with-require-corp"
    # Every bonus but HSTS preloading, which needs a public domain on the browsers' list.
    assert result.score == 140
    assert {r.expectation for r in result.results if r.modifier > 0} == {
        "csp-implemented-with-no-unsafe-default-src-none",
        "cookies-secure-with-httponly-sessions-and-samesite",
        "referrer-policy-private",
        "sri-implemented-and-all-scripts-loaded-securely",
        "x-frame-options-implemented-via-csp",
        "corp-implemented-with-same-origin",
    }


def test_chromium_logs_in_and_edits_a_book_over_tls(
    https_server, browser: Browser, browser_problems
):
    context = watch(browser.new_context(ignore_https_errors=True), browser_problems)
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{https_server.http_port}/accounts/login/")
    expect(page).to_have_url(f"{https_server.base}/accounts/login/")
    page.get_by_label("Username or email").fill("publisher")
    page.get_by_label("Password").fill("bookshelf-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    page.goto(f"{https_server.base}/books/?q=dune")
    page.get_by_role("button", name="Actions for Dune").click()
    page.get_by_role("link", name="Edit").click()
    form = page.locator("form[data-inline-edit]")
    form.get_by_label("Title").fill("Dune (TLS edition)")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Dune (TLS edition)")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Book saved")).to_be_visible()
    context.close()


def test_the_grader_penalises_a_weak_site():
    """Negative control: a grader that only ever says 140 proves nothing."""
    weak = grade(
        headers={
            "Content-Type": "text/html",
            "Content-Security-Policy": "script-src 'self' 'unsafe-inline'",
            "Referrer-Policy": "unsafe-url",
        },
        set_cookies=["sessionid=abc; Path=/"],
        html='<script src="https://cdn.example/x.js"></script>',
        page_url="https://books.example/",
        http_url="http://books.example/",
        http_redirect=None,
    )
    print("\n" + weak.report())
    assert weak.score == 0
    penalties = {r.expectation for r in weak.results if r.modifier < 0}
    assert {
        "csp-implemented-with-unsafe-inline",
        "cookies-session-without-httponly-flag",
        "redirection-missing",
        "hsts-not-implemented",
        "x-content-type-options-not-implemented",
        "referrer-policy-unsafe",
        "sri-not-implemented-but-external-scripts-loaded-securely",
    } <= penalties
