"""What the unit tests of every app share: people in roles, htmx requests and their toasts,
PostgreSQL-only tests, and real threads racing on their own database connections.

Fixtures stay in conftest.py files (the personas in the root one); this module holds the
plain helpers they and the tests import.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from apps.accounts.tests.factories import UserFactory

# --- People ------------------------------------------------------------------------------------


def in_role(name: str, **fields):
    """A new user holding the role ``name`` (one of the groups post_migrate makes, or one the
    test created)."""
    user = UserFactory(**fields)
    user.groups.add(Group.objects.get(name=name))
    return user


# --- htmx --------------------------------------------------------------------------------------


def htmx(current_url: str | None = None) -> dict[str, str]:
    """The headers htmx sends, as test client keyword arguments; ``current_url`` is the path
    of the page the request comes from (HX-Current-URL), when the view looks at it."""
    headers = {"HTTP_HX_REQUEST": "true"}
    if current_url is not None:
        headers["HTTP_HX_CURRENT_URL"] = f"http://testserver{current_url}"
    return headers


def toasts(response) -> list[dict]:
    """The messages (level and text) an htmx response carries in HX-Trigger."""
    payload = json.loads(response.get("HX-Trigger", "{}"))
    return payload.get("bookshelf:messages", {}).get("messages", [])


def text(response) -> str:
    """The response's body as a person reads it (entities unescaped)."""
    return html.unescape(response.content.decode())


# --- PostgreSQL --------------------------------------------------------------------------------

ROW_LOCKS = "needs PostgreSQL's row locks (SQLite allows one writer)"


def postgres_only(why: str) -> pytest.MarkDecorator:
    """Skip on SQLite, saying why in the skip reason (``pytest -rs`` lists it)."""
    return pytest.mark.skipif(
        connection.vendor != "postgresql", reason=f"{why}; runs in CI's PostgreSQL pass"
    )


def race(**calls: Callable[[], Any]) -> dict[str, Any]:
    """Run each call in its own thread (its own database connection, closed at the end), all
    released together by one barrier; return, per name, what the call returned or the
    exception it raised."""
    start = threading.Barrier(len(calls))
    outcomes: dict[str, Any] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=10)
            outcomes[name] = call()
        except Exception as error:  # noqa: BLE001  (asserted by the caller)
            outcomes[name] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.keys() == calls.keys(), f"a thread did not finish: {outcomes}"
    return {name: outcomes[name] for name in calls}


def race_writes(**writes: Callable[[], Any]) -> dict[str, Any]:
    """``race`` for writes whose result is not looked at: per name "ok" or the exception."""
    return {
        name: outcome if isinstance(outcome, Exception) else "ok"
        for name, outcome in race(**writes).items()
    }
