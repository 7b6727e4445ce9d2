"""No 5xx on junk input, proven the way deny-by-default is: every URL of the project (the rows
of ``test_url_access.ACCESS``, which a new view cannot avoid, plus each model of the admin),
as a superuser, a role admin and a member, GET and POST, plain and htmx, with junk in every
field the view reads.

"Every field the view reads" is observed, not listed: baseline requests record each key
looked up in ``request.GET``/``request.POST``, and the page's own forms add their field names.
Then each junk value goes into all of those fields at once, and into each field alone on top
of the form's own valid values (the sharper attack: a good form with one field tampered).
Every request runs in a savepoint that is rolled back, so a delete in the first request does
not blunt the rest. Any exception or 5xx fails, with the request that caused it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from apps.accounts.tests.factories import SuperuserFactory, force_login_verified

from .support import in_role
from .test_url_access import ACCESS, url_for

pytestmark = pytest.mark.django_db

# One value of each kind that has crashed a Django view somewhere: ids that are not ids,
# numbers no database column holds, NUL bytes, text longer than any field (and than the 4,300
# digits Python's int() accepts), nothing at all, and two values where one is expected.
JUNK: dict[str, str | list[str]] = {
    "non-numeric": "abc",
    "decimal": "1.5",
    "negative": "-1",
    "beyond 64 bits": "99999999999999999999999",
    "just past int64": str(2**63),
    "NUL byte": "1\x00",
    "5,000 characters": "1" * 5000,
    "empty": "",
    "list": ["1", "abc"],
    "unicode digits": "²",
}
# Each field alone on top of a valid form: one value per failure class (``²`` fails int()
# as ``abc`` and ``1.5`` do, and also passes str.isdigit(); past 64 bits covers 2**63).
PER_FIELD_JUNK = {
    kind: JUNK[kind]
    for kind in (
        "unicode digits",
        "negative",
        "beyond 64 bits",
        "NUL byte",
        "5,000 characters",
        "empty",
        "list",
    )
}
# The admin's change forms are Django's own form code, and the all-fields pass puts every
# kind of junk in them; alone on top of a valid form, they get the kinds that break ids.
ADMIN_PER_FIELD_JUNK = {
    kind: JUNK[kind] for kind in ("unicode digits", "beyond 64 bits", "5,000 characters")
}
# Path arguments: <int:...> converters only let digits through.
JUNK_PATH_INTS = ["0", "99999999999999999999999", str(2**63), "1" * 5000]

PERSONAS = ["superuser", "role admin", "member"]
# Responses that end the session or the request's subject; everything else must be < 500.
NEVER_SENT = {"csrfmiddlewaretoken"}  # the test client does not check CSRF


def make_persona(kind: str):
    if kind == "superuser":
        return SuperuserFactory(username="boss")
    return in_role("Admins" if kind == "role admin" else "Members", username=kind.replace(" ", ""))


# --- What a view reads ---------------------------------------------------------------------


@contextlib.contextmanager
def recording_reads() -> Iterator[set[str]]:
    """Record every key looked up in a QueryDict (request.GET and request.POST)."""
    keys: set[str] = set()
    originals = {name: getattr(QueryDict, name) for name in ("__getitem__", "get", "getlist")}
    contains = QueryDict.__contains__

    def wrap(original):
        def read(self, key, *args, **kwargs):
            keys.add(key)
            return original(self, key, *args, **kwargs)

        return read

    for name, original in originals.items():
        setattr(QueryDict, name, wrap(original))
    QueryDict.__contains__ = wrap(contains)
    try:
        yield keys
    finally:
        for name, original in originals.items():
            setattr(QueryDict, name, original)
        QueryDict.__contains__ = contains


class FormFields(HTMLParser):
    """The fields (and their current values) of the forms on a page that submit to ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.values: dict[str, list[str]] = {}
        self.in_form = False
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = urlsplit(attr.get("action", "")).path
            self.in_form = action in ("", self.path)
        if not self.in_form or not attr.get("name"):
            return
        name = attr["name"]
        if tag == "input":
            kind = attr.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attr:
                self.values.setdefault(name, [])
                return
            self.values.setdefault(name, []).append(attr.get("value", "on"))
        elif tag == "textarea":
            self.textarea = name
            self.values.setdefault(name, [""])
        elif tag == "select":
            self.select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self.select and "selected" in attr:
            self.values[self.select].append(attr.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None


def own_form_values(html: str, path: str) -> dict[str, list[str]]:
    parser = FormFields(path)
    parser.feed(html)
    return {name: values for name, values in parser.values.items() if name not in NEVER_SENT}


# --- Sending ------------------------------------------------------------------------------


class Walk:
    """Sends requests as one persona, each in a rolled-back savepoint, and keeps failures."""

    def __init__(self, user) -> None:
        self.user = user
        self.client = Client()
        force_login_verified(self.client, user)
        # Each request is rolled back, so its session changes (a logout, a rotated key) are
        # too; the client just needs the original cookie back.
        self.session_cookie = self.client.cookies[settings.SESSION_COOKIE_NAME].value
        self.failures: list[str] = []

    def send(self, method: str, url: str, data: dict, *, htmx: bool, what: str):
        headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/"} if htmx else {}
        query = urlencode(data, doseq=True)
        try:
            self.client.cookies[settings.SESSION_COOKIE_NAME] = self.session_cookie
            with transaction.atomic():
                if method == "get":
                    response = self.client.get(f"{url}?{query}" if query else url, headers=headers)
                else:
                    target = f"{url}?{query}" if query else url
                    response = self.client.post(target, data, headers=headers)
                transaction.set_rollback(True)
        except Exception as error:  # noqa: BLE001 — any exception is the finding
            self.failures.append(
                f"{method.upper()} {url[:80]} {what}: {type(error).__name__}: {str(error)[:160]}"
            )
            return None
        if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
            self.failures.append(f"{method.upper()} {url[:80]} {what}: {response.status_code}")
        return response


def discover(walk: Walk, url: str) -> tuple[set[str], set[str], dict[str, list[str]]]:
    """The keys the view reads on GET and on POST, and the values of the page's own form
    (its valid baseline)."""
    path = urlsplit(url).path
    baseline: dict[str, list[str]] = {}
    with recording_reads() as get_keys:
        for htmx in (False, True):
            page = walk.send("get", url, {}, htmx=htmx, what="(baseline)")
            html = page is not None and page.get("Content-Type", "").startswith("text/html")
            if html and page.status_code == HTTPStatus.OK and not htmx:
                baseline = own_form_values(page.content.decode(), path)
    with recording_reads() as post_keys:
        for htmx in (False, True):
            walk.send("post", url, baseline, htmx=htmx, what="(baseline)")
    return get_keys - NEVER_SENT, (post_keys | set(baseline)) - NEVER_SENT, baseline


def junk_walk(
    walk: Walk, url: str, *, per_field: bool = True, filters: frozenset = frozenset()
) -> None:
    get_keys, post_keys, baseline = discover(walk, url)
    get_keys |= filters
    in_admin = url.startswith(reverse("admin:index"))
    variants = (False,) if in_admin else (False, True)  # the admin has no htmx
    # A request that reads no field (refused before it looks, or a page without input) has
    # nowhere to put junk: its baseline requests above were the whole test.
    for kind, value in JUNK.items():
        for htmx in variants:
            what = f"{kind} in every field"
            if get_keys:
                walk.send("get", url, dict.fromkeys(get_keys, value), htmx=htmx, what=what)
            if get_keys | post_keys:
                data = dict.fromkeys(get_keys | post_keys, value)
                walk.send("post", url, data, htmx=htmx, what=what)
    if walk.user.is_superuser and per_field:
        # The superuser reaches every code path: each field alone, the others valid.
        for kind, value in (ADMIN_PER_FIELD_JUNK if in_admin else PER_FIELD_JUNK).items():
            for key in sorted(get_keys):
                walk.send("get", url, {key: value}, htmx=False, what=f"{kind} in {key!r}")
            for key in sorted(post_keys):
                data = {**baseline, key: value}
                walk.send("post", url, data, htmx=False, what=f"{kind} in {key!r}")


# --- The URLs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    url: str
    per_field: bool = True  # also try each field alone on top of the page's valid form
    filters: frozenset = frozenset()  # query keys the view reads without looking them up


def id_filters(model) -> frozenset:
    """The id lookups of a model's change list. Django's change list reads its filters by
    iterating the query string, which ``recording_reads`` cannot see."""
    keys = {"id__in", "id__exact", f"{model._meta.pk.name}__in"}
    for field in model._meta.get_fields():
        if field.is_relation and field.concrete:
            keys.add(f"{field.name}__id__in")
    return frozenset(keys)


# Django's admin (the "admin:*" row): its index, and each registered model as a row of its
# own, so that its many pages spread over the test processes like the other rows.
ADMIN_ROWS = [
    "admin:index",
    *(f"admin:{model._meta.label_lower}" for model in admin.site._registry),
]


def admin_targets(model) -> list[Target]:
    """Every admin page of ``model``. Each field alone is tried on the change list (its
    filters) and the change form (the add page has the same fields)."""
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    targets = [
        Target(reverse(f"{prefix}_changelist"), filters=id_filters(model)),
        Target(reverse(f"{prefix}_add"), per_field=False),
    ]
    first = model._default_manager.order_by("pk").first()
    if first is not None:
        targets += [
            Target(reverse(f"{prefix}_{page}", args=[first.pk]), per_field=page == "change")
            for page in ("change", "history", "delete")
        ]
    return targets


def targets_for(name: str) -> list[Target]:
    if name in ADMIN_ROWS:
        url_for("bookshelf:book-detail")  # a book, so its admin pages exist too
        if name == "admin:index":
            return [Target(reverse("admin:index"), per_field=False)]
        return admin_targets(apps.get_model(name.removeprefix("admin:")))
    return [Target(url_for(name))]


def junk_path_urls(url: str) -> list[str]:
    """The URL with each integer path argument replaced by junk digits."""
    segments = url.strip("/").split("/")
    urls = []
    for index, segment in enumerate(segments):
        if segment.isdigit():
            for junk in JUNK_PATH_INTS:
                changed = [*segments[:index], junk, *segments[index + 1 :]]
                urls.append("/" + "/".join(changed) + "/")
    return urls


ROWS = [name for name in ACCESS if name != "admin:*"] + (ADMIN_ROWS if "admin:*" in ACCESS else [])


@pytest.mark.parametrize("name", ROWS)
@pytest.mark.parametrize("kind", PERSONAS)
def test_junk_input_never_causes_a_server_error(name, kind):
    walk = Walk(make_persona(kind))
    targets = targets_for(name)
    for target in targets:
        junk_walk(walk, target.url, per_field=target.per_field, filters=target.filters)
    for junk_url in junk_path_urls(targets[0].url) if name not in ADMIN_ROWS else []:
        for method in ("get", "post"):
            walk.send(method, junk_url, {}, htmx=False, what="junk path argument")
    assert not walk.failures, f"{len(walk.failures)} server errors:\n" + "\n".join(
        walk.failures[:40]
    )


def test_the_walk_sees_the_fields_a_view_reads():
    """A control for the recorder: if it saw nothing, every walk above would prove nothing."""
    walk = Walk(SuperuserFactory(username="boss"))
    book_url = url_for("bookshelf:book-update")
    _, post_keys, baseline = discover(walk, book_url)
    assert {"title", "author", "isbn", "publication_year", "description", "version"} <= post_keys
    assert baseline["title"] == ["Dune"] and baseline["version"] == ["1"]
    group = Group.objects.get(name="Viewers")
    _, post_keys, _ = discover(walk, reverse("roles:member-add", args=[group.pk]))
    assert "user" in post_keys
    get_keys, _, _ = discover(walk, reverse("bookshelf:book-list"))
    assert {"q", "status", "sort", "page"} <= get_keys
