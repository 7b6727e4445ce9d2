"""Personas shared by the unit and e2e suites."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from apps.accounts.tests.factories import SuperuserFactory, UserFactory
from apps.core.policy import PERMISSIONS_CACHE
from apps.core.tests.support import in_role

# The book personas hold their role, as the demo users do. The groups are the ones every
# test database gets after migrate (post_migrate creates the roles of
# apps/roles/definitions.py), so the tests exercise the real roles, not a copy of their
# permissions. (`member` below stays a user without any role.)
PERSONA_ROLES = {"viewer": "Viewers", "editor": "Editors", "publisher": "Publishers"}


def grant(user, *permissions: str):
    """Give ``user`` permissions by "app_label.codename" and drop its permission cache."""
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", PERMISSIONS_CACHE):
        user.__dict__.pop(cache, None)
    return user


@pytest.fixture
def make_user(db) -> Callable:
    """A user holding exactly the given permissions ("app_label.codename")."""

    def make(*permissions: str, **fields):
        return grant(UserFactory(**fields), *permissions)

    return make


def persona(username: str):
    return in_role(PERSONA_ROLES[username], username=username, first_name=username.title())


@pytest.fixture
def viewer(db):
    return persona("viewer")


@pytest.fixture
def editor(db):
    return persona("editor")


@pytest.fixture
def publisher(db):
    return persona("publisher")


@pytest.fixture
def anonymous() -> AnonymousUser:
    return AnonymousUser()


@pytest.fixture
def member(db):
    """A signed-in user with no role and no permission."""
    return UserFactory(username="member", first_name="Max", last_name="Member")


@pytest.fixture
def superuser(db):
    return SuperuserFactory(username="admin", first_name="Ada", last_name="Admin")


def pytest_report_header(config) -> str:
    """Say which database the suite runs on (CI runs it on SQLite and on PostgreSQL)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database.get('NAME', '')}"
