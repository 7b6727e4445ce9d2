"""Session expiry: the idle limit, "Stay signed in", and the way back after an expiry."""

from __future__ import annotations

import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from qsessions.models import Session

from apps.bookshelf.tests.factories import BookFactory
from apps.core.security import LAST_SEEN_AT, SESSION_STARTED_AT
from apps.core.tests.support import htmx

from .factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("accounts:login")
KEEP_ALIVE_URL = reverse("accounts:keep-alive")
PROFILE_URL = reverse("accounts:profile")
HTMX = htmx("/books/?q=dune")
EXPIRED = "Your session expired; sign in again to continue."
NOT_SAVED = "Your last change was not saved."


def log_in(client, user, next_url=""):
    """Through the login form, as a browser does (force_login skips the middleware)."""
    data = {"username": user.username, "password": DEFAULT_PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(LOGIN_URL, data)
    assert response.status_code == HTTPStatus.FOUND
    return response


def session_row(client, settings) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def let_the_session_expire(client, settings):
    """What the idle limit does when no request comes: the server forgets the session (the
    browser drops its cookie too; a test client keeps sending it, which changes nothing)."""
    row = session_row(client, settings)
    row.expire_date = timezone.now() - timedelta(seconds=1)
    row.save()


def age_session(client, **seconds_ago):
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


# --- The idle limit ----------------------------------------------------------------------


def test_the_session_ends_after_the_idle_limit_of_the_setting(client, settings, member):
    settings.SESSION_COOKIE_AGE = 300
    log_in(client, member)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == 300
    left = session_row(client, settings).expire_date - timezone.now()
    assert timedelta(seconds=290) < left <= timedelta(seconds=300)
    assert client.get(PROFILE_URL).status_code == HTTPStatus.OK

    let_the_session_expire(client, settings)
    response = client.get(PROFILE_URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{LOGIN_URL}?next={PROFILE_URL}"
    assert SESSION_KEY not in client.session


def test_signed_in_pages_say_how_long_the_session_has_left(client, settings, member):
    settings.SESSION_COOKIE_AGE = 600
    settings.SESSION_WARNING_SECONDS = 90
    log_in(client, member)
    age_session(client, **{LAST_SEEN_AT: 50})  # a request within the minute saves nothing
    response = client.get(PROFILE_URL)
    left = int(response["X-Session-Expires-In"])
    assert 545 <= left <= 550
    assert f'<meta name="session-expires-in" content="{left}" data-warn-seconds="90"' in (
        response.text
    )
    assert f'data-user="{member.pk}" data-keep-alive-url="{KEEP_ALIVE_URL}"' in response.text
    assert 'src="/static/js/session.js"' in response.text


def test_the_time_left_stops_at_the_absolute_lifetime(client, settings, member):
    settings.SESSION_COOKIE_AGE = 600
    settings.SESSION_ABSOLUTE_LIFETIME = 1000
    log_in(client, member)
    age_session(client, **{SESSION_STARTED_AT: 800})
    left = int(client.get(PROFILE_URL)["X-Session-Expires-In"])
    assert 195 <= left <= 200


def test_a_write_to_the_session_restarts_the_count(client, settings, member):
    """Messages live in the session: saving one pushes the expiry back, and the header
    must say so, or the page would warn about an end that is not coming."""
    settings.SESSION_COOKIE_AGE = 600
    log_in(client, member)
    age_session(client, **{LAST_SEEN_AT: 30})
    response = client.post(
        PROFILE_URL, {"first_name": "Max", "last_name": "M", "email": member.email}
    )
    assert response.status_code == HTTPStatus.FOUND  # "Your profile was saved." is stored
    assert int(response["X-Session-Expires-In"]) >= 598
    assert client.session[LAST_SEEN_AT] > time.time() - 5


def test_anonymous_pages_carry_no_session_timer(client):
    response = client.get(LOGIN_URL)
    assert "X-Session-Expires-In" not in response
    assert 'name="session-expires-in"' not in response.text


# --- Stay signed in ----------------------------------------------------------------------


def test_stay_signed_in_renews_the_idle_limit(client, settings, member):
    settings.SESSION_COOKIE_AGE = 600
    log_in(client, member)
    age_session(client, **{LAST_SEEN_AT: 550})  # the warning would be showing
    row = session_row(client, settings)
    row.expire_date = timezone.now() + timedelta(seconds=50)
    row.save()

    response = client.post(KEEP_ALIVE_URL, **HTMX)
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert int(response["X-Session-Expires-In"]) >= 598
    assert session_row(client, settings).expire_date - timezone.now() > timedelta(seconds=590)
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 600


def test_stay_signed_in_cannot_pass_the_absolute_lifetime(client, settings, member):
    settings.SESSION_COOKIE_AGE = 600
    settings.SESSION_ABSOLUTE_LIFETIME = 1000
    log_in(client, member)
    age_session(client, **{SESSION_STARTED_AT: 950})
    response = client.post(KEEP_ALIVE_URL, **HTMX)
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert int(response["X-Session-Expires-In"]) <= 50


def test_stay_signed_in_without_htmx_goes_back_to_the_page(client, member):
    log_in(client, member)
    response = client.post(KEEP_ALIVE_URL, {"next": "/books/?q=dune"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/books/?q=dune"
    response = client.post(KEEP_ALIVE_URL, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("core:home")


def test_stay_signed_in_needs_the_csrf_token(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(KEEP_ALIVE_URL, **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_stay_signed_in_only_takes_post(client, member):
    client.force_login(member)
    assert client.get(KEEP_ALIVE_URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_stay_signed_in_cannot_bring_an_expired_session_back(client, settings, member):
    log_in(client, member)
    let_the_session_expire(client, settings)
    response = client.post(KEEP_ALIVE_URL, **HTMX)
    assert response["HX-Redirect"] == f"{LOGIN_URL}?next=/books/%3Fq%3Ddune"
    assert "X-Session-Expires-In" not in response
    response = client.post(KEEP_ALIVE_URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(LOGIN_URL)
    assert SESSION_KEY not in client.session


# --- After an expiry ---------------------------------------------------------------------


def test_the_login_page_says_the_session_expired(client, settings, member):
    log_in(client, member)
    let_the_session_expire(client, settings)
    response = client.get(PROFILE_URL, follow=True)
    assert EXPIRED in response.text
    assert NOT_SAVED not in response.text
    assert f'name="next" value="{PROFILE_URL}"' in response.text


def test_a_first_visit_and_a_logout_say_nothing_about_expiry(client, member):
    assert EXPIRED not in client.get(LOGIN_URL).text
    log_in(client, member)
    response = client.post(reverse("accounts:logout"), follow=True)
    assert response.redirect_chain[-1][0] == LOGIN_URL
    assert EXPIRED not in response.text
    assert EXPIRED not in client.get(LOGIN_URL).text


def test_signing_in_again_returns_to_where_the_user_was(client, settings, member):
    page = "/roles/?q=ed"
    log_in(client, member)
    let_the_session_expire(client, settings)
    login_page = client.get(page)["Location"]
    assert login_page == f"{LOGIN_URL}?next=/roles/%3Fq%3Ded"
    assert EXPIRED in client.get(login_page).text
    response = log_in(client, member, next_url=page)
    assert response["Location"] == page


def test_an_htmx_save_after_expiry_goes_to_login_and_back_to_the_browser_page(
    client, settings, editor
):
    book = BookFactory(title="Emma")
    log_in(client, editor)
    let_the_session_expire(client, settings)
    response = client.post(
        reverse("bookshelf:book-update", args=[book.pk]),
        {"title": "Emma (typed)", "author": "Jane Austen", "version": book.version},
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    # The browser's page, not the URL of the fragment that was posted to.
    assert response["HX-Redirect"] == f"{LOGIN_URL}?next=/books/%3Fq%3Ddune"
    book.refresh_from_db()
    assert book.title == "Emma"

    page = client.get(response["HX-Redirect"]).text
    assert EXPIRED in page
    assert NOT_SAVED in page  # said, not silently dropped
    assert "data-draft-note hidden" in page  # session.js shows it when it kept the text

    response = log_in(client, editor, next_url="/books/?q=dune")
    assert response["Location"] == "/books/?q=dune"
    assert response.cookies["sessionid-signed-in"].value == "1"  # nothing lost any more


def test_a_plain_post_after_expiry_returns_to_the_page_of_the_form(client, settings, editor):
    book = BookFactory(title="Emma")
    publish = reverse("bookshelf:book-publish", args=[book.pk])
    log_in(client, editor)
    let_the_session_expire(client, settings)

    response = client.post(publish, {"next": "/books/?q=emma"})
    assert response["Location"] == f"{LOGIN_URL}?next=/books/%3Fq%3Demma"
    assert NOT_SAVED in client.get(response["Location"]).text

    response = client.post(publish, HTTP_REFERER="http://testserver/books/?page=2")
    assert response["Location"] == f"{LOGIN_URL}?next=/books/%3Fpage%3D2"
    response = client.post(
        publish, {"next": "https://evil.example/"}, HTTP_REFERER="https://evil.example/"
    )
    assert response["Location"] == f"{LOGIN_URL}?next={publish}"


def test_a_failed_login_after_expiry_is_not_a_lost_change(client, settings, member):
    log_in(client, member)
    let_the_session_expire(client, settings)
    response = client.post(LOGIN_URL, {"username": member.username, "password": "wrong"})
    assert response.status_code == HTTPStatus.OK
    assert EXPIRED in response.text
    assert NOT_SAVED not in response.text


def test_the_end_of_the_absolute_lifetime_is_an_expiry_too(client, settings, member):
    log_in(client, member)
    age_session(client, **{SESSION_STARTED_AT: settings.SESSION_ABSOLUTE_LIFETIME + 1})
    response = client.get(PROFILE_URL, follow=True)
    assert response.redirect_chain[-1][0] == f"{LOGIN_URL}?next={PROFILE_URL}"
    assert EXPIRED in response.text


def test_the_signed_in_cookie_is_httponly_and_lasts_as_long_as_the_browser(client, member):
    response = log_in(client, member)
    cookie = response.cookies["sessionid-signed-in"]
    assert cookie.value == "1"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["max-age"]
    assert not cookie["expires"]


def test_the_signed_in_cookie_shares_the_host_prefix_of_the_session_cookie(
    client, settings, member
):
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.SESSION_COOKIE_SECURE = True
    response = log_in(client, member)
    cookie = response.cookies["__Host-sessionid-signed-in"]
    assert cookie["secure"]
    assert cookie["path"] == "/"
