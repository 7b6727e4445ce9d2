"""Attacks, at unit level: CSRF, stored XSS, SQL injection, open redirects."""

from __future__ import annotations

from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from apps.accounts.tests.factories import SuperuserFactory, UserFactory, force_login_verified
from apps.bookshelf.models import Book
from apps.bookshelf.tests.factories import BookFactory, PublishedBookFactory

from .test_url_access import ACCESS, url_for

pytestmark = pytest.mark.django_db

# --- CSRF -------------------------------------------------------------------------------------

# Browsers post CSP reports without cookies or tokens; it only writes to the log.
CSRF_EXEMPT = {"core:csp-report"}
STATE_CHANGING = sorted(
    name
    for name, rule in ACCESS.items()
    if ("post" in rule.methods or rule.post_only) and not name.endswith(":*")
)


def test_the_csrf_walk_covers_every_state_changing_url():
    # Found from the access table, which itself must cover every URL pattern.
    assert len(STATE_CHANGING) >= 25
    assert "bookshelf:book-publish" in STATE_CHANGING
    assert "roles:group-permission-toggle" in STATE_CHANGING


@pytest.mark.parametrize("name", STATE_CHANGING)
def test_posts_without_a_csrf_token_are_refused(name):
    client = Client(enforce_csrf_checks=True)
    force_login_verified(client, SuperuserFactory(username="boss"))
    url = url_for(name)
    response = client.post(url, {"title": "x", "name": "x"})
    if name in CSRF_EXEMPT:
        assert response.status_code == HTTPStatus.BAD_REQUEST  # not a report, but no CSRF check
    else:
        assert response.status_code == HTTPStatus.FORBIDDEN, name
        assert "This form has expired" in response.content.decode()
    # With htmx too: refused, as a toast.
    response = client.post(url, HTTP_HX_REQUEST="true")
    if name not in CSRF_EXEMPT:
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert response["HX-Retarget"] == "#toasts"


def test_nothing_changed_after_the_refused_posts():
    book = PublishedBookFactory()
    client = Client(enforce_csrf_checks=True)
    force_login_verified(client, SuperuserFactory(username="boss"))
    client.post(reverse("bookshelf:book-delete", args=[book.pk]))
    client.post(reverse("bookshelf:book-unpublish", args=[book.pk]))
    book.refresh_from_db()
    assert book.is_published


# --- Stored XSS --------------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "</textarea><script>alert(1)</script>",
    "' onmouseover='alert(1)",
    "{{ request }}{% debug %}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_text_comes_back_escaped_everywhere(client, payload):
    boss = SuperuserFactory(username="boss", first_name=payload, last_name=payload)
    force_login_verified(client, boss)
    book = BookFactory(
        title=payload,
        author=payload,
        description=payload,
        is_published=True,
        published_at="2024-01-01T00:00:00Z",
    )
    group = Group.objects.create(name=payload[:150])
    member = UserFactory(username="victim", first_name=payload)
    member.groups.add(group)
    client.post(reverse("roles:group-rename", args=[group.pk]), {"name": payload[:140] + "!"})
    pages = [
        "/",
        reverse("bookshelf:book-list"),
        reverse("bookshelf:book-list") + "?q=" + payload,
        book.get_absolute_url(),
        reverse("bookshelf:book-update", args=[book.pk]),
        reverse("bookshelf:book-delete", args=[book.pk]),
        reverse("roles:group-list"),
        reverse("roles:group-detail", args=[group.pk]),
        reverse("roles:group-detail", args=[group.pk]) + "?q=vic",
        reverse("roles:user-list"),
        reverse("roles:user-detail", args=[member.pk]),
        reverse("roles:audit"),
        reverse("accounts:profile"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        html = response.content.decode()
        # Payloads without markup characters ("javascript:…") are harmless as text.
        if any(char in payload for char in "<>\"'"):
            assert payload not in html, url
        assert "<script>alert" not in html, url
        assert "<svg/onload" not in html, url
        # No element gained an event handler attribute from the data.
        assert event_handler_attributes(html) == [], url
    # Rows come back through htmx partials too.
    response = client.get(book.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert "<script>alert" not in response.content.decode()


class AttributeCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.handlers += [f"{tag}[{name}]" for name, _value in attrs if name.startswith("on")]


def event_handler_attributes(html: str) -> list[str]:
    """on*= attributes as a browser would parse them (none exist in our templates)."""
    collector = AttributeCollector()
    collector.feed(html)
    return collector.handlers


# --- SQL injection ------------------------------------------------------------------------------

SQLI = [
    "' OR '1'='1",
    "'; DROP TABLE bookshelf_book; --",
    '" OR ""="',
    "1) OR (1=1",
    "%' OR 1=1 --",
    "\\'; SELECT pg_sleep(1); --",
    "title); DELETE FROM auth_user; --",
]


@pytest.mark.parametrize("payload", SQLI)
def test_injection_in_searches_and_filters_is_just_text(client, payload):
    boss = SuperuserFactory(username="boss")
    force_login_verified(client, boss)
    BookFactory.create_batch(3)
    UserFactory.create_batch(2)
    viewers = Group.objects.get(name="Viewers")
    targets = [
        (reverse("bookshelf:book-list"), {"q": payload}, "No books match"),
        (
            reverse("bookshelf:book-list"),
            {"status": payload, "sort": payload, "page": payload},
            "Showing 1–3 of 3",
        ),
        (reverse("roles:user-list"), {"q": payload}, "Nobody matches"),
        (reverse("roles:audit"), {"actor": payload, "group": payload}, "No changes match"),
        (reverse("roles:audit"), {"since": payload}, "Enter a valid date."),
        (
            reverse("roles:member-search", args=[viewers.pk]),
            {"q": payload},
            "Nobody without this role matches",
        ),
    ]
    for url, params, expected in targets:
        response = client.get(url, params)
        assert response.status_code == HTTPStatus.OK, (url, params)
        assert expected in response.content.decode(), (url, params)
    assert Book.objects.count() == 3
    assert Group.objects.filter(name="Viewers").exists()


# --- Open redirects -----------------------------------------------------------------------------

OFF_SITE = ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_ignores_an_off_site_next(client, target):
    UserFactory(username="reader")
    response = client.post(
        reverse("accounts:login"),
        {"username": "reader", "password": "correct-horse-battery", "next": target},
    )
    assert response["Location"] == reverse("core:home")


@pytest.mark.parametrize("target", OFF_SITE)
def test_logout_ignores_an_off_site_next(client, member, target):
    force_login_verified(client, member)
    response = client.post(reverse("accounts:logout"), {"next": target})
    assert response["Location"] == reverse("accounts:login")


@pytest.mark.parametrize("target", OFF_SITE)
def test_book_actions_ignore_an_off_site_next(client, target):
    force_login_verified(client, SuperuserFactory(username="boss"))
    book = BookFactory()
    response = client.post(reverse("bookshelf:book-publish", args=[book.pk]), {"next": target})
    assert response["Location"] == book.get_absolute_url()
