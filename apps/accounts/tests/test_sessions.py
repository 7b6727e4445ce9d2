"""The sessions page (/accounts/sessions/) and the ways sessions end."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from qsessions.models import Session

from apps.accounts.sessions import public_id
from apps.core.tests.support import toasts

from .factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SESSIONS_URL = reverse("accounts:sessions")
PROFILE_URL = reverse("accounts:profile")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def browser(user, user_agent: str, ip: str = "127.0.0.1") -> Client:
    """A browser signed in as ``user`` through the login form."""
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == HTTPStatus.FOUND, response.text
    return client


def signed_in(client: Client) -> bool:
    return client.get(PROFILE_URL).status_code == HTTPStatus.OK


@pytest.fixture
def pia():
    return UserFactory(username="pia")


def test_the_page_lists_each_session_with_its_browser_and_ip_this_one_marked(pia):
    laptop = browser(pia, FIREFOX, "192.0.2.10")
    browser(pia, IPHONE, "198.51.100.7")
    browser(UserFactory(), FIREFOX, "203.0.113.99")  # someone else's: not listed
    page = laptop.get(SESSIONS_URL).text
    rows = re.findall(r'<tr id="session-[0-9a-f]{32}">(.*?)</tr>', page, re.S)
    assert len(rows) == 2
    current = next(row for row in rows if "This session" in row)
    assert "Linux / Firefox 133.0" in current and "192.0.2.10" in current
    assert "Other" not in current  # qsessions' word for a device it cannot name: left out
    other = next(row for row in rows if "This session" not in row)
    assert "iPhone" in other and "Mobile Safari 18.0" in other and "198.51.100.7" in other
    assert "Sign out" in other and "Sign out" not in current.replace("Sign out everywhere", "")
    assert "203.0.113.99" not in page
    # A session's key is the session: pages name it by a keyed hash, never by the key.
    for key in Session.objects.values_list("session_key", flat=True):
        assert key not in page


def test_signing_out_another_session_ends_it_at_once(pia):
    laptop, phone = browser(pia, FIREFOX), browser(pia, IPHONE)
    phone_session = Session.objects.get(user=pia, user_agent=IPHONE)
    response = laptop.post(reverse("accounts:session-end", args=[public_id(phone_session)]))
    assert response["Location"] == SESSIONS_URL
    assert "That session is signed out." in laptop.get(SESSIONS_URL).text
    assert not signed_in(phone)
    assert signed_in(laptop)


def test_under_htmx_the_row_goes_and_a_toast_says_so(pia):
    laptop = browser(pia, FIREFOX)
    browser(pia, IPHONE)
    browser(pia, IPHONE, "198.51.100.8")
    phone_session, tablet_session = Session.objects.filter(user=pia, user_agent=IPHONE)
    response = laptop.post(
        reverse("accounts:session-end", args=[public_id(phone_session)]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == HTTPStatus.OK
    assert response.text == ""  # the row is swapped for nothing
    assert [m["message"] for m in toasts(response)] == ["That session is signed out."]
    assert not Session.objects.filter(pk=phone_session.pk).exists()
    # The last other one: "Sign out everywhere else" goes too (an out-of-band delete).
    response = laptop.post(
        reverse("accounts:session-end", args=[public_id(tablet_session)]), HTTP_HX_REQUEST="true"
    )
    assert response.text == '<div id="sessions-end-others" hx-swap-oob="delete"></div>'


def test_nobody_ends_someone_elses_session_nor_the_one_in_use_from_the_list(pia):
    laptop = browser(pia, FIREFOX)
    ola = UserFactory(username="ola")
    ola_browser = browser(ola, IPHONE)
    ola_session = Session.objects.get(user=ola)
    response = laptop.post(reverse("accounts:session-end", args=[public_id(ola_session)]))
    assert response["Location"] == SESSIONS_URL
    assert "This session has already ended." in laptop.get(SESSIONS_URL).text
    assert signed_in(ola_browser)

    own = Session.objects.get(user=pia)
    laptop.post(reverse("accounts:session-end", args=[public_id(own)]))
    assert "“Log out” ends it." in laptop.get(SESSIONS_URL).text
    assert signed_in(laptop)


def test_sign_out_everywhere_else_keeps_this_one(pia):
    laptop, phone, tablet = browser(pia, FIREFOX), browser(pia, IPHONE), browser(pia, IPHONE)
    response = laptop.post(reverse("accounts:sessions-end-others"))
    assert response["Location"] == SESSIONS_URL
    assert "Signed out of 2 other sessions." in laptop.get(SESSIONS_URL).text
    assert (signed_in(laptop), signed_in(phone), signed_in(tablet)) == (True, False, False)
    laptop.post(reverse("accounts:sessions-end-others"))
    assert "You were not signed in anywhere else." in laptop.get(SESSIONS_URL).text


def test_the_page_and_its_actions_need_a_signed_in_user_and_a_post(client, pia):
    assert client.get(SESSIONS_URL)["Location"].startswith(reverse("accounts:login"))
    laptop = browser(pia, FIREFOX)
    url = reverse("accounts:sessions-end-others")
    assert laptop.get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(pia)
    assert csrf_checked.post(url).status_code == HTTPStatus.FORBIDDEN


def test_a_deactivated_user_is_signed_out_everywhere_at_once(pia):
    laptop, phone = browser(pia, FIREFOX), browser(pia, IPHONE)
    pia.is_active = False
    pia.save()
    assert not Session.objects.filter(user=pia).exists()
    assert (signed_in(laptop), signed_in(phone)) == (False, False)


def test_a_password_change_ends_the_other_sessions_and_their_rows(pia):
    laptop, phone = browser(pia, FIREFOX), browser(pia, IPHONE)
    response = laptop.post(
        reverse("accounts:password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-much-better-passphrase",
            "new_password2": "a-much-better-passphrase",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert list(Session.objects.filter(user=pia).values_list("user_agent", flat=True)) == [FIREFOX]
    assert (signed_in(laptop), signed_in(phone)) == (True, False)


def test_a_password_reset_ends_every_session(client, pia):
    phone = browser(pia, IPHONE)
    client.post(reverse("accounts:password_reset"), {"email": pia.email})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[-1].body)
    response = client.get(link.group(1), follow=True)
    client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert not Session.objects.filter(user=pia).exists()
    assert not signed_in(phone)


@override_settings(BEHIND_TLS_PROXY=True)
def test_behind_the_tls_proxy_the_ip_is_the_one_the_proxy_saw(pia):
    client = Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="192.0.2.44")
    client.post(reverse("accounts:login"), {"username": "pia", "password": DEFAULT_PASSWORD})
    assert Session.objects.get(user=pia).ip == "192.0.2.44"


def test_a_new_address_is_recorded_at_once_and_an_unchanged_one_writes_nothing(pia):
    laptop = browser(pia, FIREFOX, "192.0.2.10")
    laptop.get(SESSIONS_URL)
    before = Session.objects.get(user=pia).updated_at
    laptop.get(SESSIONS_URL)
    assert Session.objects.get(user=pia).updated_at == before  # nothing changed: not saved
    laptop.defaults["REMOTE_ADDR"] = "198.51.100.20"
    laptop.get(SESSIONS_URL)
    assert Session.objects.get(user=pia).ip == "198.51.100.20"


def test_the_admin_shows_no_session_keys(client):
    from apps.accounts.tests.factories import SuperuserFactory, force_login_verified

    force_login_verified(client, SuperuserFactory())
    assert client.get("/admin/qsessions/session/").status_code == HTTPStatus.NOT_FOUND
    assert "qsessions" not in client.get("/admin/").text


def test_a_password_reset_from_a_signed_in_browser_signs_it_out_cleanly(pia):
    laptop, phone = browser(pia, FIREFOX), browser(pia, IPHONE)
    laptop.post(reverse("accounts:password_reset"), {"email": pia.email})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[-1].body)
    response = laptop.get(link.group(1), follow=True)
    response = laptop.post(
        response.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")  # not a 400
    assert not Session.objects.filter(user=pia).exists()
    assert (signed_in(laptop), signed_in(phone)) == (False, False)


@override_settings(SESSION_ENGINE="apps.accounts.session_engines.cached_db")
def test_with_sessions_read_through_the_cache_an_ended_one_stays_ended(
    pia, django_capture_on_commit_callbacks
):
    laptop, phone = browser(pia, FIREFOX), browser(pia, IPHONE)
    assert signed_in(phone)  # now in the cache too
    phone_session = Session.objects.get(user=pia, user_agent=IPHONE)
    with django_capture_on_commit_callbacks(execute=True):
        laptop.post(reverse("accounts:session-end", args=[public_id(phone_session)]))
    assert not signed_in(phone)


def test_a_new_user_or_loaddata_does_not_reach_for_sessions(django_assert_num_queries):
    from apps.accounts.models import User

    with django_assert_num_queries(1):  # the INSERT only
        User.objects.create(username="new", email="new@example.org", is_active=False)


def test_an_admin_who_deactivates_their_own_account_lands_on_the_login_page(client):
    from apps.accounts.tests.factories import SuperuserFactory, force_login_verified

    boss = SuperuserFactory(username="boss")
    force_login_verified(client, boss)
    url = reverse("admin:accounts_user_change", args=[boss.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in {"password", "groups", "user_permissions"}
    }
    data.update(
        is_active="",
        is_staff="on",
        is_superuser="on",
        date_joined_0=boss.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=boss.date_joined.strftime("%H:%M:%S"),
        last_login_0="",
        last_login_1="",
    )
    data.pop("is_active")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("profile_photo", None)
    data.pop("date_of_birth", None)
    response = client.post(url, data)
    boss.refresh_from_db()
    assert not boss.is_active, response.context["adminform"].form.errors if response.context else ""
    assert response.status_code == HTTPStatus.FOUND  # not Django's 400
    assert response["Location"] == reverse("accounts:login")
    assert not Session.objects.filter(user=boss).exists()
