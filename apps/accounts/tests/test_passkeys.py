"""Passkeys and security keys (django-otp-webauthn) as a second factor: adding one (behind
sudo mode), listing, renaming and removing it under the same rules as an authenticator, and
the login's second step with it (only the pending user's passkeys; failures count towards
the lockout).

The browser's answers come from a passkey in software (soft_authenticator.py): real keys
and signatures, which the views verify with py_webauthn as they would a phone's. Requests
are made over HTTPS (``secure=True``): browsers make passkeys only in a secure context, and
the views check the origin the answers name (https://testserver)."""

from __future__ import annotations

import json
import re
import time
from http import HTTPStatus
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from apps.accounts import two_factor
from apps.accounts.models import RecoveryCodeDevice
from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, force_login_verified
from apps.accounts.two_factor import PENDING_LOGIN, VERIFIED_AT
from apps.core.tests.support import in_role

from .soft_authenticator import SoftAuthenticator, b64url

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:login-verify")
OVERVIEW = reverse("accounts:two-factor")
REGISTER_BEGIN = reverse("accounts:passkey-register-begin")
REGISTER_COMPLETE = reverse("accounts:passkey-register-complete")
LOGIN_BEGIN = reverse("accounts:passkey-login-begin")
LOGIN_COMPLETE = reverse("accounts:passkey-login-complete")
CLIENT_IP = "203.0.113.9"


def post_json(client: Client, url: str, data: Any = None, **extra: Any):
    return client.post(
        url,
        json.dumps(data) if data is not None else "",
        content_type="application/json",
        secure=True,
        REMOTE_ADDR=CLIENT_IP,
        **extra,
    )


def add_passkey(client: Client, passkey: SoftAuthenticator, **answer: Any):
    """Begins a registration as the page's script does, answers it with ``passkey``, and
    returns the view's answer to the completion."""
    options = post_json(client, REGISTER_BEGIN)
    assert options.status_code == HTTPStatus.OK, options.content
    return post_json(client, REGISTER_COMPLETE, passkey.register(options.json(), **answer))


def password_step(client: Client, username: str, next_url: str = ""):
    data = {"username": username, "password": DEFAULT_PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data, secure=True, REMOTE_ADDR=CLIENT_IP)


def passkey_step(client: Client, passkey: SoftAuthenticator, **answer: Any):
    options = post_json(client, LOGIN_BEGIN)
    assert options.status_code == HTTPStatus.OK, options.content
    return post_json(client, LOGIN_COMPLETE, passkey.sign(options.json(), **answer))


def stale_sudo(client: Client) -> None:
    session = client.session
    session["bookshelf_authenticated_at"] = time.time() - 3600
    session.save()


@pytest.fixture
def pia():
    return UserFactory(username="pia")


@pytest.fixture
def pias_passkey(pia) -> SoftAuthenticator:
    """pia with a passkey, added through the views; logged out again."""
    client = Client()
    client.force_login(pia)
    passkey = SoftAuthenticator()
    assert add_passkey(client, passkey).status_code == HTTPStatus.OK
    return passkey


def admin_user(username: str = "ada"):
    return in_role("Admins", username=username)


# --- Adding a passkey ----------------------------------------------------------------------


def test_a_passkey_is_added_verified_and_listed(client, pia):
    client.force_login(pia)
    response = add_passkey(client, SoftAuthenticator())
    assert response.status_code == HTTPStatus.OK
    device = WebAuthnCredential.objects.get(user=pia)
    assert response.json() == {"id": device.pk}
    assert device.confirmed and device.name == "Passkey"
    assert two_factor.has_two_factor(pia)
    assert client.session[VERIFIED_AT]  # the session that added it counts as verified
    page = client.get(OVERVIEW, secure=True).text
    assert "Your passkey is set up." in page
    assert "Passkey or security key" in page
    assert reverse("accounts:passkey-rename", args=[device.pk]) in page
    # A first passkey comes without recovery codes: the overview asks for them at once.
    assert 'id="recovery-codes-missing"' in page
    assert not RecoveryCodeDevice.objects.filter(user=pia).exists()


def test_a_second_passkey_gets_a_name_of_its_own(client, pia, pias_passkey):
    force_login_verified(client, pia)
    assert add_passkey(client, SoftAuthenticator()).status_code == HTTPStatus.OK
    names = WebAuthnCredential.objects.order_by("pk").values_list("name", flat=True)
    assert list(names) == ["Passkey", "Passkey 2"]


