"""What the browser tests share besides page objects (pages.py): screen sizes, a second
person's browser, the PostgreSQL-only marker, a seeded database that read-only tests share,
and a clock the test moves instead of waiting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

# One marker for both suites: the unit suite's (skips on SQLite with the reason shown).
from apps.core.tests.support import postgres_only as postgres_only

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

    from .conftest import BrowserProblems

# Pictures of the app for the README and docs, retaken by the tests that reach each screen.
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

# Screen sizes (page.set_viewport_size), and the browsers that have them (new_context).
PHONE_SIZE = {"width": 390, "height": 844}
LAPTOP_SIZE = {"width": 1280, "height": 800}
PHONE = {"viewport": PHONE_SIZE, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": LAPTOP_SIZE}


def context_for(browser_problems: BrowserProblems, new_context, **options) -> BrowserContext:
    """A fresh browser context (its own cookies: another person), watched like ``page``'s."""
    from .conftest import watch

    return watch(new_context(**options), browser_problems)


def book_manager(username: str, first_name: str, last_name: str) -> Any:
    """Someone who sees, adds, changes, deletes and publishes books (by permissions, without
    a role), and logs in with the factories' DEFAULT_PASSWORD."""
    from apps.accounts.tests.factories import UserFactory
    from conftest import grant

    user = UserFactory(username=username, first_name=first_name, last_name=last_name)
    return grant(
        user,
        "bookshelf.view_book",
        "bookshelf.add_book",
        "bookshelf.change_book",
        "bookshelf.delete_book",
        "bookshelf.can_publish_book",
    )


# --- Seeded once ---------------------------------------------------------------------------


def demo_data_create() -> dict[str, Any]:
    """What `make run` shows: seed_demo's users (one per role, password DEMO_PASSWORD) and
    its books and loans. Returns the users by username."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from apps.accounts.demo import DEMO_USERS, demo_users_create
    from apps.bookshelf.demo import demo_books_create
    from apps.circulation.demo import demo_circulation_create

    demo_users_create(password=settings.DEMO_PASSWORD)
    demo_books_create()
    demo_circulation_create()
    usernames = [demo.username for demo in DEMO_USERS]
    return get_user_model().objects.in_bulk(usernames, field_name="username")


@contextmanager
def shared_database(django_db_blocker) -> Iterator[None]:
    """The test database open for a whole module, as ``transactional_db`` opens it for one
    test, and flushed the same way (Django's TransactionTestCase) when the module ends."""
    from django.test import TransactionTestCase

    class SharedDatabase(TransactionTestCase):
        pass

    with django_db_blocker.unblock():
        SharedDatabase.setUpClass()
        case = SharedDatabase(methodName="__init__")
        if not getattr(SharedDatabase, "_pre_setup_ran_eagerly", False):
            case._pre_setup()
        try:
            yield
        finally:
            case._post_teardown()
            SharedDatabase.tearDownClass()
            SharedDatabase.doClassCleanups()


# --- Time ----------------------------------------------------------------------------------


def _session_time_keys() -> tuple[str, ...]:
    """The session's own clocks: when it started, was last seen, last had the password or
    the second factor (epoch seconds)."""
    from apps.accounts.two_factor import VERIFIED_AT
    from apps.core.security import AUTHENTICATED_AT, LAST_SEEN_AT, SESSION_STARTED_AT

    return (SESSION_STARTED_AT, LAST_SEEN_AT, AUTHENTICATED_AT, VERIFIED_AT)


def age_sessions(seconds: float) -> None:
    """What ``seconds`` more of the server's time do to every session: each ends that much
    sooner (its row's expire_date) and each of its timestamps lies that much further back,
    so the idle and absolute limits count them as time gone by."""
    from django.conf import settings
    from django.core.cache import caches
    from qsessions.models import Session

    store = Session.get_session_store_class()()
    keys = _session_time_keys()
    prefix = getattr(store, "cache_key_prefix", None)
    for session in Session.objects.all():
        data = session.get_decoded()
        for key in keys:
            if isinstance(data.get(key), int | float):
                data[key] -= seconds
        session.session_data = store.encode(data)
        session.expire_date -= timedelta(seconds=seconds)
        session.save(update_fields=["session_data", "expire_date"])
        if prefix:  # cached_db: the next request reads the row again
            caches[settings.SESSION_CACHE_ALIAS].delete(prefix + session.session_key)


def age_cookies(context: BrowserContext, seconds: float) -> None:
    """What ``seconds`` more do to the browser's cookies: each expires that much sooner, and
    those whose time is up are gone, as the browser drops them."""
    now = time.time()
    for cookie in context.cookies():
        if cookie["expires"] < 0:  # a browser-session cookie: no expiry of its own
            continue
        context.clear_cookies(name=cookie["name"], domain=cookie["domain"], path=cookie["path"])
        expires = cookie["expires"] - seconds
        if expires > now:
            kept: Any = {k: v for k, v in cookie.items() if k != "partitionKey"}
            context.add_cookies([{**kept, "expires": expires}])


class Clock:
    """Time that passes when the test says so, for the server and the browser alike: the
    sessions (``age_sessions``), the cookie jar (``age_cookies``) and, where the page runs
    scripts, their clock (Playwright's ``page.clock``, installed before the first page)."""

    def __init__(self, page: Page, *, scripts: bool = True) -> None:
        self.page = page
        self.scripts = scripts
        self.moved = 0.0
        if scripts:
            page.clock.install()

    def now(self) -> float:
        """The time it is for the app (epoch seconds)."""
        return time.time() + self.moved

    def move(self, seconds: float) -> None:
        self.moved += seconds
        age_sessions(seconds)
        age_cookies(self.page.context, seconds)
        if self.scripts:
            self.page.clock.fast_forward(round(seconds * 1000))

    def session_end(self) -> float:
        """When the server will forget the browser's session, on this clock."""
        from qsessions.models import Session

        cookies = self.page.context.cookies()
        key = next(c["value"] for c in cookies if c["name"] == "sessionid")
        return Session.objects.get(session_key=key).expire_date.timestamp() + self.moved
