"""Sudo mode: role changes and email changes need a recently entered password."""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from apps.accounts.tests.factories import DEFAULT_PASSWORD, force_login_verified
from apps.core.security import AUTHENTICATED_AT

from .support import in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale_roleadmin(client):
    """A role admin whose password was last typed 16 minutes ago."""
    admin = in_role("Admins", username="roleadmin")
    force_login_verified(client, admin)
    session = client.session
    session[AUTHENTICATED_AT] = time.time() - 16 * 60
    session.save()
    return admin


def toggle(client, **headers):
    editors = Group.objects.get(name="Editors")
    publish = Permission.objects.get(codename="can_publish_book")
    url = reverse("roles:group-permission-toggle", args=[editors.pk, publish.pk])
    return client.post(url, {"permissions": [publish.pk]}, **headers), editors


def test_a_stale_password_sends_the_admin_to_confirm_it_first(client, stale_roleadmin):
    group_page = reverse("roles:group-detail", args=[Group.objects.get(name="Editors").pk])
    response, editors = toggle(client, HTTP_REFERER=f"http://testserver{group_page}")
    assert response.status_code == HTTPStatus.FOUND
    assert (
        response["Location"] == f"/accounts/confirm-password/?next={group_page.replace('/', '%2F')}"
    )
    assert not editors.permissions.filter(codename="can_publish_book").exists()


def test_htmx_gets_a_client_redirect_back_to_its_page(client, stale_roleadmin):
    response, editors = toggle(
        client, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/roles/3/"
    )
    assert response["HX-Redirect"] == "/accounts/confirm-password/?next=%2Froles%2F3%2F"
    assert not editors.permissions.filter(codename="can_publish_book").exists()


def test_reading_the_roles_pages_needs_no_confirmation(client, stale_roleadmin):
    assert client.get(reverse("roles:group-list")).status_code == HTTPStatus.OK


def test_confirming_the_password_opens_a_fifteen_minute_window(client, stale_roleadmin):
    url = reverse("accounts:confirm-password")
    response = client.post(url, {"password": "wrong", "next": "/roles/"})
    assert response.status_code == HTTPStatus.OK
    assert "That is not your password." in response.text
    response = client.post(url, {"password": DEFAULT_PASSWORD, "next": "/roles/"})
    assert response["Location"] == "/roles/"
    response, editors = toggle(client)
    assert response.status_code == HTTPStatus.FOUND
    assert editors.permissions.filter(codename="can_publish_book").exists()


def test_confirm_password_ignores_an_off_site_next(client, stale_roleadmin):
    response = client.post(
        reverse("accounts:confirm-password"),
        {"password": DEFAULT_PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_changing_the_email_asks_for_the_password_when_stale(client, stale_roleadmin):
    url = reverse("accounts:profile")
    data = {"first_name": "R", "last_name": "A", "email": "new@example.org", "date_of_birth": ""}
    response = client.post(url, data)
    assert response.status_code == HTTPStatus.OK
    assert "Enter your password to change your email." in response.text
    stale_roleadmin.refresh_from_db()
    assert stale_roleadmin.email != "new@example.org"
    # Other details change freely.
    client.post(url, {**data, "email": stale_roleadmin.email, "first_name": "Rolf"})
    stale_roleadmin.refresh_from_db()
    assert stale_roleadmin.first_name == "Rolf"
    response = client.post(url, {**data, "current_password": DEFAULT_PASSWORD})
    assert response.status_code == HTTPStatus.FOUND
    # The password let the request through: the address changes once its link is opened
    # (apps/accounts/tests/test_email_change.py).
    assert "We sent a link to new@example.org" in client.get(url).text


def test_password_change_signs_out_other_sessions(client, member):
    from django.test import Client

    other = Client()
    force_login_verified(other, member)
    force_login_verified(client, member)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-fresh-long-passphrase",
            "new_password2": "a-fresh-long-passphrase",
        },
        follow=True,
    )
    assert "Your other sessions were signed out." in response.text
    assert client.get(reverse("accounts:profile")).status_code == HTTPStatus.OK
    assert other.get(reverse("accounts:profile")).status_code == HTTPStatus.FOUND