def test_recovery_codes_after_a_first_passkey_are_made_once_asked(client, pia):
    client.force_login(pia)
    add_passkey(client, SoftAuthenticator())
    response = client.post(reverse("accounts:recovery-codes"), {"next": "/roles/"}, secure=True)
    assert response["Cache-Control"] == "no-store"
    assert "Two-factor authentication is on." in response.text
    assert len(re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", response.text)) == 10
    assert 'href="/roles/"' in response.text  # then on to where they were going
    page = client.get(OVERVIEW, secure=True).text
    assert "10 unused recovery codes left." in page
    assert 'id="recovery-codes-missing"' not in page


def test_adding_a_passkey_needs_a_recent_password(client, pia):
    client.force_login(pia)
    stale_sudo(client)
    response = post_json(client, REGISTER_BEGIN)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "sudo_required"
    # Nor may a registration begun in time be completed once the password is stale.
    client.force_login(pia)
    options = post_json(client, REGISTER_BEGIN).json()
    stale_sudo(client)
    response = post_json(client, REGISTER_COMPLETE, SoftAuthenticator().register(options))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not WebAuthnCredential.objects.exists()


def test_the_overview_offers_the_passkey_button_only_with_a_recent_password(client, pia):
    client.force_login(pia)
    page = client.get(OVERVIEW, secure=True).text
    assert 'id="passkey-register-button"' in page
    assert 'id="otp_webauthn_config"' in page
    stale_sudo(client)
    page = client.get(OVERVIEW, secure=True).text
    assert 'id="passkey-register-button"' not in page
    assert 'id="otp_webauthn_config"' not in page
    assert f'href="{reverse("accounts:confirm-password")}?next=' in page


def test_passkeys_are_offered_only_where_browsers_make_them(client, pia):
    """A host name over HTTPS, or plain HTTP on localhost; never an IP address."""
    client.force_login(pia)
    offered = {
        (host, secure): 'id="passkey-register-button"'
        in client.get(OVERVIEW, HTTP_HOST=host, secure=secure).text
        for host in ("testserver", "localhost", "127.0.0.1")
        for secure in (False, True)
    }
    assert offered == {
        ("testserver", False): False,
        ("testserver", True): True,
        ("localhost", False): True,
        ("localhost", True): True,
        ("127.0.0.1", False): False,
        ("127.0.0.1", True): False,
    }
    response = client.post(REGISTER_BEGIN, HTTP_HOST="127.0.0.1", secure=True)
    assert response.json()["code"] == "passkeys_unavailable"


def test_the_ceremony_is_bound_to_this_sites_origin_and_challenge(client, pia):
    client.force_login(pia)
    # An answer made for another origin (a phishing page's) is refused.
    response = add_passkey(client, SoftAuthenticator(), origin="https://books.example.net")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    # Without a registration begun in this session there is no challenge to answer.
    options = {"rp": {"id": "testserver"}, "challenge": "AAAA"}
    response = post_json(client, REGISTER_COMPLETE, SoftAuthenticator().register(options))
    assert response.json()["code"] == "invalid_state"
    assert not WebAuthnCredential.objects.exists()


def test_the_origin_is_the_pages_own_whatever_its_port(client, pia):
    """Plain HTTP on localhost, as the browser tests' live server (a random port): the
    relying party is localhost and the answers must name that page's origin."""
    client.force_login(pia)
    here = {"HTTP_HOST": "localhost:8123", "content_type": "application/json"}
    options = client.post(REGISTER_BEGIN, **here).json()
    assert options["rp"] == {"id": "localhost", "name": "Bookshelf"}
    passkey = SoftAuthenticator(origin="http://localhost:8123")
    elsewhere = passkey.register(options, origin="http://localhost:8000")
    response = client.post(REGISTER_COMPLETE, json.dumps(elsewhere), **here)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    options = client.post(REGISTER_BEGIN, **here).json()
    response = client.post(REGISTER_COMPLETE, json.dumps(passkey.register(options)), **here)
    assert response.status_code == HTTPStatus.OK


def test_a_user_with_factors_adds_a_passkey_only_from_a_session_that_used_one(client, pia):
    TOTPDevice.objects.create(user=pia, name="Phone", confirmed=True)
    client.force_login(pia)  # e.g. a login that skipped the second step (the admin's)
    response = post_json(client, REGISTER_BEGIN)
    # Signed out at once, to log in again with the factor (TwoFactorRequiredMiddleware);
    # the library's own check (user_not_verified) stands behind it.
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not WebAuthnCredential.objects.exists()
    force_login_verified(client, pia)
    assert add_passkey(client, SoftAuthenticator()).status_code == HTTPStatus.OK


def test_the_first_passkey_signs_out_the_other_sessions(pia):
    laptop, elsewhere = Client(), Client()
    laptop.force_login(pia)
    elsewhere.force_login(pia)
    add_passkey(laptop, SoftAuthenticator())
    assert SESSION_KEY not in elsewhere.session
    assert SESSION_KEY in laptop.session


def test_the_ceremonies_need_the_pages_csrf_token(pia):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pia)
    page = client.get(OVERVIEW, secure=True).text
    referer = {"HTTP_REFERER": f"https://testserver{OVERVIEW}"}  # as fetch() sends it
    assert post_json(client, REGISTER_BEGIN, **referer).status_code == HTTPStatus.FORBIDDEN
    config = json.loads(re.search(r'id="otp_webauthn_config"[^>]*>(.*?)</script>', page)[1])
    response = post_json(client, REGISTER_BEGIN, HTTP_X_CSRFTOKEN=config["csrfToken"], **referer)
    assert response.status_code == HTTPStatus.OK


