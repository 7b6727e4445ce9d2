"""Two instances of the app behind nginx, sharing one PostgreSQL and one Redis
(docs/deployment.md, "Several instances"): whatever instance answers, the user is the same
user, with the same rights, and what is counted is counted once.

Two gunicorns (production settings, REDIS_URL) on their own ports, and nginx in front with
docs/nginx.conf.template, its upstream the two of them (round robin). Most checks talk to
each instance directly, to know which one answered; one goes through nginx and reads from
its log that both instances served the same session.

Only on PostgreSQL (SQLite is one file on one machine: not a deployment of several
instances); runs in CI's PostgreSQL pass. Needs nginx and Redis, on every machine here.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

import pytest

from .servers import (
    NGINX,
    Browser,
    Server,
    csrf_token,
    free_port,
    manage,
    production_env,
    scratch_database,
    start_gunicorn,
    stop,
    write_nginx_conf,
)
from .support import postgres_only

REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "bookshelf-demo"

pytestmark = [
    pytest.mark.xdist_group("instances"),
    postgres_only("several instances share PostgreSQL (SQLite is one file on one machine)"),
]


@pytest.fixture(autouse=True)
def browser_problems() -> None:
    """No browser here: replaces conftest's watcher, which would start Chromium."""


@dataclass
class Instance:
    port: int
    log: Path

    def logged(self, event: str) -> int:
        """How many times this instance's security log says ``event``."""
        count = 0
        for line in self.log.read_text().splitlines():
            if line.startswith("{") and json.loads(line).get("event") == event:
                count += 1
        return count


@dataclass
class Site:
    one: Instance
    other: Instance
    nginx: Server
    nginx_log: Path
    work: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    work = tmp_path_factory.mktemp("instances")
    processes: list[subprocess.Popen] = []
    with scratch_database(f"bookshelf_instances_{os.getpid()}") as database_url:
        try:
            # The same secret key on both: sessions and CSRF tokens are signed with it.
            env = production_env(work, database_url, REDIS_URL=REDIS_URL, DEMO_PASSWORD=PASSWORD)
            manage("migrate", "-v0", env=env)
            manage("collectstatic", "--noinput", "-v0", env=env)
            manage("seed_demo", "--force", env=env)
            instances = []
            for label in ("one", "other"):
                port, log = free_port(), work / f"{label}.log"
                processes.append(start_gunicorn(env, port, log, workers=1))
                instances.append(Instance(port, log))
            nginx_log, front = start_nginx(work, instances, processes)
            yield Site(instances[0], instances[1], front, nginx_log, work, env)
        finally:
            for process in reversed(processes):
                stop(process)


