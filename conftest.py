"""Personas shared by the unit and e2e suites."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.accounts.tests.factories import SuperuserFactory, UserFactory


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
