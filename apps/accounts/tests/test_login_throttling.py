"""The login lockout counts failures per account, whatever identifier was typed.

Login accepts the username in any case and the e-mail address (``UsernameOrEmailBackend``),
so django-axes must key its counter on the account the login resolves to; otherwise each
spelling gets its own five attempts and a locked account still signs in under another one
(found by outside testing).
"""

from __future__ import annotations

import itertools
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.backends import lockout_key
from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, force_login_verified
from apps.core.tests.support import in_role

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("accounts:login")
CLIENT_IP = "203.0.113.5"


def attempt(client: Client, login: str, password: str = "wrong-password"):
    return client.post(LOGIN_URL, {"username": login, "password": password}, REMOTE_ADDR=CLIENT_IP)


def signs_in(login: str) -> bool:
    client = Client()
    response = attempt(client, login, DEFAULT_PASSWORD)
    return response.status_code == HTTPStatus.FOUND and SESSION_KEY in client.session


@pytest.fixture
def librarian():
    return UserFactory(username="librarian", email="librarian@example.com")


USERNAME_SPELLINGS = ["librarian", "Librarian", "LIBRARIAN", "lIbRaRiAn", "  librarian  "]
EMAIL_SPELLINGS = ["librarian@example.com", "Librarian@Example.com", "LIBRARIAN@EXAMPLE.COM"]


def test_failures_spread_over_spellings_and_email_lock_the_account(client, librarian):
    spellings = itertools.cycle(["Librarian", "librarian@example.com"])
    for _ in range(4):
        assert attempt(client, next(spellings)).status_code == HTTPStatus.OK
    # The fifth failure, whatever its spelling, is the one that locks.
    assert attempt(client, next(spellings)).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [
        ("librarian", 5)
    ]


def test_once_locked_no_spelling_of_the_username_or_email_signs_in(client, librarian):
    for _ in range(5):
        attempt(client, "librarian")
    for login in USERNAME_SPELLINGS + EMAIL_SPELLINGS:
        response = attempt(Client(), login, DEFAULT_PASSWORD)
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS, login
        assert not signs_in(login), login


def test_the_outside_testers_bypass_is_closed(client, librarian):
    """The reproduction from the report: lock one spelling, try four more per spelling,
    then sign in under yet another spelling."""
    for _ in range(5):
        attempt(client, "librarian")
    checked = [
        attempt(client, login).status_code
        for login in ["Librarian", "lIbrarian", "LIBRARIAN", *EMAIL_SPELLINGS]
        for _ in range(4)
    ]
    assert set(checked) == {HTTPStatus.TOO_MANY_REQUESTS}
    assert not signs_in("LiBrArIaN")


def test_unknown_logins_are_throttled_whatever_their_spelling(client, librarian):
    for login in ["nobody", "Nobody", "NOBODY", " nobody ", "ｎｏｂｏｄｙ"]:
        attempt(client, login)
    assert attempt(client, "noBody").status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["nobody"]
    # Probing unknown names does not lock a real account.
    assert signs_in("librarian")


def test_a_username_match_wins_over_an_email_match_as_in_the_backend(client):
    """Someone whose username is another user's e-mail address cannot be used to lock that
    other user out (or to count against them): the key is the account login would choose."""
    owner = UserFactory(username="ada", email="ada@example.com")
    squatter = UserFactory(username="ADA@example.com", email="squatter@example.org")
    assert lockout_key(None, {"username": "ada@example.com"}) == squatter.username
    assert lockout_key(None, {"username": "ADA"}) == owner.username
    assert lockout_key(None, {"username": "squatter@EXAMPLE.org"}) == squatter.username


def test_the_key_is_the_account_not_the_typed_text():
    user = UserFactory(username="Grace", email="grace@example.com")
    keys = {
        lockout_key(None, {"username": login})
        for login in ["Grace", "grace", "GRACE", " grace", "grace@example.com", "Grace@EXAMPLE.com"]
    }
    assert keys == {user.username}
    assert lockout_key(None, {"username": ""}) is None
    assert lockout_key(None, {}) is None
    # Unknown logins: case, width and surrounding spaces folded; never longer than axes keeps.
    assert lockout_key(None, {"username": " ＧＨＯＳＴ "}) == "ghost"
    assert len(lockout_key(None, {"username": "x" * 5000})) == 255


def test_lockouts_page_shows_one_lockout_and_clearing_it_frees_every_spelling(client, librarian):
    for login in ["Librarian", "librarian@example.com", "LIBRARIAN", "librarian", "LiBrArIaN"]:
        attempt(client, login)
    admin = in_role("Admins", username="roleadmin")
    staff = Client()
    force_login_verified(staff, admin)
    page = staff.get(reverse("roles:lockouts")).text
    assert page.count("Clear failures of") == 1
    assert "librarian" in page and "locked" in page

    pk = AccessAttempt.objects.get().pk
    response = staff.post(reverse("roles:lockout-clear", args=[pk]), follow=True)
    assert f"librarian may log in again from {CLIENT_IP}." in response.text
    assert not AccessAttempt.objects.exists()
    for login in ["LIBRARIAN", "Librarian@Example.com", "librarian"]:
        assert signs_in(login), login


def test_wrong_passwords_on_the_confirm_password_page_count_against_the_same_account(
    client, librarian
):
    """Sudo mode checks the password through authenticate() with the stored username: its
    failures and the login form's share one counter, whatever was typed at login."""
    force_login_verified(client, librarian)
    url = reverse("accounts:confirm-password")
    for _ in range(3):
        client.post(url, {"password": "wrong-password"}, REMOTE_ADDR=CLIENT_IP)
    assert attempt(Client(), "LIBRARIAN").status_code == HTTPStatus.OK  # the fourth
    assert attempt(Client(), "librarian@EXAMPLE.com").status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not signs_in("Librarian")
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["librarian"]


def test_a_failed_login_looks_the_account_up_once_for_the_lockout(client, librarian):
    with CaptureQueriesContext(connection) as queries:
        assert attempt(client, "Librarian@Example.com").status_code == HTTPStatus.OK
    user_lookups = [q["sql"] for q in queries if 'FROM "accounts_user"' in q["sql"]]
    # One for the authentication backend, one for the lockout key (axes asks three times).
    assert len(user_lookups) == 2, user_lookups
