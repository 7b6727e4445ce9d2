"""The people of the circulation tests, in the real roles (the groups post_migrate makes)."""

from __future__ import annotations

import pytest

from apps.core.tests.support import in_role


@pytest.fixture
def alice(db):
    return in_role("Members", username="alice")


@pytest.fixture
def bob(db):
    return in_role("Members", username="bob")


@pytest.fixture
def carol(db):
    return in_role("Members", username="carol")


@pytest.fixture
def librarian(db):
    return in_role("Librarians", username="librarian")