# --- Managing passkeys ---------------------------------------------------------------------


def test_has_two_factor_counts_passkeys_in_one_query(pia, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert not two_factor.has_two_factor(pia)
    client = Client()
    client.force_login(pia)
    add_passkey(client, SoftAuthenticator())
    with django_assert_num_queries(1):
        assert two_factor.has_two_factor(pia)
    with django_assert_num_queries(2):  # one for each kind
        assert [type(device) for device in two_factor.factors_of(pia)] == [WebAuthnCredential]


def test_rename_and_remove_a_passkey(client, pia, pias_passkey):
    force_login_verified(client, pia)
    device = WebAuthnCredential.objects.get(user=pia)
    client.post(reverse("accounts:recovery-codes"), secure=True)
    client.post(reverse("accounts:passkey-rename", args=[device.pk]), {"name": "Yubikey"})
    device.refresh_from_db()
    assert device.name == "Yubikey"
    response = client.post(reverse("accounts:passkey-remove", args=[device.pk]), follow=True)
    assert "Two-factor is off" in response.text
    assert not WebAuthnCredential.objects.exists()
    assert not RecoveryCodeDevice.objects.exists()  # no way in with codes alone
    client.logout()
    assert password_step(client, "pia")["Location"] == reverse("core:home")


def test_removing_a_passkey_needs_a_recent_password(client, pia, pias_passkey):
    force_login_verified(client, pia)
    stale_sudo(client)
    device = WebAuthnCredential.objects.get(user=pia)
    response = client.post(reverse("accounts:passkey-remove", args=[device.pk]))
    assert response["Location"].startswith(reverse("accounts:confirm-password"))
    assert WebAuthnCredential.objects.filter(pk=device.pk).exists()


def test_another_users_passkey_is_a_404(client, pia, pias_passkey):
    device = WebAuthnCredential.objects.get(user=pia)
    client.force_login(UserFactory(username="mallory"))
    for name in ("accounts:passkey-rename", "accounts:passkey-remove"):
        response = client.post(reverse(name, args=[device.pk]), {"name": "mine"})
        assert response.status_code == HTTPStatus.NOT_FOUND
    # Nor does an authenticator's URL reach a passkey with the same number.
    TOTPDevice.objects.create(user=pia, name="Phone", confirmed=True, pk=device.pk)
    force_login_verified(client, pia)
    response = client.post(
        reverse("accounts:authenticator-rename", args=[device.pk]), {"name": "x"}
    )
    device.refresh_from_db()
    assert device.name == "Passkey"
    assert TOTPDevice.objects.get(pk=device.pk).name == "x"
    assert response.status_code == HTTPStatus.FOUND


def test_a_user_who_must_have_a_factor_keeps_the_last_one_of_any_kind(client):
    admin = admin_user()
    client.force_login(admin)
    add_passkey(client, SoftAuthenticator())
    passkey = WebAuthnCredential.objects.get(user=admin)
    assert "keeps at least one second factor" in client.get(OVERVIEW, secure=True).text
    response = client.post(reverse("accounts:passkey-remove", args=[passkey.pk]), follow=True)
    assert "keeps at least one second factor" in response.text
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    # With an authenticator as well, either may go, but not both.
    phone = TOTPDevice.objects.create(user=admin, name="Phone", confirmed=True)
    client.post(reverse("accounts:authenticator-remove", args=[phone.pk]))
    assert not TOTPDevice.objects.filter(user=admin).exists()
    TOTPDevice.objects.create(user=admin, name="Phone", confirmed=True)
    client.post(reverse("accounts:passkey-remove", args=[passkey.pk]))
    assert not WebAuthnCredential.objects.exists()
    phone = TOTPDevice.objects.get(user=admin)
    response = client.post(reverse("accounts:authenticator-remove", args=[phone.pk]), follow=True)
    assert "keeps at least one second factor" in response.text
    assert TOTPDevice.objects.filter(user=admin).exists()


# --- The login's second step ---------------------------------------------------------------


def test_login_with_password_then_passkey(client, pia, pias_passkey):
    response = password_step(client, "pia", next_url="/accounts/profile/")
    assert response["Location"] == VERIFY
    assert SESSION_KEY not in client.session
    page = client.get(VERIFY, secure=True).text
    assert 'id="passkey-verification-available-template"' in page
    assert "Use a passkey or security key" in page
    assert "One of your recovery codes." in page  # no authenticator: the form takes codes
    options = post_json(client, LOGIN_BEGIN).json()
    # The browser is told which passkeys may answer: pia's.
    device = WebAuthnCredential.objects.get(user=pia)
    assert [item["id"] for item in options["allowCredentials"]] == [
        b64url(pias_passkey.credential_id)
    ]
    response = post_json(client, LOGIN_COMPLETE, pias_passkey.sign(options))
    assert response.status_code == HTTPStatus.OK
    # Where the password step was going, whatever ?next= the script adds to the URL.
    assert response.json() == {"id": device.pk, "redirect_url": "/accounts/profile/"}
    assert client.session[SESSION_KEY] == str(pia.pk)
    assert client.session[VERIFIED_AT]
    assert PENDING_LOGIN not in client.session
    device.refresh_from_db()
    assert device.last_used_at is not None and device.sign_count == 1


def test_the_script_cannot_choose_where_the_login_goes(client, pia, pias_passkey):
    password_step(client, "pia")
    options = post_json(client, LOGIN_BEGIN).json()
    url = f"{LOGIN_COMPLETE}?next=https://evil.example/"
    response = post_json(client, url, pias_passkey.sign(options))
    assert response.json()["redirect_url"] == reverse("core:home")


def test_the_second_step_offers_no_passkey_to_users_without_one(client, pia):
    TOTPDevice.objects.create(user=pia, name="Phone", confirmed=True)
    password_step(client, "pia")
    page = client.get(VERIFY, secure=True).text
    assert "otp_webauthn_config" not in page
    assert "Open your authenticator app" in page


def test_the_passkey_step_needs_the_password_first(client, pia, pias_passkey):
    for url in (LOGIN_BEGIN, LOGIN_COMPLETE):
        response = post_json(client, url, {})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["code"] == "no_pending_login"
    # Signed in is not enough either: the step is for a pending login only.
    force_login_verified(client, pia)
    assert post_json(client, LOGIN_BEGIN).json()["code"] == "no_pending_login"
    assert not AccessAttempt.objects.exists()


def test_the_passkey_step_expires_with_the_pending_login(client, pia, pias_passkey, settings):
    password_step(client, "pia")
    options = post_json(client, LOGIN_BEGIN).json()
    session = client.session
    session[PENDING_LOGIN] = {
        **session[PENDING_LOGIN],
        "at": time.time() - settings.BOOKSHELF_TWO_FACTOR_LOGIN_SECONDS - 1,
    }
    session.save()
    response = post_json(client, LOGIN_COMPLETE, pias_passkey.sign(options))
    assert response.json()["code"] == "no_pending_login"
    assert SESSION_KEY not in client.session


def test_a_passkey_of_another_user_cannot_complete_the_login(client, pia, pias_passkey):
    mallory = UserFactory(username="mallory")
    mallorys_passkey = SoftAuthenticator()
    other = Client()
    other.force_login(mallory)
    add_passkey(other, mallorys_passkey)
    # Mallory knows pia's password and answers pia's challenge with her own passkey.
    password_step(client, "pia")
    response = passkey_step(client, mallorys_passkey)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "credential_user_mismatch"
    assert SESSION_KEY not in client.session
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.failures_since_start) == ("pia", 1)


def test_an_answer_cannot_be_replayed(client, pia, pias_passkey):
    password_step(client, "pia")
    options = post_json(client, LOGIN_BEGIN).json()
    answer = pias_passkey.sign(options)
    assert post_json(client, LOGIN_COMPLETE, answer).status_code == HTTPStatus.OK
    # In another browser, after the password, the captured answer to the old challenge:
    thief = Client()
    password_step(thief, "pia")
    post_json(thief, LOGIN_BEGIN)
    response = post_json(thief, LOGIN_COMPLETE, answer)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert SESSION_KEY not in thief.session


def test_failed_passkeys_count_towards_the_password_lockout(client, pia, pias_passkey):
    # Three wrong passwords, then a passkey answer for another site: still one try left.
    for _ in range(3):
        client.post(LOGIN, {"username": "pia", "password": "nope"}, REMOTE_ADDR=CLIENT_IP)
    password_step(client, "pia")
    response = passkey_step(client, pias_passkey, origin="https://books.example.net")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    # The fifth failure locks the account out (the lockout page, which the script reports).
    response = passkey_step(client, pias_passkey, origin="https://books.example.net")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.failures_since_start) == ("pia", 5)
    assert PENDING_LOGIN not in client.session
    assert SESSION_KEY not in client.session
    assert password_step(client, "pia").status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_a_locked_out_user_is_refused_even_with_the_right_passkey(client, pia, pias_passkey):
    password_step(client, "pia")
    options = post_json(client, LOGIN_BEGIN).json()
    # Meanwhile someone fails the password five times from the same address.
    for _ in range(5):
        Client().post(LOGIN, {"username": "pia", "password": "nope"}, REMOTE_ADDR=CLIENT_IP)
    response = post_json(client, LOGIN_COMPLETE, pias_passkey.sign(options))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json()["code"] == "locked_out"
    assert post_json(client, LOGIN_BEGIN).json()["code"] == "locked_out"
    assert SESSION_KEY not in client.session
    assert AccessAttempt.objects.get().failures_since_start == 5  # refusals are not failures


