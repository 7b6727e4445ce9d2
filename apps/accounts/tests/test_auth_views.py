from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from .factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("accounts:login")


def login(client, login_name, password=DEFAULT_PASSWORD):
    return client.post(LOGIN_URL, {"username": login_name, "password": password})


def test_login_page_asks_for_username_or_email(client):
    response = client.get(LOGIN_URL)
    assert response.status_code == HTTPStatus.OK
    assert "Username or email" in response.text
    assert "<h1" in response.text


@pytest.mark.parametrize(
    "login_name", ["reader", "READER", "reader@example.org", "Reader@Example.ORG"]
)
def test_user_logs_in_with_username_or_email_in_any_case(client, login_name):
    user = UserFactory(username="reader", email="reader@example.org")
    response = login(client, login_name)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("core:home")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_wrong_password_shows_an_error_and_logs_nobody_in(client):
    UserFactory(username="reader")
    response = login(client, "reader", "wrong-password")
    assert response.status_code == HTTPStatus.OK
    assert "do not match" in response.text
    assert SESSION_KEY not in client.session


def test_unknown_user_gets_the_same_error_as_a_wrong_password(client):
    response = login(client, "nobody")
    assert "do not match" in response.text
    assert SESSION_KEY not in client.session


def test_inactive_user_cannot_log_in(client):
    UserFactory(username="gone", is_active=False)
    login(client, "gone")
    assert SESSION_KEY not in client.session


def test_login_follows_a_safe_next_and_ignores_an_external_one(client):
    UserFactory(username="reader")
    response = client.post(
        LOGIN_URL,
        {"username": "reader", "password": DEFAULT_PASSWORD, "next": "/accounts/profile/"},
    )
    assert response["Location"] == "/accounts/profile/"
    client.logout()
    response = client.post(
        LOGIN_URL,
        {"username": "reader", "password": DEFAULT_PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("core:home")


def test_logout_is_post_only(client, member):
    client.force_login(member)
    response = client.get(reverse("accounts:logout"))
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert SESSION_KEY in client.session
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == HTTPStatus.FOUND
    assert SESSION_KEY not in client.session


def test_password_change_requires_login(client):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(LOGIN_URL)


def test_password_change_checks_the_old_password_and_the_validators(client, member):
    client.force_login(member)
    url = reverse("accounts:password_change")
    response = client.post(
        url,
        {"old_password": "wrong", "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == HTTPStatus.OK
    assert "Your old password was entered incorrectly" in response.text
    assert "at least 12 characters" in response.text
    response = client.post(
        url,
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-much-better-passphrase",
            "new_password2": "a-much-better-passphrase",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    member.refresh_from_db()
    assert member.check_password("a-much-better-passphrase")


def test_password_reset_emails_a_working_link(client):
    user = UserFactory(username="reader", email="reader@example.org")
    response = client.post(reverse("accounts:password_reset"), {"email": "READER@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    # The first GET swaps the token for a session marker and redirects to the form.
    response = client.get(link.group(1), follow=True)
    assert response.status_code == HTTPStatus.OK
    assert response.context["validlink"]
    set_password_url = response.redirect_chain[-1][0]
    response = client.post(
        set_password_url,
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


def test_password_reset_for_an_unknown_email_sends_nothing_but_says_the_same(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []
