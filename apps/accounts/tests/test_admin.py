from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.tests.factories import force_login_verified

from .factories import UserFactory
from .images import image_upload

pytestmark = pytest.mark.django_db


def test_user_list_shows_searches_and_filters(client, superuser):
    UserFactory(username="findme", email="needle@example.org")
    UserFactory(username="other")
    force_login_verified(client, superuser)
    url = reverse("admin:accounts_user_changelist")
    response = client.get(url, {"q": "needle"})
    assert response.status_code == HTTPStatus.OK
    assert "findme" in response.text
    assert "other" not in response.text
    response = client.get(url, {"is_staff__exact": "1"})
    assert "findme" not in response.text
    assert superuser.username in response.text


def test_add_form_has_the_extra_fields_and_creates_the_user(client, superuser):
    force_login_verified(client, superuser)
    url = reverse("admin:accounts_user_add")
    page = client.get(url).text
    for field in ("email", "date_of_birth", "profile_photo", "first_name"):
        assert f'name="{field}"' in page
    response = client.post(
        url,
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": "a-sturdy-passphrase",
            "password2": "a-sturdy-passphrase",
            "email": "newbie@example.org",
            "first_name": "New",
            "last_name": "Bie",
            "date_of_birth": "2001-02-03",
            "profile_photo": image_upload(),
        },
    )
    assert response.status_code == HTTPStatus.FOUND, response.text
    user = User.objects.get(username="newbie")
    assert user.date_of_birth == datetime.date(2001, 2, 3)
    assert user.profile_photo.name.startswith("avatars/")
    assert user.check_password("a-sturdy-passphrase")


def test_add_form_refuses_a_duplicate_email_in_another_case(client, superuser):
    UserFactory(username="first", email="taken@example.org")
    force_login_verified(client, superuser)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "second",
            "usable_password": "false",
            "email": "TAKEN@example.org",
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "A user with that email address already exists." in response.text
    assert not User.objects.filter(username="second").exists()


def test_change_form_shows_the_extra_fields(client, superuser):
    user = UserFactory(date_of_birth=datetime.date(1980, 1, 1))
    force_login_verified(client, superuser)
    page = client.get(reverse("admin:accounts_user_change", args=[user.pk])).text
    assert 'name="date_of_birth"' in page
    assert 'value="1980-01-01"' in page
    assert 'name="profile_photo"' in page


def test_admin_rejects_a_fake_photo_too(client, superuser):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = UserFactory()
    force_login_verified(client, superuser)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    response = client.post(
        url,
        {
            "username": user.username,
            "email": user.email,
            "is_active": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "10:00:00",
            "profile_photo": SimpleUploadedFile("x.png", b"nope" * 100),
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "This file is not one." in response.text
