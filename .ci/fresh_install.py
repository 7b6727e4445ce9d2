"""`make check-install`: the README's first promise, checked as a newcomer meets it.

1. A fresh virtualenv gets **only** requirements/base.txt, through `make run` itself (with
   its VENV and a scratch SQLite database): `manage.py check`, migrate, seed the demo and serve
   on a free port. `/`, `/books/` and `/healthz` must answer 200, and a mail sent while the
   server runs (the editor submits a book; the publishers are told) must link to that port:
   `make run PORT=…` makes `BOOKSHELF_SITE_URL` the served address.
2. The same virtualenv then gets requirements/prod.txt (base plus gunicorn and psycopg: the
   production install) and every module of apps/ and project/ (tests aside) is imported
   under the production settings.

A run-time import of a dev-only package (django-stubs-ext, pytest, factory-boy...) fails one
of the two. Standard library only: it runs on the machine's Python before any venv exists.

    python3 .ci/fresh_install.py [--keep]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "bookshelf-demo"  # noqa: S105 (the demo's documented default)
SERVER_START_SECONDS = 240  # venv, pip install from the cache, migrate, seed, runserver

# What `make run` may see of the caller's environment: nothing that would point it at
# another database, cache or settings module (the PostgreSQL pass of .ci/run sets
# DATABASE_URL), nor a venv it could borrow packages from.
KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PIP_CACHE_DIR", "XDG_CACHE_HOME")


class CheckFailed(Exception):
    pass


def step(message: str) -> None:
    print(f"check-install: {message}", flush=True)


def clean_environment(**extra: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    virtual_env = os.environ.get("VIRTUAL_ENV")
    if virtual_env:  # a venv's bin first on PATH would lend its packages
        env["PATH"] = os.pathsep.join(
            part
            for part in env.get("PATH", "").split(os.pathsep)
            if not part.startswith(virtual_env)
        )
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """A cookie-keeping client for the running server: enough to log in and post a form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def csrf_token(self) -> str:
        for cookie in self.cookies:
            if cookie.name == "csrftoken":
                return cookie.value or ""
        raise CheckFailed("no csrftoken cookie after GET of a form page")

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf_token()})
        request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
            self.base + path,
            data=body.encode(),
            headers={"Referer": self.base + path},
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


def wait_for_server(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CheckFailed(f"`make run` exited with {server.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise CheckFailed(f"`make run` did not serve within {SERVER_START_SECONDS} s:\n{tail(log)}")


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def check_pages(base: str) -> None:
    browser = Browser(base)
    for path, expected in (("/", "Bookshelf"), ("/books/", "available")):
        status, body = browser.get(path)
        if status != 200 or expected not in body:
            raise CheckFailed(f"GET {path} answered {status} (expected 200 and {expected!r})")
        step(f"GET {path}: 200")


def check_mail_links(base: str, database: Path, log: Path) -> None:
    """The editor submits the demo's sent-back book; the publishers' mail (printed by the
    console mail backend into the server's output) must link to this server."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT id FROM bookshelf_book WHERE review_comment <> '' ORDER BY id LIMIT 1"
        ).fetchone()
    if row is None:
        raise CheckFailed("the demo has no book sent back with a comment")
    book_id = row[0]
    browser = Browser(base)
    browser.get("/accounts/login/")
    status, body = browser.post(
        "/accounts/login/", {"username": "editor", "password": DEMO_PASSWORD}
    )
    if status != 200 or "Log out" not in body:
        raise CheckFailed(f"the demo editor could not log in ({status})")
    browser.get(f"/books/{book_id}/")
    status, _body = browser.post(f"/books/{book_id}/submit/", {})
    if status != 200:
        raise CheckFailed(f"submitting book {book_id} answered {status}")
    link = f"{base}/books/{book_id}/"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        if link in output:
            step(f"the publishers' mail links to {link}")
            return
        time.sleep(0.2)
    found = sorted(set(re.findall(r"https?://[^\s/]+/books/\d+/", output)))
    raise CheckFailed(f"no mail linked to {link}; links seen: {found or 'none'}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def check_base(work: Path) -> Path:
    venv = work / "venv"
    database = work / "db.sqlite3"
    log = work / "make-run.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_environment(
        DATABASE_URL=f"sqlite:///{database}", DJANGO_MEDIA_ROOT=str(work / "media")
    )
    step(f"make run PORT={port} with a fresh venv (requirements/base.txt only)")
    started = time.monotonic()
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603
            [
                shutil.which("make") or "make",
                "--no-print-directory",
                "-C",
                str(ROOT),
                "run",
                f"VENV={venv}",
                f"PORT={port}",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # runserver and its autoreloader child stop together
        )
    try:
        wait_for_server(base, server, log)
        step(f"serving after {time.monotonic() - started:.0f} s")
        check_pages(base)
        check_mail_links(base, database, log)
    finally:
        stop(server)
    subprocess.run(  # noqa: S603
        [str(venv / "bin" / "python"), "manage.py", "check", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    installed = subprocess.run(  # noqa: S603
        [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for dev_only in ("pytest", "django-stubs-ext", "factory_boy", "ruff", "mypy"):
        if re.search(rf"^{re.escape(dev_only)}==", installed, re.IGNORECASE | re.MULTILINE):
            raise CheckFailed(f"the base venv has the dev-only {dev_only}: not a fresh install")
    return venv


IMPORT_EVERY_MODULE = """
import importlib, pathlib, sys
import django
django.setup()
root = pathlib.Path.cwd()
names = []
for folder in ("apps", "project"):
    for path in sorted((root / folder).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if "tests" in parts or parts[-1] == "conftest":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
failed = []
for name in names:
    try:
        importlib.import_module(name)
    except Exception as error:  # every failure, not just the first
        failed.append(f"{name}: {type(error).__name__}: {error}")
print(f"imported {len(names) - len(failed)} of {len(names)} modules")
if failed:
    print("\\n".join(failed), file=sys.stderr)
    sys.exit(1)
"""


def check_prod(venv: Path, work: Path) -> None:
    step("requirements/prod.txt into the same venv: the production install")
    subprocess.run(  # noqa: S603
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "--no-compile",
            "-r",
            str(ROOT / "requirements" / "prod.txt"),
        ],
        env=clean_environment(),
        check=True,
    )
    env = clean_environment(
        DJANGO_SETTINGS_MODULE="project.settings.prod",
        DJANGO_SECRET_KEY="check-install-" + os.urandom(16).hex(),
        DJANGO_ALLOWED_HOSTS="bookshelf.example.org",
        DATABASE_URL=f"sqlite:///{work / 'prod.sqlite3'}",
        DJANGO_STATIC_ROOT=str(work / "static"),
        DJANGO_MEDIA_ROOT=str(work / "media"),
    )
    result = subprocess.run(  # noqa: S603
        [str(venv / "bin" / "python"), "-c", IMPORT_EVERY_MODULE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    print(result.stdout.strip() and f"check-install: {result.stdout.strip()}", flush=True)
    if result.returncode != 0:
        raise CheckFailed(f"with requirements/prod.txt only, some modules fail:\n{result.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bookshelf-check-install-"))
    try:
        venv = check_base(work)
        check_prod(venv, work)
    except (CheckFailed, subprocess.CalledProcessError) as error:
        print(f"check-install: FAILED: {error}", file=sys.stderr, flush=True)
        print(f"check-install: scratch folder kept: {work}", file=sys.stderr)
        return 1
    step(f"passed in {time.monotonic() - started:.0f} s")
    if args.keep:
        step(f"scratch folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
