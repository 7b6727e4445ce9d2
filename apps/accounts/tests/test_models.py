from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_auth_user_model_is_the_custom_user():
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert get_user_model() is User


def test_create_user_normalises_email_domain_and_hashes_password():
    user = User.objects.create_user("reader", "Reader@EXAMPLE.COM", "a-long-password-1")
    assert user.email == "Reader@example.com"
    assert user.password != "a-long-password-1"
    assert user.check_password("a-long-password-1")
    assert not user.is_staff
    assert not user.is_superuser


def test_create_user_without_username_is_refused():
    with pytest.raises(ValueError, match="username"):
        User.objects.create_user("", "someone@example.com", "a-long-password-1")


@pytest.mark.parametrize("email", ["", None])
def test_create_user_without_email_is_refused(email):
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user("reader", email, "a-long-password-1")


def test_create_superuser_sets_staff_and_superuser():
    user = User.objects.create_superuser("boss", "boss@example.com", "a-long-password-1")
    assert user.is_staff
    assert user.is_superuser


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_create_superuser_refuses_to_drop_a_flag(flag):
    with pytest.raises(ValueError, match=flag):
        User.objects.create_superuser(
            "boss", "boss@example.com", "a-long-password-1", **{flag: False}
        )


def test_email_is_unique_regardless_of_case():
    UserFactory(username="first", email="same@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="second", email="SAME@Example.com")


def test_email_uniqueness_is_reported_by_model_validation():
    UserFactory(username="first", email="same@example.com")
    duplicate = User(username="second", email="Same@example.com")
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean(exclude=["password"])
    assert "A user with that email address already exists." in str(excinfo.value)


def test_username_is_unique_regardless_of_case():
    UserFactory(username="reader")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="Reader", email="other@example.com")


def test_date_of_birth_in_the_future_is_invalid():
    user = UserFactory.build(date_of_birth=timezone.localdate() + datetime.timedelta(days=1))
    with pytest.raises(ValidationError) as excinfo:
        user.full_clean(exclude=["password"])
    assert excinfo.value.error_dict["date_of_birth"][0].code == "future"


def test_date_of_birth_before_1900_is_invalid():
    user = UserFactory.build(date_of_birth=datetime.date(1899, 12, 31))
    with pytest.raises(ValidationError) as excinfo:
        user.full_clean(exclude=["password"])
    assert excinfo.value.error_dict["date_of_birth"][0].code == "too_early"


def test_database_rejects_an_implausible_date_of_birth():
    user = UserFactory()
    user.date_of_birth = datetime.date(1800, 1, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        user.save()


def test_date_of_birth_today_and_in_1900_are_valid():
    for value in (timezone.localdate(), datetime.date(1900, 1, 1)):
        user = UserFactory.build(date_of_birth=value)
        user.full_clean(exclude=["password"])


def test_get_by_login_prefers_the_username_over_someone_elses_email():
    owner = UserFactory(username="owner", email="alice@example.com")
    squatter = UserFactory(username="alice@example.com", email="squatter@example.com")
    assert User.objects.get_by_login("alice@example.com") == squatter
    assert User.objects.get_by_login("ALICE@example.com") == squatter
    assert User.objects.get_by_login("owner") == owner


def test_initials_and_str_use_the_name_when_there_is_one():
    assert str(UserFactory.build(first_name="Ada", last_name="Lovelace")) == "Ada Lovelace"
    assert UserFactory.build(first_name="Ada", last_name="Lovelace").initials == "AL"
    nameless = UserFactory.build(username="zed", first_name="", last_name="")
    assert str(nameless) == "zed"
    assert nameless.initials == "Z"
