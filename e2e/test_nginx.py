"""docs/nginx.conf.template, for real: nginx terminates TLS in front of gunicorn running the
production settings with DJANGO_BEHIND_TLS_PROXY=true (docs/deployment.md).

Needs the nginx binary (`make test` installs Debian's package where it can).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .servers import (
    BASE_DIR,
    NGINX,
    Server,
    free_port,
    manage,
    production_env,
    write_nginx_conf,
)

# One nginx + gunicorn (module fixture) for all these tests: keep them in one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("nginx")


@pytest.fixture(scope="module")
def proxied_site(tmp_path_factory):
    work = tmp_path_factory.mktemp("nginx")
    upstream_port = free_port()
    env = production_env(work, f"sqlite:///{work / 'db.sqlite3'}")
    for command in (
        ["migrate", "-v0"],
        ["collectstatic", "--noinput", "-v0"],
        ["seed_demo", "--force"],
    ):
        manage(*command, env=env)
    http_port, https_port = write_nginx_conf(work, f"127.0.0.1:{upstream_port}")
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "project.wsgi:application",
            "--no-control-socket",
            f"--bind=127.0.0.1:{upstream_port}",
            "--workers=2",
        ],
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    nginx = subprocess.Popen(
        [NGINX, "-p", str(work), "-c", str(work / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    site = Server(https_port, http_port, work / "ca.pem")
    site.wait_until_up(nginx, "nginx + gunicorn", timeout=60)
    yield site
    nginx.terminate()
    gunicorn.terminate()
    nginx.wait(timeout=10)
    gunicorn.wait(timeout=10)


def test_http_is_redirected_to_https_on_the_same_host(proxied_site):
    response = proxied_site.http("/books/?page=2")
    assert response.status == 301
    assert (
        response.headers["Location"] == f"https://127.0.0.1:{proxied_site.https_port}/books/?page=2"
    )


def test_django_knows_the_request_is_secure_behind_the_proxy(proxied_site):
    response = proxied_site.https("GET", "/accounts/login/")
    assert response.status == 200  # no redirect loop: X-Forwarded-Proto is believed
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "nginx/" not in response.headers.get("Server", "")


def test_a_forged_client_ip_header_is_overwritten_by_the_proxy(proxied_site):
    page = proxied_site.https("GET", "/accounts/login/")
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    statuses = []
    for index in range(6):
        response = proxied_site.https(
            "POST",
            "/accounts/login/",
            body=f"csrfmiddlewaretoken={token}&username=editor&password=wrong-{index}",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Referer": f"https://127.0.0.1:{proxied_site.https_port}/accounts/login/",
                "X-Real-IP": f"198.51.100.{index}",  # a new "address" every time: ignored
                "X-Forwarded-For": f"203.0.113.{index}",
            },
        )
        statuses.append(response.status)
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_oversized_uploads_are_stopped_at_the_proxy(proxied_site):
    response = proxied_site.https(
        "POST",
        "/accounts/profile/",
        body=b"x" * (4 * 1024 * 1024),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status == 413


def test_pages_are_gzipped_and_the_csrf_token_differs_in_every_response(proxied_site):
    """nginx compresses HTML; BREACH learns nothing from it because the one secret in a
    page, the CSRF token, is masked afresh in every response (docs/SECURITY.md)."""
    import gzip
    import http.client
    import re

    bodies, headers = [], {"Accept-Encoding": "gzip"}
    for _ in range(2):
        connection = http.client.HTTPSConnection(
            "127.0.0.1", proxied_site.https_port, context=proxied_site.context, timeout=20
        )
        connection.request("GET", "/accounts/login/", headers=headers)
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        if "Cookie" not in headers:  # the same CSRF secret the second time: only the mask
            headers["Cookie"] = response.headers["Set-Cookie"].split(";", 1)[0]
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        html = gzip.decompress(raw)
        assert len(raw) < len(html) / 2
        bodies.append(html.decode())
    tokens = [re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', b).group(1) for b in bodies]
    assert tokens[0] != tokens[1]