def start_nginx(
    work: Path, instances: list[Instance], processes: list[subprocess.Popen]
) -> tuple[Path, Server]:
    """nginx with the deployment's template, its upstream the instances (round robin)."""
    nginx_log = work / "logs" / "upstream.log"
    upstream = "".join(f" server 127.0.0.1:{i.port};\n" for i in instances)
    http_port, https_port = write_nginx_conf(
        work,
        "bookshelf",
        access_log=f"log_format upstream '$request_uri $upstream_addr $status';\n"
        f" access_log {nginx_log} upstream;",
        http_extra=f" upstream bookshelf {{\n{upstream} }}\n",
    )
    nginx = subprocess.Popen(
        [NGINX, "-p", str(work), "-c", str(work / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    processes.append(nginx)
    front = Server(https_port, http_port, work / "ca.pem")
    front.wait_until_up(nginx, "nginx", timeout=30)
    return nginx_log, front


def test_signed_in_on_one_instance_the_user_goes_on_on_the_other(site: Site) -> None:
    editor = Browser()
    assert editor.log_in(site.one.port, "editor", PASSWORD) == 302
    form = editor.request(site.other.port, "GET", "/books/new/")
    assert form.status == 200 and "editor" in form.text  # the session, from the other one
    # A form from one instance, posted to the other: its CSRF token holds there too.
    added = editor.request(
        site.one.port,
        "POST",
        "/books/new/",
        {
            "csrfmiddlewaretoken": csrf_token(form.text),
            "title": "Written on two servers",
            "author": "A. Instance",
            "publication_year": "2024",
        },
    )
    assert added.status == 302, added.location
    # The message of that redirect shows on the page the other instance serves.
    page = editor.request(site.other.port, "GET", added.location)
    assert page.status == 200
    assert "Written on two servers" in page.text and "added" in page.text.lower()


def test_a_lockout_made_on_one_instance_holds_on_the_other(site: Site) -> None:
    for _ in range(4):  # wrong, and told to try again
        assert Browser().log_in(site.one.port, "viewer", "wrong password") == 200
    assert Browser().log_in(site.one.port, "viewer", "wrong password") == 429  # the fifth
    assert Browser().log_in(site.other.port, "viewer", PASSWORD) == 429  # even the right one


def test_a_role_change_is_enforced_by_the_other_instance_at_once(site: Site) -> None:
    publisher = Browser()
    assert publisher.log_in(site.other.port, "publisher", PASSWORD) == 302
    assert publisher.request(site.other.port, "GET", "/books/review/").status == 200
    # An admin takes the role away (what /roles/ does, on whichever instance served it).
    manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.get(username='publisher').groups.clear()",
        env=site.env,
    )
    assert publisher.request(site.one.port, "GET", "/books/review/").status == 403
    assert publisher.request(site.other.port, "GET", "/books/review/").status == 403


def send_csp_report(instance: Instance, report: str, client: str) -> None:
    """What a browser at ``client`` (the address our proxy puts in X-Real-IP) sends on a
    violation: accepted (204) whether or not it is logged."""
    connection = HTTPConnection("127.0.0.1", instance.port, timeout=30)
    connection.request(
        "POST",
        "/csp-report/",
        body=report,
        headers={
            "Content-Type": "application/csp-report",
            "X-Forwarded-Proto": "https",
            "X-Real-IP": client,
        },
    )
    assert connection.getresponse().status == 204
    connection.close()


def test_a_csp_report_flood_is_limited_across_both_instances(site: Site) -> None:
    from apps.core.views import CSP_REPORTS_PER_MINUTE

    report = json.dumps({"csp-report": {"violated-directive": "script-src", "blocked-uri": "x"}})
    # The limit counts per client and calendar minute. A flood that ran into the next minute
    # proves nothing: it is sent again from another client (counted afresh) rather than
    # waiting for a minute to begin.
    for attempt in range(1, 4):
        client = f"203.0.113.{attempt}"
        minute = time.time() // 60
        before = site.one.logged("csp_violation") + site.other.logged("csp_violation")
        for n in range(CSP_REPORTS_PER_MINUTE):
            send_csp_report(site.one if n % 2 else site.other, report, client)
        for instance in (site.one, site.other):  # the same flood again: all over the limit
            for _ in range(10):
                send_csp_report(instance, report, client)
        if time.time() // 60 == minute:
            break
        time.sleep(0.5)  # this flood's log lines land before the next one counts its own
    else:
        pytest.fail("three floods in a row ran into the next minute")
    time.sleep(0.5)  # the log lines reach the files
    after = site.one.logged("csp_violation") + site.other.logged("csp_violation")
    assert after - before == CSP_REPORTS_PER_MINUTE  # not 30 + 20: counted once, in Redis


def test_through_nginx_both_instances_serve_one_session(site: Site) -> None:
    front = site.nginx
    page = front.https("GET", "/accounts/login/")
    cookies = {c.split("=", 1)[0]: c.split(";", 1)[0] for c in page.headers.get_all("Set-Cookie")}
    body = urlencode(
        {"csrfmiddlewaretoken": csrf_token(page.text), "username": "member", "password": PASSWORD}
    )
    origin = front.base
    response = front.https(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(cookies.values()),
            "Origin": origin,
            "Referer": f"{origin}/accounts/login/",
        },
    )
    assert response.status == 302
    for raw in response.headers.get_all("Set-Cookie"):
        cookies[raw.split("=", 1)[0]] = raw.split(";", 1)[0]
    for _ in range(6):
        loans = front.https("GET", "/loans/", headers={"Cookie": "; ".join(cookies.values())})
        assert loans.status == 200 and "Your loans and holds" in loans.text
    time.sleep(0.3)
    served = {
        line.split()[1]
        for line in site.nginx_log.read_text().splitlines()
        if line.startswith("/loans/ ")
    }
    assert served == {f"127.0.0.1:{site.one.port}", f"127.0.0.1:{site.other.port}"}
