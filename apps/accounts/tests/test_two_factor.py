"""Two-factor authentication: enrolling an authenticator, recovery codes, the login's second
step (replay, lockout), managing factors, and the requirement for privileged users.

Codes are computed from the key as an authenticator app would (django-otp's TOTP), never
faked: the views check them against the real devices in the database."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from binascii import unhexlify
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import RecoveryCode, RecoveryCodeDevice
from apps.accounts.recovery_codes import recovery_code_digest
from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, force_login_verified
from apps.accounts.two_factor import PENDING_LOGIN, PENDING_SECRET, VERIFIED_AT
from apps.core.tests.support import in_role

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:login-verify")
ADD = reverse("accounts:authenticator-add")
OVERVIEW = reverse("accounts:two-factor")
CLIENT_IP = "203.0.113.9"


def code_for(key_hex: str, offset: int = 0) -> str:
    totp = TOTP(unhexlify(key_hex), step=30, digits=6)
    totp.time = time.time() + offset * 30
    return f"{totp.token():06d}"


def enrol(client: Client, name: str = "Phone") -> tuple[str, list[str]]:
    """Enrols an authenticator through the pages; returns its key and the recovery codes."""
    assert client.get(ADD).status_code == HTTPStatus.OK
    key = client.session[PENDING_SECRET]
    response = client.post(ADD, {"name": name, "code": code_for(key)})
    if TOTPDevice.objects.filter(name=name).count() and response.status_code == HTTPStatus.FOUND:
        return key, []  # codes were made with the first factor; not shown again
    assert response.status_code == HTTPStatus.OK, response
    codes = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", response.text)
    return key, codes


def password_step(client: Client, username: str, next_url: str = ""):
    data = {"username": username, "password": DEFAULT_PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data, REMOTE_ADDR=CLIENT_IP)


def code_step(client: Client, code: str):
    return client.post(VERIFY, {"code": code}, REMOTE_ADDR=CLIENT_IP)


@pytest.fixture
def pia():
    return UserFactory(username="pia")


@pytest.fixture
def enrolled(client, pia):
    """pia with an authenticator (enrolled through the pages) and her recovery codes."""
    client.force_login(pia)
    key, codes = enrol(client)
    client.logout()
    # The enrolment's code is spent; the next login needs a later one.
    TOTPDevice.objects.filter(user=pia).update(last_t=-1)
    return key, codes


# --- Enrolment ---------------------------------------------------------------------------------


def test_enrolling_shows_the_key_and_a_qr_code_that_runs_nothing(client, pia):
    client.force_login(pia)
    page = client.get(ADD)
    key = client.session[PENDING_SECRET]
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text).group(1)
    assert b32decode(shown.replace(" ", "")).hex() == key  # 20 bytes: no padding
    svg = client.get(reverse("accounts:authenticator-qr"))
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg["Cache-Control"].startswith("max-age=0") or "no-cache" in svg["Cache-Control"]
    assert b"<path" in svg.content
    assert b"<script" not in svg.content and b"style=" not in svg.content
    # Opening the page stored nothing: the key waits in the session for its first code.
    assert not TOTPDevice.objects.exists()
    # The same key on a second visit (a reload must not invalidate what was scanned).
    client.get(ADD)
    assert client.session[PENDING_SECRET] == key


def test_a_wrong_first_code_saves_nothing(client, pia):
    client.force_login(pia)
    client.get(ADD)
    key = client.session[PENDING_SECRET]
    wrong = f"{(int(code_for(key)) + 1) % 1_000_000:06d}"
    response = client.post(ADD, {"name": "Phone", "code": wrong})
    assert response.status_code == HTTPStatus.OK
    assert "That code does not match" in response.text
    assert not TOTPDevice.objects.exists()
    response = client.post(ADD, {"name": "Phone", "code": "12ab"})
    assert "Enter the 6 digits" in response.text


def test_enrolment_confirms_the_device_and_shows_ten_recovery_codes_once(client, pia):
    client.force_login(pia)
    key, codes = enrol(client)
    device = TOTPDevice.objects.get(user=pia)
    assert device.confirmed and device.key == key and device.name == "Phone"
    assert len(codes) == 10 and len(set(codes)) == 10
    # Stored hashed: no column holds a code; each digest is the keyed hash of one.
    stored = list(RecoveryCode.objects.values_list("digest", flat=True))
    assert sorted(stored) == sorted(recovery_code_digest(code) for code in codes)
    assert not any(code.replace("-", "") in digest for code in codes for digest in stored)
    # Shown once: the overview only counts them.
    page = client.get(OVERVIEW).text
    assert "10 unused recovery codes left." in page
    assert not any(code in page for code in codes)
    assert client.session[VERIFIED_AT]


def test_enrolment_needs_a_recent_password(client, pia):
    client.force_login(pia)
    client.get(ADD)
    session = client.session
    session["bookshelf_authenticated_at"] = time.time() - 3600
    session.save()
    key = client.session[PENDING_SECRET]
    response = client.post(ADD, {"name": "Phone", "code": code_for(key)})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("accounts:confirm-password"))
    assert not TOTPDevice.objects.exists()


def test_the_first_factor_signs_out_the_other_sessions(pia):
    laptop, elsewhere = Client(), Client()
    laptop.force_login(pia)
    elsewhere.force_login(pia)
    enrol(laptop)
    assert SESSION_KEY not in elsewhere.session
    assert SESSION_KEY in laptop.session


# --- Login ---------------------------------------------------------------------------------


def test_login_asks_for_the_code_and_only_then_signs_in(client, pia, enrolled):
    key, _codes = enrolled
    response = password_step(client, "pia", next_url="/accounts/profile/")
    assert response["Location"] == VERIFY
    assert SESSION_KEY not in client.session  # not logged in by the password alone
    assert client.get("/accounts/profile/").status_code == HTTPStatus.FOUND  # to login
    response = code_step(client, code_for(key))
    assert response["Location"] == "/accounts/profile/"
    assert client.session[SESSION_KEY] == str(pia.pk)
    assert client.session[VERIFIED_AT]
    assert PENDING_LOGIN not in client.session


def test_users_without_a_factor_log_in_with_the_password_alone(client, pia):
    response = password_step(client, "pia")
    assert response["Location"] == reverse("core:home")
    assert client.session[SESSION_KEY] == str(pia.pk)


def test_a_code_cannot_be_replayed(pia, enrolled):
    key, _codes = enrolled
    code = code_for(key)
    first, second = Client(), Client()
    password_step(first, "pia")
    assert code_step(first, code)["Location"] == reverse("core:home")
    password_step(second, "pia")
    response = code_step(second, code)
    assert response.status_code == HTTPStatus.OK
    assert "used already" in response.text
    assert SESSION_KEY not in second.session


def test_the_code_that_confirmed_enrolment_cannot_log_in(client, pia):
    client.force_login(pia)
    client.get(ADD)
    key = client.session[PENDING_SECRET]
    code = code_for(key)
    client.post(ADD, {"name": "Phone", "code": code})
    client.logout()
    password_step(client, "pia")
    assert code_step(client, code).status_code == HTTPStatus.OK
    assert SESSION_KEY not in client.session


def test_a_recovery_code_works_once(pia, enrolled):
    _key, codes = enrolled
    first, second = Client(), Client()
    password_step(first, "pia")
    # Typed as people type: capitals and spaces instead of the dash.
    response = code_step(first, codes[0].upper().replace("-", " "))
    assert response["Location"] == OVERVIEW  # told to renew what they lost
    assert first.session[SESSION_KEY] == str(pia.pk)
    assert RecoveryCodeDevice.objects.get(user=pia).codes_left() == 9
    password_step(second, "pia")
    assert code_step(second, codes[0]).status_code == HTTPStatus.OK
    assert SESSION_KEY not in second.session


def test_new_recovery_codes_replace_the_old_ones(client, pia, enrolled):
    _key, old_codes = enrolled
    force_login_verified(client, pia)
    response = client.post(reverse("accounts:recovery-codes"))
    assert response["Cache-Control"] == "no-store"
    new_codes = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", response.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    client.logout()
    password_step(client, "pia")
    assert code_step(client, old_codes[1]).status_code == HTTPStatus.OK
    # (A wrong code makes the device wait a second; the test does not.)
    RecoveryCodeDevice.objects.update(throttling_failure_timestamp=None)
    assert code_step(client, new_codes[1])["Location"] == OVERVIEW


def test_the_second_step_without_the_password_goes_back_to_login(client, pia, enrolled):
    assert client.get(VERIFY)["Location"] == LOGIN
    key, _codes = enrolled
    assert code_step(client, code_for(key))["Location"] == LOGIN
    assert SESSION_KEY not in client.session


def test_the_second_step_expires(client, pia, enrolled, settings):
    key, _codes = enrolled
    password_step(client, "pia")
    session = client.session
    session[PENDING_LOGIN] = {
        **session[PENDING_LOGIN],
        "at": time.time() - settings.BOOKSHELF_TWO_FACTOR_LOGIN_SECONDS - 1,
    }
    session.save()
    assert code_step(client, code_for(key))["Location"] == LOGIN
    assert SESSION_KEY not in client.session


def test_wrong_codes_count_towards_the_password_lockout(client, pia, enrolled):
    key, _codes = enrolled
    # Two wrong passwords, then three wrong codes: five failures lock the account.
    for _ in range(2):
        client.post(LOGIN, {"username": "pia", "password": "nope"}, REMOTE_ADDR=CLIENT_IP)
    password_step(client, "pia")
    wrong = f"{(int(code_for(key)) + 500_000) % 1_000_000:06d}"

    def after_the_devices_wait(code: str):
        TOTPDevice.objects.update(throttling_failure_timestamp=None)  # (the test does not wait)
        return code_step(client, code)

    assert after_the_devices_wait(wrong).status_code == HTTPStatus.OK
    assert after_the_devices_wait(wrong).status_code == HTTPStatus.OK
    assert after_the_devices_wait(wrong).status_code == HTTPStatus.TOO_MANY_REQUESTS
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.failures_since_start) == ("pia", 5)
    # axes keeps the POST data of failures: the code is masked like the password.
    assert wrong not in attempt.post_data
    # Locked: the password is refused, and without it there is no second step.
    assert password_step(client, "pia").status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert after_the_devices_wait(code_for(key))["Location"] == LOGIN
    assert SESSION_KEY not in client.session


def test_a_throttled_authenticator_says_wait_and_does_not_count(client, pia, enrolled):
    key, _codes = enrolled
    password_step(client, "pia")
    wrong = f"{(int(code_for(key)) + 500_000) % 1_000_000:06d}"
    code_step(client, wrong)
    # Right after a failure the device waits a second before it checks again: the right
    # code is not checked, the user is told to wait, and it is no failure.
    response = code_step(client, code_for(key))
    assert "wait a few seconds" in response.text
    assert SESSION_KEY not in client.session
    assert AccessAttempt.objects.get().failures_since_start == 1
    TOTPDevice.objects.update(throttling_failure_timestamp=None)
    assert code_step(client, code_for(key))["Location"] == reverse("core:home")


def test_a_right_code_for_one_authenticator_is_no_failure_for_another(client, pia, enrolled):
    key, _codes = enrolled
    other = TOTPDevice.objects.create(user=pia, name="Old phone", confirmed=True)
    assert other.pk > TOTPDevice.objects.get(user=pia, name="Phone").pk or True
    password_step(client, "pia")
    assert code_step(client, code_for(key))["Location"] == reverse("core:home")
    other.refresh_from_db()
    assert other.throttling_failure_count == 0


@pytest.mark.parametrize("junk", ["¹²³⁴⁵⁶", "١٢٣٤٥٦", "12345６", "x" * 5000, "\x00" * 6])
def test_junk_codes_are_form_errors_not_500s(client, pia, enrolled, junk):
    client.force_login(UserFactory(username="ola"))
    client.get(ADD)
    response = client.post(ADD, {"name": "Phone", "code": junk})
    assert response.status_code == HTTPStatus.OK
    assert not TOTPDevice.objects.filter(user__username="ola").exists()
    client.logout()
    password_step(client, "pia")
    response = code_step(client, junk)
    assert response.status_code == HTTPStatus.OK
    assert SESSION_KEY not in client.session


# --- Managing factors ----------------------------------------------------------------------


def test_rename_and_remove_a_factor(client, pia, enrolled):
    force_login_verified(client, pia)
    device = TOTPDevice.objects.get(user=pia)
    client.post(reverse("accounts:authenticator-rename", args=[device.pk]), {"name": "Old phone"})
    device.refresh_from_db()
    assert device.name == "Old phone"
    response = client.post(reverse("accounts:authenticator-remove", args=[device.pk]), follow=True)
    assert "Two-factor is off" in response.text
    assert not TOTPDevice.objects.exists()
    assert not RecoveryCodeDevice.objects.exists()  # no way in with codes alone
    client.logout()
    assert password_step(client, "pia")["Location"] == reverse("core:home")


def test_another_users_factor_is_a_404(client, pia, enrolled):
    device = TOTPDevice.objects.get(user=pia)
    client.force_login(UserFactory(username="mallory"))
    for name in ("accounts:authenticator-rename", "accounts:authenticator-remove"):
        response = client.post(reverse(name, args=[device.pk]), {"name": "mine"})
        assert response.status_code == HTTPStatus.NOT_FOUND
    device.refresh_from_db()
    assert device.name == "Phone"


def test_a_user_who_must_have_a_factor_cannot_remove_the_last(client):
    admin = in_role("Admins", username="ada")
    client.force_login(admin)
    enrol(client)
    device = TOTPDevice.objects.get(user=admin)
    page = client.get(OVERVIEW).text
    assert "keeps at least one second factor" in page
    response = client.post(reverse("accounts:authenticator-remove", args=[device.pk]), follow=True)
    assert "keeps at least one second factor" in response.text
    assert TOTPDevice.objects.filter(user=admin).exists()
    # With a second one, the first may go.
    enrol(client, name="Tablet")
    client.post(reverse("accounts:authenticator-remove", args=[device.pk]))
    assert list(TOTPDevice.objects.filter(user=admin).values_list("name", flat=True)) == ["Tablet"]


# --- Privileged pages ------------------------------------------------------------------------


def roleadmin():
    return in_role("Admins", username="roleadmin")


def test_a_privileged_user_without_a_factor_is_sent_to_enrolment_and_back(client):
    client.force_login(roleadmin())
    response = client.get("/roles/?page=1")
    assert response["Location"] == f"{OVERVIEW}?next=%2Froles%2F%3Fpage%3D1"
    page = client.get(response["Location"]).text
    assert "needs a second factor" in page
    assert f'href="{ADD}?next=%2Froles%2F%3Fpage%3D1"' in page
    client.get(f"{ADD}?next=/roles/")
    key = client.session[PENDING_SECRET]
    response = client.post(ADD, {"name": "Phone", "code": code_for(key), "next": "/roles/"})
    continue_link = re.search(r'class="btn btn-primary" href="([^"]+)"', response.text).group(1)
    assert continue_link == "/roles/"
    assert client.get("/roles/").status_code == HTTPStatus.OK


def test_a_privileged_session_that_never_used_its_factor_must_log_in_again(client):
    user = roleadmin()
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    client.force_login(user)  # e.g. a session from before the factor was added elsewhere
    response = client.get("/roles/")
    assert response["Location"] == f"{LOGIN}?next=%2Froles%2F"
    assert SESSION_KEY not in client.session


def test_htmx_requests_to_privileged_pages_get_a_client_redirect(client):
    client.force_login(roleadmin())
    response = client.get("/roles/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"].startswith(OVERVIEW)


def test_ordinary_pages_stay_open_to_privileged_users_before_enrolment(client):
    client.force_login(roleadmin())
    assert client.get(reverse("bookshelf:book-list")).status_code == HTTPStatus.OK
    assert client.get(OVERVIEW).status_code == HTTPStatus.OK


def test_the_full_journey_of_a_role_admin(client):
    """Password, sent to enrolment, enrol, roles; out; password and code; roles."""
    user = roleadmin()
    password_step(client, "roleadmin")
    assert client.get("/roles/")["Location"].startswith(OVERVIEW)
    key, _codes = enrol(client)
    assert client.get("/roles/").status_code == HTTPStatus.OK
    client.post(reverse("accounts:logout"))
    assert password_step(client, "roleadmin", next_url="/roles/")["Location"] == VERIFY
    assert code_step(client, code_for(key, offset=1))["Location"] == "/roles/"
    assert client.get("/roles/").status_code == HTTPStatus.OK
    assert client.session[SESSION_KEY] == str(user.pk)


# --- Sudo mode accepts the second factor -----------------------------------------------------


CONFIRM = reverse("accounts:confirm-password")


def stale_sudo(client: Client) -> None:
    session = client.session
    session["bookshelf_authenticated_at"] = time.time() - 3600
    session.save()


def test_sudo_mode_accepts_an_authenticator_code_or_a_recovery_code(client, pia, enrolled):
    key, codes = enrolled
    force_login_verified(client, pia)
    stale_sudo(client)
    page = client.get(f"{CONFIRM}?next=/accounts/two-factor/").text
    assert "Confirm it is you" in page and 'name="code"' in page
    response = client.post(CONFIRM, {"code": code_for(key), "next": "/accounts/two-factor/"})
    assert response["Location"] == "/accounts/two-factor/"
    assert time.time() - client.session["bookshelf_authenticated_at"] < 5
    stale_sudo(client)
    response = client.post(CONFIRM, {"code": codes[3], "next": "/accounts/two-factor/"})
    assert response["Location"] == "/accounts/two-factor/"
    assert RecoveryCodeDevice.objects.get(user=pia).codes_left() == 9


def test_sudo_mode_refuses_a_wrong_or_replayed_code_and_counts_it(client, pia, enrolled):
    key, _codes = enrolled
    force_login_verified(client, pia)
    code = code_for(key)
    client.post(CONFIRM, {"code": code})
    stale_sudo(client)
    response = client.post(CONFIRM, {"code": code}, REMOTE_ADDR=CLIENT_IP)  # replayed
    assert response.status_code == HTTPStatus.OK
    assert "used already" in response.text
    assert AccessAttempt.objects.get().failures_since_start == 1
    assert time.time() - client.session["bookshelf_authenticated_at"] > 3000
    response = client.post(CONFIRM, {})
    assert "Type your password or a code." in response.text


def test_without_two_factor_sudo_mode_asks_for_the_password_only(client, pia):
    client.force_login(pia)
    page = client.get(CONFIRM).text
    assert "Confirm your password" in page and 'name="code"' not in page
    response = client.post(CONFIRM, {"code": "123456"})
    assert "This field is required." in response.text


def test_the_profile_and_the_user_menu_lead_to_two_factor(client, pia):
    client.force_login(pia)
    page = client.get(reverse("accounts:profile")).text
    assert f'href="{OVERVIEW}">Set up</a>' in page
    assert page.count(f'href="{OVERVIEW}"') == 2  # the profile's section and the user menu
    enrol(client)
    assert f'href="{OVERVIEW}">Manage factors</a>' in client.get(reverse("accounts:profile")).text


# --- Other ways in skip nothing -------------------------------------------------------------


def test_the_admins_own_login_page_sends_to_ours(client):
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response["Location"] == f"{LOGIN}?next=/admin/accounts/user/"
    # Its form, posted anyway, logs nobody in.
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    response = client.post(
        "/admin/login/", {"username": "boss", "password": DEFAULT_PASSWORD, "next": "/admin/"}
    )
    assert SESSION_KEY not in client.session
    # Signed in: staff go on to the admin, others get the 403 page (no login loop).
    force_login_verified(client, UserFactory(username="boss"))
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/admin/"
    client.force_login(UserFactory(username="reader"))
    assert client.get("/admin/login/").status_code == HTTPStatus.FORBIDDEN


def test_a_session_that_skipped_the_second_step_is_signed_out_anywhere(client, pia, enrolled):
    client.force_login(pia)  # as a login by any path but ours would leave it
    response = client.get(reverse("accounts:profile"))
    assert response["Location"] == f"{LOGIN}?next=%2Faccounts%2Fprofile%2F"
    assert SESSION_KEY not in client.session
    # So it cannot add a factor of its own, nor make recovery codes.
    client.force_login(pia)
    client.post(reverse("accounts:recovery-codes"))
    assert SESSION_KEY not in client.session
    assert RecoveryCodeDevice.objects.get(user=pia).codes_left() == 10


def test_sessions_of_users_without_a_factor_are_not_slowed_down(client, pia):
    client.force_login(pia)
    client.get(reverse("accounts:profile"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("accounts:profile"))
    assert not [q for q in queries.captured_queries if "otp_totp" in q["sql"]][1:]


def test_a_factor_removed_no_longer_vouches_for_its_sessions(client):
    user = roleadmin()
    force_login_verified(client, user)
    assert client.get("/roles/").status_code == HTTPStatus.OK
    # An administrator removes the factor (a lost phone) in the admin: recovery codes go too.
    RecoveryCodeDevice.objects.create(user=user, name="Recovery codes")
    TOTPDevice.objects.filter(user=user).delete()
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    response = client.get("/roles/")
    assert response["Location"].startswith(OVERVIEW)
    # With another factor left, the session must log in again with it.
    force_login_verified(client, user)
    TOTPDevice.objects.create(user=user, name="Spare", confirmed=True)
    TOTPDevice.objects.filter(user=user).exclude(name="Spare").delete()
    response = client.get("/roles/")
    assert response["Location"] == f"{LOGIN}?next=%2Froles%2F"
