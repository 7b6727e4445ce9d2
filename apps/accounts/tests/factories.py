from __future__ import annotations

import time

import factory
from django.contrib.auth import get_user_model

# Every factory-made user can log in with this password.
DEFAULT_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(DEFAULT_PASSWORD)


class SuperuserFactory(UserFactory):
    is_staff = True
    is_superuser = True


def force_login_verified(client, user) -> None:
    """``client.force_login(user)`` in a session that passed a second factor, as the login's
    second step leaves it: the user gets an authenticator if they have none, and the session
    records it (apps.accounts.two_factor.mark_session_verified). For the tests of what lies
    behind privileged pages; the requirement itself is tested in test_two_factor.py with
    real codes."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from apps.accounts.two_factor import VERIFIED_AT, factors_of

    device = next(iter(factors_of(user)), None)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session[VERIFIED_AT] = time.time()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
