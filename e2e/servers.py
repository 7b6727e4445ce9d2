"""The app as it is deployed, for tests that need it whole: its own PostgreSQL database,
production settings, gunicorn, and people talking to it over HTTP with their own cookies
(e2e/test_circulation_storm.py, e2e/test_many_instances.py)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
import pytest
import trustme
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = urlsplit(DATABASE_URL).scheme in {"postgres", "postgresql", "pgsql"}
TIMEOUT = 60  # seconds, for every request: a stuck worker fails the test instead of hanging it


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A database of its own on the server DATABASE_URL names (the suite's test databases
    are never touched), dropped afterwards whatever happened; yields its URL."""
    identifier = sql.Identifier(name)

    def run(statement: sql.Composed) -> None:
        # The maintenance database, not DATABASE_URL's own: that one need not exist yet.
        with psycopg.connect(DATABASE_URL, dbname="postgres", autocommit=True) as server:
            server.execute(statement)

    run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
    run(sql.SQL("CREATE DATABASE {}").format(identifier))
    try:
        yield urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{name}"))
    finally:
        run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))


def production_env(work: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The production settings on ``database_url``, behind a TLS proxy that the tests play
    themselves (they send X-Forwarded-Proto: https), static files collected into ``work``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings.prod",
        DJANGO_SECRET_KEY="e2e-servers-" + "x" * 60,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_BEHIND_TLS_PROXY="true",
        DJANGO_STATIC_ROOT=str(work / "static"),
        DATABASE_URL=database_url,
        **extra,
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A TLS front (serve_https, or nginx) on its HTTPS and HTTP ports, trusting exactly
    the CA in ``ca_file``."""

    def __init__(self, https_port: int, http_port: int, ca_file: Path) -> None:
        self.https_port, self.http_port = https_port, http_port
        self.base = f"https://127.0.0.1:{https_port}"
        self.ca_file = ca_file

    @property
    def context(self) -> ssl.SSLContext:
        # The server writes its CA certificate on start: trust exactly that one.
        return ssl.create_default_context(cafile=str(self.ca_file))

    def https(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, context=self.context, timeout=20
        )
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.text = response.read().decode()
        connection.close()
        return response

    def http(self, path: str):
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=20)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    def wait_until_up(self, process: subprocess.Popen, what: str, timeout: float) -> None:
        """Return once /healthz answers on the HTTPS port (and the HTTP port answers); fail
        if ``process`` (the server, or the proxy in front of it) exits or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output = process.stdout or process.stderr
                pytest.fail(f"{what} exited:\n" + (output.read() if output else ""))
            try:
                if self.https("GET", "/healthz").status == 200 and self.http("/healthz").status:
                    return
            except OSError:  # not listening yet, or its certificate not written yet
                pass
            if time.monotonic() > deadline:
                process.terminate()
                pytest.fail(f"{what} did not answer within {timeout} s")
            time.sleep(0.3)


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def write_nginx_conf(
    work: Path, upstream: str, *, http_extra: str = "", access_log: str = ""
) -> tuple[int, int]:
    """docs/nginx.conf.template as deployed, in ``work``: a CA and a certificate for
    127.0.0.1 (``ca.pem`` for the clients), the template filled in with ``upstream`` and
    wrapped in a standalone nginx.conf (``http_extra`` inside its http block, before the
    template). Returns the HTTP and HTTPS ports it listens on."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: `apt-get install nginx` (make test installs it)")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(work / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(work / "cert.pem"))
    ca.cert_pem.write_to_path(str(work / "ca.pem"))
    http_port, https_port = free_port(), free_port()
    config = (BASE_DIR / "docs" / "nginx.conf.template").read_text()
    for placeholder, value in {
        "SERVER_NAME": "127.0.0.1 localhost",
        "HTTP_PORT": f"127.0.0.1:{http_port}",
        "HTTPS_PORT": f"127.0.0.1:{https_port}",
        "HTTPS_PORT_SUFFIX": f":{https_port}",
        "CERTIFICATE": str(work / "cert.pem"),
        "CERTIFICATE_KEY": str(work / "key.pem"),
        "UPSTREAM": upstream,
    }.items():
        config = config.replace(f"@@{placeholder}@@", value)
    (work / "logs").mkdir()
    access_log = access_log or f"access_log {work / 'logs' / 'access.log'};"
    (work / "nginx.conf").write_text(
        "daemon off;\nworker_processes 1;\n"
        f"pid {work / 'nginx.pid'};\nerror_log {work / 'logs' / 'error.log'};\n"
        "events { worker_connections 64; }\n"
        f"http {{\n {access_log}\n"
        f" client_body_temp_path {work / 'body'};\n proxy_temp_path {work / 'proxy'};\n"
        f" fastcgi_temp_path {work / 'fcgi'};\n uwsgi_temp_path {work / 'uwsgi'};\n"
        f" scgi_temp_path {work / 'scgi'};\n{http_extra}{config}\n}}\n"
    )
    return http_port, https_port


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode:
        pytest.fail(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start_gunicorn(env: dict[str, str], port: int, log: Path, workers: int) -> subprocess.Popen:
    """gunicorn on ``port``, its output in ``log`` (a 500's traceback lands there), once it
    answers /healthz."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi:application",
                "--no-control-socket",
                f"--bind=127.0.0.1:{port}",
                f"--workers={workers}",
            ],
            env=env,
            cwd=BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log.read_text()}")
        try:
            if Browser().request(port, "GET", "/healthz").status == 200:
                return process
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop(process)
            pytest.fail(f"gunicorn did not answer within 60 s:\n{log.read_text()}")
        time.sleep(0.3)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class Reply:
    status: int
    location: str  # a redirect's target, as a path
    text: str


@dataclass
class Browser:
    """One person's browser, reduced to a cookie jar: plain HTTP to whichever server port it
    is told, saying (as our TLS proxy would) that the request came over HTTPS. Every
    request's status is kept in ``requests``."""

    cookies: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str, int]] = field(default_factory=list)

    def request(
        self, port: int, method: str, path: str, form: dict[str, str] | None = None, *, page=""
    ) -> Reply:
        headers = {"X-Forwarded-Proto": "https"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            # What a browser sends with a form post: CSRF checks Origin (and Referer) too.
            origin = f"https://127.0.0.1:{port}"
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = origin
            headers["Referer"] = origin + (page or path)
        connection = HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            value, _, attributes = rest.partition(";")
            if "max-age=0" in attributes.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        self.requests.append((method, path, response.status))
        location = urlsplit(response.headers.get("Location", ""))
        target = location.path + (f"?{location.query}" if location.query else "")
        return Reply(response.status, target, text)

    def log_in(self, port: int, username: str, password: str) -> int:
        """The login form, filled in and posted: the status of the answer (302 signed in)."""
        page = self.request(port, "GET", "/accounts/login/")
        form = {"csrfmiddlewaretoken": csrf_token(page.text), "username": username}
        return self.request(port, "POST", "/accounts/login/", {**form, "password": password}).status


def csrf_token(page: str) -> str:
    return page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
