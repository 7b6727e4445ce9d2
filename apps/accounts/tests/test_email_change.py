"""E-mail change confirmed by a link: the profile asks, the new address confirms (issue 14)."""

from __future__ import annotations

import re
import time
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from apps.accounts import email_change
from apps.accounts.email_change import EMAIL_CHANGE_MAX_AGE
from apps.core.security import AUTHENTICATED_AT

from .factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROFILE_URL = reverse("accounts:profile")
LINK = re.compile(r"http://testserver(/accounts/email/confirm/[^/\s]+/)")


def profile_data(user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_of_birth": "",
        "email_notifications": "on",
    }
    data.update(changes)
    return data


def ask_for(client, user, new_email, **extra):
    """Ask for ``new_email`` on the profile; the path of the link mailed to it."""
    response = client.post(PROFILE_URL, profile_data(user, email=new_email, **extra))
    assert response.status_code == HTTPStatus.FOUND, response.text
    mailed = [message for message in email_outbox() if message.to == [new_email]]
    assert len(mailed) == 1
    return LINK.search(mailed[0].body).group(1)


def email_outbox():
    from django.core import mail

    return mail.outbox


def address_of(user) -> str:
    user.refresh_from_db()
    return user.email


class Clock:
    """Stands in for the ``time`` module inside django.core.signing: ``offset`` seconds
    ahead, so a link is judged as if it were opened later (nothing else moves)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def reader(client):
    user = UserFactory(username="reader", email="reader@example.org", first_name="Rea")
    client.force_login(user)
    return user


# --- Asking on the profile ------------------------------------------------------------------


def test_the_address_stays_until_the_link_is_confirmed_and_the_rest_is_saved(
    client, reader, mailoutbox
):
    ask_for(client, reader, "ada@example.net", first_name="Ada")
    reader.refresh_from_db()
    assert reader.email == "reader@example.org"
    assert reader.first_name == "Ada"
    page = client.get(PROFILE_URL).text
    assert (
        "Your profile was saved. We sent a link to ada@example.net: your address changes "
        "when you open it."
    ) in page
    assert 'value="reader@example.org"' in page
    assert "Waiting for confirmation: ada@example.net." in page


def test_the_new_address_gets_the_link_and_the_old_one_a_notice_without_it(
    client, reader, mailoutbox
):
    path = ask_for(client, reader, "ada@example.net")
    notice, link = mailoutbox
    assert link.to == ["ada@example.net"]
    assert link.subject == "Confirm your new Bookshelf email address"
    assert f"http://testserver{path}" in link.body
    assert 'the Bookshelf account "reader"' in link.body
    assert "The link works for 24 hours." in link.body
    assert notice.to == ["reader@example.org"]
    assert notice.subject == "Your Bookshelf email address is about to change"
    assert "to a***@example.net." in notice.body
    assert "ada@example.net" not in notice.body
    assert path not in notice.body  # the old mailbox cannot confirm the change
    assert "http://testserver/accounts/password/reset/" in notice.body


def test_an_unchanged_address_sends_nothing(client, reader, mailoutbox):
    client.post(PROFILE_URL, profile_data(reader, first_name="Ada"))
    assert mailoutbox == []
    assert "Waiting for confirmation" not in client.get(PROFILE_URL).text


def test_a_stale_password_must_be_typed_before_any_link_is_sent(client, reader, mailoutbox):
    session = client.session
    session[AUTHENTICATED_AT] = time.time() - 16 * 60
    session.save()
    data = profile_data(reader, email="ada@example.net")
    response = client.post(PROFILE_URL, {**data, "current_password": "wrong"})
    assert response.status_code == HTTPStatus.OK
    assert "That is not your password." in response.text
    assert mailoutbox == []
    ask_for(client, reader, "ada@example.net", current_password=DEFAULT_PASSWORD)
    assert address_of(reader) == "reader@example.org"


def test_an_address_of_another_account_is_refused_at_once(client, reader, mailoutbox):
    UserFactory(username="other", email="taken@example.net")
    response = client.post(PROFILE_URL, profile_data(reader, email="TAKEN@example.net"))
    assert response.status_code == HTTPStatus.OK
    assert "A user with that email address already exists." in response.text
    assert mailoutbox == []


def test_a_mail_server_that_fails_leaves_a_message_and_the_address(client, reader, settings):
    # A real SMTP connection to a port nobody listens on: refused at once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 1, False
    settings.EMAIL_TIMEOUT = 5
    response = client.post(PROFILE_URL, profile_data(reader, email="ada@example.net"), follow=True)
    assert "We could not send the link to ada@example.net" in response.text
    assert "Waiting for confirmation" not in response.text
    assert address_of(reader) == "reader@example.org"


# --- Opening the link ------------------------------------------------------------------------


def test_the_link_shows_the_change_and_only_its_post_makes_it(client, reader, mailoutbox, caplog):
    path = ask_for(client, reader, "ada@example.net")
    page = client.get(path)
    assert page.status_code == HTTPStatus.OK
    assert "ada@example.net" in page.text
    assert "Confirm new address" in page.text
    assert f'<form method="post" action="{path}">' in page.text
    assert address_of(reader) == "reader@example.org"  # a GET changes nothing

    response = client.post(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == PROFILE_URL
    assert address_of(reader) == "ada@example.net"
    profile = client.get(PROFILE_URL).text
    assert "Your email address is now ada@example.net." in profile
    assert "Waiting for confirmation" not in profile
    changed = [r.security for r in caplog.records if r.getMessage() == "email_changed"]
    assert changed == [
        {
            "event": "email_changed",
            "user": "reader",
            "ip": "127.0.0.1",
            "path": path,
            "old_email": "reader@example.org",
            "new_email": "ada@example.net",
        }
    ]


def test_the_link_works_once(client, reader, mailoutbox):
    path = ask_for(client, reader, "ada@example.net")
    client.post(path)
    for response in (client.get(path), client.post(path)):
        assert response.status_code == HTTPStatus.OK
        assert "This link no longer works: it was used already" in response.text
        assert "Confirm new address" not in response.text
    assert address_of(reader) == "ada@example.net"


def test_confirming_one_link_ends_the_others(client, reader, mailoutbox):
    first = ask_for(client, reader, "ada@example.net")
    second = ask_for(client, reader, "bea@example.net")
    client.post(second)
    response = client.post(first)
    assert "This link no longer works" in response.text
    assert address_of(reader) == "bea@example.net"


def test_a_password_change_cancels_the_link(client, reader, mailoutbox):
    path = ask_for(client, reader, "ada@example.net")
    reader.set_password("a-brand-new-passphrase")
    reader.save()
    client.force_login(reader)  # the change signed this session out
    response = client.post(path)
    assert "This link no longer works" in response.text
    assert address_of(reader) == "reader@example.org"


def test_the_link_works_until_its_max_age_and_not_after(client, reader, mailoutbox, monkeypatch):
    path = ask_for(client, reader, "ada@example.net")
    age = EMAIL_CHANGE_MAX_AGE.total_seconds()
    monkeypatch.setattr(signing, "time", Clock(age + 60))
    response = client.post(path)
    assert response.status_code == HTTPStatus.OK
    assert "This link does not work: it has expired" in response.text
    assert address_of(reader) == "reader@example.org"

    monkeypatch.setattr(signing, "time", Clock(age - 60))
    assert "Confirm new address" in client.get(path).text
    client.post(path)
    assert address_of(reader) == "ada@example.net"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature
        lambda token: token.split(":")[0],  # cut short
        lambda token: signing.dumps({"user": 1, "email": "x@example.net", "state": "x"}),
        lambda token: signing.dumps(["not", "a", "change"], salt=email_change.SALT),
    ],
    ids=["bad signature", "cut short", "another salt", "another shape"],
)
def test_a_mangled_or_forged_link_is_refused_with_a_sentence(client, reader, mailoutbox, mangle):
    path = ask_for(client, reader, "ada@example.net")
    token = path.split("/")[-2]
    url = reverse("accounts:email-confirm", kwargs={"token": mangle(token)})
    for response in (client.get(url), client.post(url)):
        assert response.status_code == HTTPStatus.OK
        assert "This link does not work" in response.text
    assert address_of(reader) == "reader@example.org"


def test_someone_elses_link_is_refused_and_shows_nothing_of_theirs(client, reader, mailoutbox):
    path = ask_for(client, reader, "ada@example.net")
    intruder = Client()
    intruder.force_login(UserFactory(username="intruder"))
    for response in (intruder.get(path), intruder.post(path)):
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "This link was sent for another account." in response.text
        assert "ada@example.net" not in response.text
        assert "reader@example.org" not in response.text
    assert address_of(reader) == "reader@example.org"


def test_an_address_taken_since_the_request_is_refused_at_confirmation(client, reader, mailoutbox):
    path = ask_for(client, reader, "ada@example.net")
    UserFactory(username="ada", email="ADA@example.net")
    assert "is now the address of another account" in client.get(path).text
    response = client.post(path)
    assert response.status_code == HTTPStatus.OK
    assert "ada@example.net is now the address of another account" in response.text
    assert address_of(reader) == "reader@example.org"


def test_an_address_taken_between_the_check_and_the_write_is_refused_too(
    client, reader, mailoutbox, monkeypatch
):
    # The race the database constraint decides: the check let it through, the write fails.
    path = ask_for(client, reader, "ada@example.net")
    UserFactory(username="ada", email="Ada@example.net")
    monkeypatch.setattr(email_change, "why_cannot_confirm", lambda user, change: "")
    response = client.post(path)
    assert response.status_code == HTTPStatus.OK
    assert "ada@example.net is now the address of another account" in response.text
    assert address_of(reader) == "reader@example.org"


def test_a_signed_out_visitor_logs_in_and_comes_back_to_the_link(client, reader, mailoutbox):
    path = ask_for(client, reader, "ada@example.net")
    client.logout()
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    login_url = reverse("accounts:login")
    assert response["Location"] == f"{login_url}?{urlencode({'next': path}, safe='/')}"
    response = client.post(
        f"{login_url}?next={path}",
        {"username": "reader", "password": DEFAULT_PASSWORD, "next": path},
    )
    assert response["Location"] == path
    # Logging in did not spoil the link.
    assert "Confirm new address" in client.get(path).text
    client.post(path)
    assert address_of(reader) == "ada@example.net"


def test_confirming_needs_the_csrf_token(reader, mailoutbox):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reader)
    page = browser.get(PROFILE_URL)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    path = ask_for(browser, reader, "ada@example.net", csrfmiddlewaretoken=token)
    assert browser.post(path).status_code == HTTPStatus.FORBIDDEN
    assert address_of(reader) == "reader@example.org"
    assert browser.post(path, {"csrfmiddlewaretoken": token}).status_code == HTTPStatus.FOUND
    assert address_of(reader) == "ada@example.net"


def test_the_pending_line_escapes_the_address(client, reader, mailoutbox):
    # A quoted local part may hold markup; crispy marks help texts safe.
    odd = '"<b>odd</b>"@example.net'
    ask_for(client, reader, odd)
    page = client.get(PROFILE_URL).text
    assert "<b>odd</b>" not in page
    assert "&lt;b&gt;odd&lt;/b&gt;" in page
