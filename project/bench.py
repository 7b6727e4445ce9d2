"""`make bench`: how fast the app serves its pages, measured from outside, on PostgreSQL.

Seeds ``BENCH_BOOKS`` books (default 100,000; `seed_bench`) with the demo users into the
database ``DATABASE_URL`` names (default: a ``bookshelf_bench`` database on the local
PostgreSQL, created if missing), serves the app with gunicorn (``BENCH_WORKERS`` workers,
default 2) and the production settings, and drives it with wrk from this process: every page
``BENCH_ROUNDS`` times (default 3), interleaved, ``BENCH_SECONDS`` each (default 5), so the
ratios between pages are measured side by side while the machine does whatever else it does.

For each page: requests a second, latency p50 and p99 (the median over the rounds), the
response's size raw and gzipped, and the SQL queries one request makes (counted in-process
with Django's test client on the same database). Writes ``docs/bench/latest.json``,
``docs/bench/latest.md`` and, when matplotlib is installed, ``docs/bench/latest.png``
(``BENCH_OUT`` names another folder: CI's small run, ``BENCH_BOOKS=1000`` and one short
round, writes to a scratch folder and only proves that every page still answers).

The privileged users (``roleadmin``, ``admin``) must pass a second factor: the bench gives
each an authenticator (named "bench", replaced on every run) and types its code at the
login's second step, as a person would.

    python -m project.bench [--books N] [--seconds S] [--rounds R] [--connections C] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email.message import Message
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from django_otp.oath import totp  # plain RFC 6238 (needs no Django set-up)

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "docs" / "bench"
WORK_DIR = BASE_DIR / ".bench"  # collected static files, gunicorn's log (not committed)
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/bookshelf_bench"
PASSWORD = os.environ.get("DEMO_PASSWORD") or "bookshelf-demo"
SESSION_COOKIE = "__Host-sessionid"  # production's names (project/settings/prod.py)
CSRF_COOKIE = "__Host-csrftoken"


@dataclass
class Page:
    name: str
    path: str
    user: str | None  # a demo user, or anonymous
    htmx: bool = False
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"HX-Request": "true"} if self.htmx else {}


def pages(ids: dict[str, Any]) -> list[Page]:
    """The pages measured, with their arguments from the seeded database (``ids``)."""
    last = ids["last_page"]
    return [
        Page("floor (/healthz)", "/healthz", None),
        Page("list page 1", "/books/", "editor"),
        Page("list deep page", f"/books/?page={max(1, last // 2)}", "editor"),
        Page("list last page", f"/books/?page={last}", "editor"),
        Page("list last page, anonymous", f"/books/?page={ids['public_last_page']}", None),
        Page("search", f"/books/?q={ids['search']}", "editor"),
        Page("search partial (htmx)", f"/books/?q={ids['search']}", "editor", htmx=True),
        Page("book detail", f"/books/{ids['book']}/", "editor"),
        Page("review queue", "/books/review/", "publisher"),
        Page("member's /loans/", "/loans/", "member"),
        Page("roles grid", f"/roles/{ids['group']}/", "roleadmin"),
        Page("admin changelist", "/admin/bookshelf/book/", "admin"),
    ]


# --- Running things ------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings.prod",
        DJANGO_SECRET_KEY="bench-" + "x" * 60,
        # testserver: the in-process query counts use Django's test client.
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        # wrk plays the TLS proxy (X-Forwarded-Proto: https): no nginx in the measurement.
        DJANGO_BEHIND_TLS_PROXY="true",
        DJANGO_STATIC_ROOT=str(WORK_DIR / "static"),
        DATABASE_URL=database_url,
    )
    return env


def manage(*args: str, env: dict[str, str], echo: bool = False) -> str:
    command = [sys.executable, str(BASE_DIR / "manage.py"), *args]
    if echo:  # progress straight to the terminal (seeding)
        subprocess.run(command, env=env, cwd=BASE_DIR, check=True)
        return ""
    result = subprocess.run(command, env=env, cwd=BASE_DIR, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def ensure_database(database_url: str) -> None:
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit("make bench measures PostgreSQL: set DATABASE_URL=postgres://…")
    import psycopg
    from psycopg import sql

    name = parts.path.lstrip("/")
    with psycopg.connect(database_url, dbname="postgres", autocommit=True) as server:
        found = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            say(f"creating the database {name}")
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def postgres_version(database_url: str) -> str:
    import psycopg

    with psycopg.connect(database_url) as db:
        row = db.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


class Server:
    """gunicorn with the production settings on a free port."""

    def __init__(self, env: dict[str, str], workers: int, authenticators: dict[str, str]) -> None:
        self.authenticators = authenticators  # username -> TOTP key (hex)
        self.port = free_port()
        self.log = (WORK_DIR / "gunicorn.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi:application",
                "--no-control-socket",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={workers}",
            ],
            env=env,
            cwd=BASE_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while self.get("/healthz")[0] != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start: see {WORK_DIR / 'gunicorn.log'}")
            time.sleep(0.3)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        try:
            status, body, _headers = self.request("GET", path, headers=headers)
            return status, body
        except OSError:
            return 0, b""

    def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: str = ""
    ) -> tuple[int, bytes, Message]:
        connection = HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(
                method,
                path,
                body=body or None,
                headers={"X-Forwarded-Proto": "https", **(headers or {})},
            )
            response = connection.getresponse()
            return response.status, response.read(), response.headers
        finally:
            connection.close()

    def log_in(self, username: str) -> str:
        """The Cookie header of a fresh session of ``username``: the login form, and for those
        who must use a second factor, the code of their authenticator at the second step."""
        cookies: dict[str, str] = {}

        def send(method: str, path: str, fields: dict[str, str] | None = None) -> tuple:
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
            if fields is not None:
                headers |= {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": self.origin,
                    "Referer": f"{self.origin}{path}",
                }
            status, body, answer = self.request(
                method, path, headers=headers, body=urlencode(fields or {})
            )
            for raw in answer.get_all("Set-Cookie") or []:
                name, _, rest = raw.partition("=")
                cookies[name] = rest.split(";", 1)[0]
            location = urlsplit(urljoin(self.origin, answer.get("Location", ""))).path
            return status, body, location

        def submit(path: str, fields: dict[str, str]) -> tuple:
            _status, form, _location = send("GET", path)
            token = form.decode().split('name="csrfmiddlewaretoken" value="', 1)[1]
            return send("POST", path, {"csrfmiddlewaretoken": token.split('"', 1)[0], **fields})

        login, verify = "/accounts/login/", "/accounts/login/verify/"
        status, _, location = submit(login, {"username": username, "password": PASSWORD})
        if status == 302 and location == verify and username in self.authenticators:
            code = totp_code(self.authenticators[username])
            status, _, location = submit(verify, {"code": code})
        if status != 302 or location == verify or SESSION_COOKIE not in cookies:
            raise SystemExit(f"could not log in as {username} (HTTP {status} to {location!r})")
        return "; ".join(f"{k}={v}" for k, v in cookies.items())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# --- wrk ---------------------------------------------------------------------------------


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict[str, float]:
    """Requests a second and the p50 and p99 latencies (ms) from ``wrk --latency``'s report;
    errors (non-2xx/3xx answers, socket errors) too, which make a measurement worthless."""

    def latency(percent: str) -> float:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not found:
            raise ValueError(f"no {percent}% latency in wrk's output:\n{output}")
        return float(found.group(1)) * UNITS[found.group(2)]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if not rate:
        raise ValueError(f"no Requests/sec in wrk's output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", output)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return {
        "rps": float(rate.group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": errors,
    }


def run_wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> dict[str, float]:
    command = ["wrk", f"-d{seconds}s", f"-c{connections}", "-t2", "--latency", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return parse_wrk(result.stdout)


# --- What the database holds, and queries per request ------------------------------------


IDS_SCRIPT = """
import json, math
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from apps.bookshelf.models import Book
editor = get_user_model().objects.get(username="editor")
print("BENCH_IDS=" + json.dumps({
    "books": Book.objects.count(),
    "last_page": max(1, math.ceil(Book.objects.visible_to(editor).count() / 25)),
    "public_last_page": max(1, math.ceil(Book.objects.public().count() / 25)),
    "book": Book.objects.public().order_by("pk").first().pk,
    "group": Group.objects.get(name="Editors").pk,
    "search": "river",
}))
"""

QUERIES_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from apps.accounts.tests.factories import force_login_verified
from apps.accounts.two_factor import must_use_two_factor
counts = {}
for name, path, user, htmx in PAGES:
    client = Client()
    if user:
        person = get_user_model().objects.get(username=user)
        if must_use_two_factor(person):  # as the login's second step leaves the session
            force_login_verified(client, person)
        else:
            client.force_login(person)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    client.get(path, secure=True, **headers)  # warm: the session, caches
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path, secure=True, **headers).status_code
    counts[name] = len(queries) if status == 200 else None
print("BENCH_QUERIES=" + json.dumps(counts))
"""


