"""The borrowing storm over HTTP: 40 members, each signed in with their own session, press
"Borrow" on the same 5-copy book at the same moment, against gunicorn with several worker
processes running the production settings on PostgreSQL.

apps/circulation/tests/test_concurrency.py races threads calling the services in one
process; here every borrow is a separate request that may land in any worker process, on its
own database connection, through the whole middleware stack (sessions, CSRF, messages).
What must hold:

- no request answers 5xx (a lock timeout, a deadlock or a constraint violation would);
- no oversell: exactly 5 open loans on 5 distinct copies, none left available;
- every refused member is told so plainly (the refusal sentence on the page they land on);
- what each member's /loans/ page shows agrees with the database, winners and losers alike.

Only on PostgreSQL: SQLite allows one writer at a time, so the race this guards against
cannot happen there. The test makes its own database on the server DATABASE_URL names
(and drops it afterwards), so the suite's test databases are never touched.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest

from .servers import (
    TIMEOUT,
    Browser,
    Reply,
    csrf_token,
    free_port,
    manage,
    production_env,
    scratch_database,
    start_gunicorn,
    stop,
)
from .support import postgres_only

T = TypeVar("T")

# One gunicorn and one database (module fixture) for the storm: keep it in one xdist worker.
pytestmark = [
    pytest.mark.xdist_group("storm"),
    postgres_only("needs PostgreSQL (SQLite serialises writes)"),
]

MEMBERS = [f"storm{n:02d}" for n in range(40)]
COPIES = 5
TITLE = "Storm Book"
PASSWORD = "storm-password-for-e2e"
WORKERS = 4
SESSION_COOKIE = "__Host-sessionid"  # production's name (project/settings/prod.py)
BORROWED = escape(f"You borrowed “{TITLE}”.")
REFUSED = escape(f"No copy of “{TITLE}” is free right now. Place a hold to be next.")

# Run by `manage.py shell -c` under the production settings, after the constants above are
# prepended. The members share one hash: Argon2 costs ~0.1 s a user, and the hash is what a
# login checks, however it was made.
SEED = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from apps.bookshelf.models import Book
from apps.circulation.services import add_copies

# The roles come with migrate (post_migrate); make sure rather than assume.
if not Group.objects.filter(name="Members").exists():
    call_command("setup_roles", verbosity=0)
User = get_user_model()
hashed = User(username="storm-hash")
hashed.set_password(PASSWORD)
members = User.objects.bulk_create(
    User(username=name, email=f"{name}@example.org", password=hashed.password)
    for name in MEMBERS
)
Group.objects.get(name="Members").user_set.add(*members)
librarian = User.objects.create_superuser("storm-librarian", "librarian@example.org", None)
book = Book.objects.create(
    title=TITLE,
    author="A. Storm",
    publication_year=2020,
    is_published=True,
    published_at=timezone.now(),
)
assert Book.objects.public().filter(pk=book.pk).exists()
add_copies(book=book, count=COPIES, actor=librarian)
print(f"STORM_BOOK_ID={book.pk}")
"""


@pytest.fixture(autouse=True)
def browser_problems() -> None:
    """No browser in this module: replaces conftest's watcher, which would start Chromium
    (and a context per test) only to watch nothing."""


@dataclass
class Site:
    port: int
    book_id: int
    database_url: str
    log: Path  # gunicorn's stdout and stderr: Django logs a 500's traceback there

    @property
    def book_path(self) -> str:
        return f"/books/{self.book_id}/"


@pytest.fixture(scope="module")
def storm_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("storm")
    with scratch_database(f"bookshelf_storm_{os.getpid()}") as database_url:
        env = production_env(work, database_url)
        manage("migrate", "-v0", env=env)
        # Production's manifest storage: pages fail to render without collected files.
        manage("collectstatic", "--noinput", "-v0", env=env)
        constants = (
            f"MEMBERS = {MEMBERS!r}\nPASSWORD = {PASSWORD!r}\n"
            f"TITLE = {TITLE!r}\nCOPIES = {COPIES!r}\n"
        )
        seeded = manage("shell", "-c", constants + SEED, env=env)
        book_id = int(seeded.split("STORM_BOOK_ID=", 1)[1].split()[0])
        port, log = free_port(), work / "gunicorn.log"
        gunicorn = start_gunicorn(env, port, log, WORKERS)
        try:
            yield Site(port, book_id, database_url, log)
        finally:
            stop(gunicorn)


@dataclass
class Member(Browser):
    username: str = ""

    def log_in_to(self, site: Site) -> None:
        status = self.log_in(site.port, self.username, PASSWORD)
        assert status == 302, f"{self.username}: login answered {status}"
        assert SESSION_COOKIE in self.cookies, f"{self.username}: no session cookie"