def test_a_privileged_user_logs_in_with_a_passkey_and_reaches_roles(client):
    admin = admin_user("roleadmin")
    passkey = SoftAuthenticator()
    enrol = Client()
    enrol.force_login(admin)
    add_passkey(enrol, passkey)
    assert password_step(client, "roleadmin", next_url="/roles/")["Location"] == VERIFY
    response = passkey_step(client, passkey)
    assert response.json()["redirect_url"] == "/roles/"
    assert client.get("/roles/", secure=True).status_code == HTTPStatus.OK


# --- The scripts' translations ------------------------------------------------------------


def test_the_passkey_scripts_translations_are_served_to_anyone(client):
    response = client.get(reverse("accounts:passkey-jsi18n"))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/javascript")
    assert b"gettext" in response.content


# --- The admin -------------------------------------------------------------------------------


def test_the_admin_lists_passkeys_without_their_keys_and_only_removes_them(
    client, pia, pias_passkey
):
    device = WebAuthnCredential.objects.get(user=pia)
    force_login_verified(client, UserFactory(username="boss", is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:django_otp_webauthn_webauthncredential_changelist"))
    assert listing.status_code == HTTPStatus.OK and "Passkey" in listing.text
    page = client.get(
        reverse("admin:django_otp_webauthn_webauthncredential_change", args=[device.pk])
    ).text
    for secret in (
        device.public_key.hex(),
        device.credential_id_sha256,
        b64url(pias_passkey.credential_id),
    ):
        assert secret not in page
    assert 'name="user"' not in page  # read-only: a passkey cannot be handed to someone else
    response = client.post(
        reverse("admin:django_otp_webauthn_webauthncredential_delete", args=[device.pk]),
        {"post": "yes"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert not WebAuthnCredential.objects.exists()