# The users who must use a second factor get a fresh authenticator: its key comes back here,
# and the in-process query count marks their sessions verified by it.
AUTHENTICATORS_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice
from apps.accounts.two_factor import must_use_two_factor
keys = {}
for user in get_user_model().objects.filter(username__in=USERS):
    if must_use_two_factor(user):
        TOTPDevice.objects.filter(user=user, name="bench").delete()
        keys[user.username] = TOTPDevice.objects.create(user=user, name="bench", confirmed=True).key
print("BENCH_AUTHENTICATORS=" + json.dumps(keys))
"""


def totp_code(key_hex: str) -> str:
    """The code an authenticator app shows now for ``key_hex`` (django-otp's TOTP with its
    TOTPDevice defaults: 30 s steps, six digits)."""
    return f"{totp(bytes.fromhex(key_hex)):06d}"


def marked_json(output: str, marker: str) -> Any:
    return json.loads(output.split(f"{marker}=", 1)[1].splitlines()[0])


# --- Report ---------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"# Benchmark: {report['books']:,} books",
        "",
        f"{report['date']} · {machine['cores']} cores · PostgreSQL {machine['postgresql']} · "
        f"gunicorn -w {report['workers']} · wrk -c{report['connections']}, "
        f"{report['seconds']} s × {report['rounds']} rounds (medians) · `make bench`",
        "",
        "| Page | req/s | p50 ms | p99 ms | ÷ admin | ÷ floor | p50 ÷ page 1 | kB | kB gzip "
        "| queries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = report["pages"]
    admin = next(p for p in rows if p["name"] == "admin changelist")["rps"] or 1
    floor = rows[0]["rps"] or 1
    first = next(p for p in rows if p["name"] == "list page 1")["p50_ms"] or 1
    for page in rows:
        queries = "—" if page["queries"] is None else page["queries"]
        lines.append(
            f"| {page['name']} | {page['rps']:.0f} | {page['p50_ms']:.1f} | "
            f"{page['p99_ms']:.1f} | {page['rps'] / admin:.1f}× | {page['rps'] / floor:.0%} | "
            f"{page['p50_ms'] / first:.2f} | {page['bytes'] / 1000:.1f} | "
            f"{page['gzip_bytes'] / 1000:.1f} | {queries} |"
        )
    return "\n".join(lines) + "\n"


def chart(report: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    # The floor (/healthz) is an order of magnitude above the pages: said in the title, not
    # drawn, or every page's bar would be a sliver.
    floor, *rows = report["pages"]
    figure, axis = plt.subplots(figsize=(9, 4.5))
    axis.barh([p["name"] for p in rows][::-1], [p["rps"] for p in rows][::-1], color="#0d6efd")
    axis.set_xlabel("requests per second (higher is better)")
    axis.set_title(
        f"Bookshelf at {report['books']:,} books ({report['date']}); "
        f"floor /healthz: {floor['rps']:.0f} req/s"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


# --- Main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=int, default=int(os.environ.get("BENCH_BOOKS", 100_000)))
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 5)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    parser.add_argument(
        "--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", 8))
    )
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 2)))
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("BENCH_OUT") or OUT_DIR))
    args = parser.parse_args()
    out_dir = args.out.resolve()
    if not shutil.which("wrk"):
        raise SystemExit("make bench needs wrk: `apt-get install wrk` (make bench installs it)")

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE
    WORK_DIR.mkdir(exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    ensure_database(database_url)
    env = environment(database_url)
    say("migrating")
    manage("migrate", "-v0", env=env)
    manage("collectstatic", "--noinput", "-v0", env=env)
    say(f"seeding {args.books:,} books (only what is missing)")
    manage("seed_bench", f"--books={args.books}", env=env, echo=True)
    manage("clearsessions", env=env)
    ids = marked_json(manage("shell", "-c", IDS_SCRIPT, env=env), "BENCH_IDS")
    measured = pages(ids)
    users = sorted({p.user for p in measured if p.user})
    authenticators = marked_json(
        manage("shell", "-c", f"USERS = {users!r}\n{AUTHENTICATORS_SCRIPT}", env=env),
        "BENCH_AUTHENTICATORS",
    )

    say("counting queries per request")
    page_list = [(p.name, p.path, p.user, p.htmx) for p in measured]
    queries = marked_json(
        manage("shell", "-c", f"PAGES = {page_list!r}\n{QUERIES_SCRIPT}", env=env),
        "BENCH_QUERIES",
    )

    uncounted = [name for name, count in queries.items() if count is None]
    if uncounted:
        raise SystemExit(f"not a 200 in-process (queries not counted): {', '.join(uncounted)}")

    say(f"starting gunicorn ({args.workers} workers)")
    server = Server(env, args.workers, authenticators)
    try:
        cookies = {user: server.log_in(user) for user in {p.user for p in measured} if user}
        for page in measured:
            headers = {**page.headers}
            if page.user:
                headers["Cookie"] = cookies[page.user]
            status, body = server.get(page.path, headers)
            if status != 200:
                raise SystemExit(f"{page.name}: {page.path} answered {status}")
            page.result = {
                "bytes": len(body),
                "gzip_bytes": len(gzip.compress(body)),
                "queries": queries.get(page.name),
                "runs": [],
            }
        url = f"http://127.0.0.1:{server.port}"
        for round_ in range(1, args.rounds + 1):
            for page in measured:
                say(f"round {round_}/{args.rounds}: {page.name}")
                headers = {"X-Forwarded-Proto": "https", **page.headers}
                if page.user:
                    headers["Cookie"] = cookies[page.user]
                page.result["runs"].append(
                    run_wrk(url + page.path, headers, args.seconds, args.connections)
                )
    finally:
        server.stop()

    rows = []
    for page in measured:
        runs = page.result.pop("runs")
        errors = sum(run["errors"] for run in runs)
        if errors:
            raise SystemExit(f"{page.name}: {errors} failed requests (see .bench/gunicorn.log)")
        rows.append(
            {
                "name": page.name,
                "path": page.path,
                "user": page.user or "anonymous",
                "htmx": page.htmx,
                "rps": statistics.median(run["rps"] for run in runs),
                "p50_ms": statistics.median(run["p50_ms"] for run in runs),
                "p99_ms": statistics.median(run["p99_ms"] for run in runs),
                **page.result,
            }
        )
    report = {
        "date": datetime.date.today().isoformat(),
        "books": ids["books"],
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": postgres_version(database_url),
        },
        "pages": rows,
    }
    (out_dir / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (out_dir / "latest.md").write_text(table)
    drawn = chart(report, out_dir / "latest.png")
    print(table)
    shown = out_dir.relative_to(BASE_DIR) if out_dir.is_relative_to(BASE_DIR) else out_dir
    say(f"wrote {shown}/latest.json, latest.md{', latest.png' if drawn else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