def open_loans_section(page: str) -> str:
    """The "On loan" section of /loans/ (not the holds or the returned ones)."""
    start = page.index('aria-labelledby="open-loans-heading"')
    return page[start : page.index("</section>", start)]


@dataclass
class Outcome:
    borrow: Reply
    landing: Reply  # the page the borrow's redirect leads to: where the message shows


def borrow_in_the_storm(member: Member, site: Site, start: threading.Barrier) -> Outcome:
    """Sign in and open the book's page (a fresh CSRF token: login rotates it), wait for
    everyone else, then press Borrow: a plain form post, as without JavaScript."""
    book_path = site.book_path
    try:
        member.log_in_to(site)
        page = member.request(site.port, "GET", book_path)
        assert page.status == 200, f"{member.username}: book page {page.status}"
        token = csrf_token(page.text)
    except BaseException:
        start.abort()  # the others would wait for this member until the timeout
        raise
    start.wait()
    borrow = member.request(
        site.port,
        "POST",
        f"{book_path}borrow/",
        {"csrfmiddlewaretoken": token, "next": book_path},
        page=book_path,
    )
    landing = member.request(site.port, "GET", borrow.location) if borrow.status == 302 else borrow
    return Outcome(borrow, landing)


def all_at_once(members: list[Member], work: Callable[[Member], T]) -> list[T]:
    """``work`` for every member, each in its own thread; re-raises what went wrong first,
    preferring the cause over the broken barrier it left the others with."""
    with ThreadPoolExecutor(max_workers=len(members)) as pool:
        futures = [pool.submit(work, member) for member in members]
    errors = [error for future in futures if (error := future.exception()) is not None]
    causes = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)] or errors
    if causes:
        raise causes[0]
    return [future.result() for future in futures]


def test_forty_members_borrow_five_copies_at_once(storm_site: Site) -> None:
    try:
        check_the_storm(storm_site)
    except BaseException:
        # Shown with the failure (captured output): a 500's traceback is in gunicorn's log.
        print(f"--- gunicorn log ({storm_site.log}) ---\n{storm_site.log.read_text()}")
        raise


def check_the_storm(site: Site) -> None:
    members = [Member(username=username) for username in MEMBERS]
    start = threading.Barrier(len(members), timeout=TIMEOUT)
    outcomes = dict(
        zip(
            MEMBERS,
            all_at_once(members, lambda m: borrow_in_the_storm(m, site, start)),
            strict=True,
        )
    )

    # What the database says: the truth the pages are checked against.
    with psycopg.connect(site.database_url) as db:
        loans = db.execute(
            "SELECT u.username, c.id, c.barcode FROM circulation_loan l"
            " JOIN accounts_user u ON u.id = l.borrower_id"
            " JOIN circulation_copy c ON c.id = l.copy_id"
            " WHERE l.book_id = %s AND l.returned_at IS NULL",
            [site.book_id],
        ).fetchall()
        copies = dict(
            db.execute(
                "SELECT status, count(*) FROM circulation_copy WHERE book_id = %s GROUP BY status",
                [site.book_id],
            ).fetchall()
        )
    barcode_of = {username: barcode for username, _, barcode in loans}

    # Every member looks at /loans/ once the storm is over (in parallel: it is quicker).
    loans_pages = dict(
        zip(
            MEMBERS,
            all_at_once(members, lambda m: m.request(site.port, "GET", "/loans/")),
            strict=True,
        )
    )

    server_errors = [
        f"{member.username}: {method} {path} → {status}"
        for member in members
        for method, path, status in member.requests
        if status >= 500
    ]
    assert server_errors == []
    assert {name: o.borrow.status for name, o in outcomes.items() if o.borrow.status != 302} == {}

    # No oversell: one open loan per copy, every copy out, nobody twice.
    assert len(loans) == COPIES, loans
    assert len({copy_id for _, copy_id, _ in loans}) == COPIES
    assert len(barcode_of) == COPIES
    assert copies == {"on_loan": COPIES}, copies

    # Each member was told what happened to them, and it is what the database holds.
    told_borrowed = {name for name, o in outcomes.items() if BORROWED in o.landing.text}
    told_refused = {name for name, o in outcomes.items() if REFUSED in o.landing.text}
    assert told_borrowed == set(barcode_of)
    assert told_refused == set(MEMBERS) - set(barcode_of)
    assert len(told_refused) == len(MEMBERS) - COPIES

    for name, page in loans_pages.items():
        assert page.status == 200, f"{name}: /loans/ {page.status}"
        on_loan = open_loans_section(page.text)
        if name in barcode_of:
            assert escape(TITLE) in on_loan, f"{name} borrowed it but /loans/ does not say so"
            assert f"Copy {barcode_of[name]}," in on_loan, f"{name}: not the copy on record"
        else:
            assert escape(TITLE) not in on_loan, f"{name} has no loan but /loans/ shows one"
            assert "Nothing on loan." in on_loan
