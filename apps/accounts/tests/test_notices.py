"""Security notices (OWASP ASVS 2.2.3, 2.5.5): a change to how an account signs in is mailed
to its address, with where it came from and the way back."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-and-long-passphrase"


@pytest.fixture
def pia():
    return UserFactory(username="pia", email="pia@example.org")


def test_a_password_change_is_announced_with_where_it_came_from(
    client, pia, django_capture_on_commit_callbacks
):
    client.force_login(pia)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:password_change"),
            {
                "old_password": DEFAULT_PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
            REMOTE_ADDR="192.0.2.44",
            HTTP_USER_AGENT="Firefox/133.0",
        )
    [notice] = mail.outbox
    assert notice.to == ["pia@example.org"]
    assert notice.subject == "Bookshelf: Your password was changed"
    assert "From: 192.0.2.44" in notice.body and "Firefox/133.0" in notice.body
    assert "http://testserver/accounts/password/reset/" in notice.body


def test_a_refused_password_change_announces_nothing(
    client, pia, django_capture_on_commit_callbacks
):
    client.force_login(pia)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:password_change"),
            {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
    assert mail.outbox == []


def test_a_password_reset_is_announced(client, pia, django_capture_on_commit_callbacks):
    client.post(reverse("accounts:password_reset"), {"email": pia.email})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
    assert [m.subject for m in mail.outbox[1:]] == ["Bookshelf: Your password was reset"]


def test_two_factor_changes_are_announced(client, pia, django_capture_on_commit_callbacks):
    from apps.accounts.tests.test_two_factor import code_for, enrol
    from apps.accounts.two_factor import PENDING_SECRET

    client.force_login(pia)
    with django_capture_on_commit_callbacks(execute=True):
        _key, codes = enrol(client, name="Phone")
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("accounts:authenticator-add"))
        key = client.session[PENDING_SECRET]
        client.post(
            reverse("accounts:authenticator-add"), {"name": "Tablet", "code": code_for(key)}
        )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:recovery-codes"))
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for device in TOTPDevice.objects.filter(user=pia).order_by("pk"):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("accounts:authenticator-remove", args=[device.pk]))
    assert [(m.subject, m.body.splitlines()[0]) for m in mail.outbox] == [
        ("Bookshelf: Two-factor authentication was turned on", _first("turned on", "Phone")),
        ("Bookshelf: A second factor was added to your account", _first("added", "Tablet")),
        ("Bookshelf: New recovery codes were made; the old ones no longer work", _codes()),
        ("Bookshelf: A second factor was removed from your account", _first("removed", "Phone")),
        ("Bookshelf: Two-factor authentication was turned off", _first("turned off", "Tablet")),
    ]


def _first(what: str, name: str) -> str:
    sentences = {
        "turned on": "Two-factor authentication was turned on",
        "turned off": "Two-factor authentication was turned off",
        "added": "A second factor was added to your account",
        "removed": "A second factor was removed from your account",
    }
    return f"{sentences[what]}: {name}."


def _codes() -> str:
    return "New recovery codes were made; the old ones no longer work."


def test_signing_in_with_a_recovery_code_is_announced(
    client, pia, django_capture_on_commit_callbacks
):
    from apps.accounts.tests.test_two_factor import code_step, enrol, password_step

    client.force_login(pia)
    _key, codes = enrol(client)
    client.logout()
    password_step(client, "pia")
    with django_capture_on_commit_callbacks(execute=True):
        code_step(client, codes[0])
    assert [m.body.splitlines()[0] for m in mail.outbox] == [
        "One of your recovery codes was used: to sign in; 9 left."
    ]


def test_a_recovery_code_used_in_sudo_mode_is_announced(
    client, pia, django_capture_on_commit_callbacks
):
    from apps.accounts.tests.factories import force_login_verified
    from apps.accounts.tests.test_two_factor import enrol

    client.force_login(pia)
    _key, codes = enrol(client)
    force_login_verified(client, pia)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:confirm-password"), {"code": codes[0]})
    assert response.status_code == 302
    assert [m.body.splitlines()[0] for m in mail.outbox] == [
        "One of your recovery codes was used: to confirm it was you; 9 left."
    ]
