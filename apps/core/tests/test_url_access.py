"""Deny by default, proven: every URL of the project has a row here, and each row is checked
for anonymous visitors, a user without roles, each role and a superuser.

A new view without a row fails `test_every_url_pattern_has_an_access_rule`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.tests.factories import SuperuserFactory, UserFactory, force_login_verified
from apps.bookshelf.models import Book
from apps.circulation.models import Copy, Hold, Loan
from apps.roles.definitions import ROLES

from .support import in_role
from .test_security import assert_security_headers

pytestmark = pytest.mark.django_db

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed in"  # any signed-in user
STAFF = "staff"  # the Django admin: is_staff


@dataclass(frozen=True)
class Rule:
    needs: str | tuple[str, ...]  # PUBLIC, SIGNED_IN, STAFF or the permissions required
    methods: tuple[str, ...] = ("get",)  # what the view answers; others must be 405
    post_only: bool = False
    lands_on_login: bool = False  # success itself redirects to the login page (logout)

    def allows(self, user) -> bool:
        if self.needs == PUBLIC:
            return True
        if user is None:
            return False
        if self.needs == SIGNED_IN:
            return True
        if self.needs == STAFF:
            return user.is_staff
        return user.has_perms(self.needs)


BOOK_ACTION = ("bookshelf.change_book",)
ROLES_ADMIN = ("roles.manage_roles",)
BORROW = ("bookshelf.can_borrow_book",)
DESK = ("bookshelf.can_manage_inventory",)

ACCESS: dict[str, Rule] = {
    "core:home": Rule(PUBLIC),
    "core:healthz": Rule(PUBLIC),
    "core:favicon": Rule(PUBLIC),
    "core:csp-report": Rule(PUBLIC, ("post",), post_only=True),
    "accounts:login": Rule(PUBLIC, ("get", "post")),
    "accounts:logout": Rule(SIGNED_IN, ("post",), post_only=True, lands_on_login=True),
    "accounts:keep-alive": Rule(SIGNED_IN, ("post",), post_only=True),
    "accounts:password_reset": Rule(PUBLIC, ("get", "post")),
    "accounts:password_reset_done": Rule(PUBLIC),
    "accounts:password_reset_confirm": Rule(PUBLIC, ("get", "post")),
    "accounts:password_reset_complete": Rule(PUBLIC),
    "accounts:profile": Rule(SIGNED_IN, ("get", "post")),
    "accounts:email-confirm": Rule(SIGNED_IN, ("get", "post")),
    "accounts:password_change": Rule(SIGNED_IN, ("get", "post")),
    "accounts:confirm-password": Rule(SIGNED_IN, ("get", "post")),
    "accounts:profile-photo": Rule(SIGNED_IN),
    "accounts:sessions": Rule(SIGNED_IN),
    # The login's second step: without a password just typed, back to the login page.
    "accounts:login-verify": Rule(PUBLIC, ("get", "post"), lands_on_login=True),
    "accounts:two-factor": Rule(SIGNED_IN),
    "accounts:authenticator-add": Rule(SIGNED_IN, ("get", "post")),
    "accounts:authenticator-qr": Rule(SIGNED_IN),
    "accounts:authenticator-rename": Rule(SIGNED_IN, ("post",), post_only=True),
    "accounts:authenticator-remove": Rule(SIGNED_IN, ("post",), post_only=True),
    "accounts:recovery-codes": Rule(SIGNED_IN, ("post",), post_only=True),
    # Passkeys: JSON views for the pages' scripts. Adding one is for the signed-in (and
    # answers 400 here: the test client's http://testserver is no place for passkeys); the
    # login's step is anyone's, and without a password just typed answers 400 as well.
    "accounts:passkey-register-begin": Rule(SIGNED_IN, ("post",), post_only=True),
    "accounts:passkey-register-complete": Rule(SIGNED_IN, ("post",), post_only=True),
    "accounts:passkey-login-begin": Rule(PUBLIC, ("post",), post_only=True),
    "accounts:passkey-login-complete": Rule(PUBLIC, ("post",), post_only=True),
    "accounts:passkey-jsi18n": Rule(PUBLIC),
    "accounts:passkey-rename": Rule(SIGNED_IN, ("post",), post_only=True),
    "accounts:passkey-remove": Rule(SIGNED_IN, ("post",), post_only=True),
    "accounts:session-end": Rule(SIGNED_IN, ("post",), post_only=True),
    "accounts:sessions-end-others": Rule(SIGNED_IN, ("post",), post_only=True),
    # The public catalogue (BOOKSHELF_PUBLIC_CATALOGUE on, the default).
    "bookshelf:book-list": Rule(PUBLIC),
    "bookshelf:book-detail": Rule(PUBLIC),
    "bookshelf:book-create": Rule(("bookshelf.add_book",), ("get", "post")),
    "bookshelf:book-update": Rule(("bookshelf.change_book",), ("get", "post")),
    "bookshelf:book-delete": Rule(("bookshelf.delete_book",), ("get", "post")),
    # The editorial workflow.
    "bookshelf:review-queue": Rule(("bookshelf.can_publish_book",)),
    "bookshelf:book-history": Rule(("bookshelf.change_book",)),
    "bookshelf:book-request-changes": Rule(
        (*BOOK_ACTION, "bookshelf.can_publish_book"), ("get", "post")
    ),
    "bookshelf:book-submit": Rule(BOOK_ACTION, ("post",), post_only=True),
    "bookshelf:book-withdraw": Rule(BOOK_ACTION, ("post",), post_only=True),
    **{
        f"bookshelf:book-{name}": Rule(
            (*BOOK_ACTION, f"bookshelf.{permission}"), ("post",), post_only=True
        )
        for name, permission in [
            ("publish", "can_publish_book"),
            ("approve", "can_publish_book"),
            ("unpublish", "can_publish_book"),
            ("archive", "can_archive_book"),
            ("unarchive", "can_archive_book"),
            ("feature", "can_feature_book"),
            ("unfeature", "can_feature_book"),
            ("premium", "can_set_premium"),
        ]
    },
    # Circulation: members borrow, hold and see their loans; someone else's loan or hold
    # is a 404 unless at the desk (can_manage_inventory), checked in apps/circulation.
    "circulation:borrow": Rule(BORROW, ("post",), post_only=True),
    "circulation:hold": Rule(BORROW, ("post",), post_only=True),
    "circulation:hold-cancel": Rule(BORROW, ("post",), post_only=True),
    "circulation:loans": Rule(BORROW),
    "circulation:loan-return": Rule(BORROW, ("post",), post_only=True),
    "circulation:loan-renew": Rule(BORROW, ("post",), post_only=True),
    # The desk and the copies: librarians (can_manage_inventory).
    "circulation:desk": Rule(DESK, ("get", "post")),
    "circulation:inventory": Rule(DESK),
    "circulation:copies-add": Rule(DESK, ("post",), post_only=True),
    "circulation:copy-withdraw": Rule(DESK, ("post",), post_only=True),
    "roles:group-list": Rule(ROLES_ADMIN),
    "roles:group-create": Rule(ROLES_ADMIN, ("get", "post")),
    "roles:group-detail": Rule(ROLES_ADMIN),
    "roles:group-rename": Rule(ROLES_ADMIN, ("get", "post")),
    "roles:group-delete": Rule(ROLES_ADMIN, ("get", "post")),
    "roles:group-permissions": Rule(ROLES_ADMIN, ("post",), post_only=True),
    "roles:group-permission-toggle": Rule(ROLES_ADMIN, ("post",), post_only=True),
    "roles:group-permission-column": Rule(ROLES_ADMIN, ("post",), post_only=True),
    "roles:group-permission-column-restore": Rule(ROLES_ADMIN, ("post",), post_only=True),
    "roles:member-add": Rule(ROLES_ADMIN, ("post",), post_only=True),
    "roles:member-search": Rule(ROLES_ADMIN),
    "roles:member-remove": Rule(ROLES_ADMIN, ("post",), post_only=True),
    "roles:user-list": Rule(ROLES_ADMIN),
    "roles:user-detail": Rule(ROLES_ADMIN, ("get", "post")),
    "roles:audit": Rule(("roles.view_audit",)),
    "roles:lockouts": Rule(ROLES_ADMIN),
    "roles:lockout-clear": Rule(ROLES_ADMIN, ("post",), post_only=True),
    # Django's admin checks is_staff and each model's permissions itself.
    "admin:*": Rule(STAFF),
}


def url_names(resolver: URLResolver, namespace: str = "") -> list[str]:
    names = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names += url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            names.append(f"{namespace}{pattern.name}" if pattern.name else f"{namespace}<unnamed>")
    return names


def rule_for(name: str) -> Rule | None:
    return ACCESS.get(name) or ACCESS.get(name.split(":")[0] + ":*")


def test_every_url_pattern_has_an_access_rule():
    missing = sorted({name for name in url_names(get_resolver()) if rule_for(name) is None})
    assert not missing, f"URL patterns without an access rule in ACCESS: {missing}"


def test_the_table_has_no_stale_rows():
    names = set(url_names(get_resolver()))
    stale = [name for name in ACCESS if not name.endswith(":*") and name not in names]
    assert not stale, f"ACCESS rows for URLs that no longer exist: {stale}"


# --- Checking each rule against each persona -----------------------------------------------

PERSONAS = ["anonymous", "no role", *(role.name for role in ROLES), "superuser"]


def make_persona(kind: str, username: str | None = None):
    if kind == "anonymous":
        return None
    if kind == "superuser":
        return SuperuserFactory(username=username or "boss")
    if kind == "no role":
        return UserFactory(username=username or "person")
    return in_role(kind, username=username or "person")


@pytest.fixture(scope="module")
def personas(django_db_setup, django_db_blocker) -> Iterator[dict[str, int]]:
    """The id of each signed-in persona, made once for the whole table (with the
    authenticator a privileged page asks for): the tests only sign them in, and whatever a
    request changes is rolled back with its test. Deleted again after the module."""
    with django_db_blocker.unblock():
        users = {
            kind: make_persona(kind, username=f"person-{number}")
            for number, kind in enumerate(PERSONAS)
            if kind != "anonymous"
        }
        for user in users.values():
            TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)
    yield {kind: user.pk for kind, user in users.items()}
    with django_db_blocker.unblock():
        get_user_model().objects.filter(pk__in=[user.pk for user in users.values()]).delete()


def url_for(name: str) -> str:
    """A URL for the pattern, with arguments that point at real objects."""
    if name == "admin:*":
        return reverse("admin:index")
    book = Book.objects.create(
        title="Dune",
        author="Frank Herbert",
        publication_year=1965,
        is_published=True,
        published_at=timezone.now(),
    )
    group = Group.objects.get(name="Viewers")
    member = UserFactory(username="someone")
    kwargs = {
        "bookshelf": {"pk": book.pk},
        "circulation": {"pk": book.pk},
        "roles": {"pk": group.pk},
    }.get(name.split(":")[0], {})
    if name in {"circulation:loan-return", "circulation:loan-renew", "circulation:hold-cancel"}:
        kwargs = {"pk": circulation_object(name, book, member).pk}
    if name in {
        "bookshelf:book-list",
        "bookshelf:review-queue",
        "circulation:loans",
        "circulation:desk",
        "bookshelf:book-create",
        "roles:group-list",
        "roles:lockouts",
        "roles:group-create",
        "roles:user-list",
        "roles:audit",
    }:
        kwargs = {}
    if name == "circulation:copy-withdraw":
        kwargs = {"pk": Copy.objects.create(book=book, barcode=f"W{book.pk:06d}").pk}
    if name == "roles:user-detail":
        kwargs = {"pk": member.pk}
    if name == "roles:member-remove":
        kwargs = {"pk": group.pk, "user_id": member.pk}
    if name == "roles:group-permission-toggle":
        kwargs = {"pk": group.pk, "permission_id": Permission.objects.get(codename="add_book").pk}
    if name in {"roles:group-permission-column", "roles:group-permission-column-restore"}:
        kwargs = {"pk": group.pk, "action": "view"}
    if name == "roles:lockout-clear":
        attempt = AccessAttempt.objects.create(
            username="someone",
            ip_address="192.0.2.1",
            failures_since_start=5,
            user_agent="",
            http_accept="",
            path_info="/accounts/login/",
            get_data="",
            post_data="",
        )
        kwargs = {"pk": attempt.pk}
    if name == "accounts:password_reset_confirm":
        kwargs = {"uidb64": "MQ", "token": "set-password"}
    if name == "accounts:profile-photo":
        kwargs = {"filename": "none.png"}
    if name == "accounts:email-confirm":
        kwargs = {"token": "not-a-signed-token"}  # a dead link: answered, never a 500
    if name in {
        "accounts:authenticator-rename",
        "accounts:authenticator-remove",
        "accounts:passkey-rename",
        "accounts:passkey-remove",
    }:
        kwargs = {"pk": 0}  # nobody's: a 404
    if name == "accounts:session-end":
        kwargs = {"session_id": "0" * 32}
    return reverse(name, kwargs=kwargs)


def circulation_object(name: str, book: Book, member):
    """Someone else's loan (the one copy of ``book``), or their hold on it."""
    copy = Copy.objects.create(book=book, barcode=f"T{book.pk:06d}")
    now = timezone.now()
    if name == "circulation:hold-cancel":
        return Hold.objects.create(book=book, member=member)
    copy.status = "on_loan"
    copy.save()
    return Loan.objects.create(
        copy=copy, book=book, borrower=member, borrowed_at=now, due_at=now + timedelta(days=21)
    )


def assert_outcome(response, *, rule: Rule, allowed: bool, anonymous: bool, name: str) -> None:
    status = response.status_code
    location = response.get("Location", "")
    login_redirect = status == HTTPStatus.FOUND and "/login/" in location
    if allowed and rule.lands_on_login:
        assert location == reverse("accounts:login"), (name, status)
    elif allowed:
        assert status != HTTPStatus.FORBIDDEN and not login_redirect, (name, status, location)
    elif anonymous or name == "admin:*":
        # Django's admin sends everyone who is not staff to its own login page.
        assert login_redirect, (name, status, location)
    else:
        assert status == HTTPStatus.FORBIDDEN, (name, status)


ROWS = list(ACCESS)


@pytest.mark.parametrize("name", ROWS)
@pytest.mark.parametrize("kind", PERSONAS)
def test_access_rule_holds(client, personas, name, kind):
    rule = ACCESS[name]
    user = get_user_model().objects.get(pk=personas[kind]) if kind in personas else None
    if user:
        force_login_verified(client, user)
    url = url_for(name)
    allowed = rule.allows(user)
    for method in ("get", "post"):
        if method == "post" and "post" not in rule.methods and not rule.post_only:
            continue  # read-only views: POST is checked by Django (405) but is not a rule
        response = getattr(client, method)(url)
        if allowed and method not in rule.methods:
            assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED, (name, method)
            continue
        assert_outcome(response, rule=rule, allowed=allowed, anonymous=user is None, name=name)
        # Whatever the outcome, the response carries the security headers and strict CSP.
        assert_security_headers(response)


# --- Privileged pages need a second factor ----------------------------------------------------

PRIVILEGED_ROWS = [
    name
    for name in ROWS
    if name.split(":")[0] in settings.BOOKSHELF_TWO_FACTOR_NAMESPACES
    and ACCESS[name].needs != PUBLIC
]
# Who must use two-factor (apps.accounts.two_factor.must_use_two_factor): a superuser, a
# member of a role marked requires_two_factor, and someone given roles.manage_roles directly.
MUST_USE_TWO_FACTOR = ["superuser", "Admins", "manage_roles"]


def privileged_persona(kind: str):
    if kind == "manage_roles":
        user = UserFactory(username="keyholder", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="manage_roles"))
        return user
    return make_persona(kind)


def test_the_privileged_namespaces_are_in_the_table():
    assert {name.split(":")[0] for name in PRIVILEGED_ROWS} == {"roles", "admin"}


@pytest.mark.parametrize("name", PRIVILEGED_ROWS)
@pytest.mark.parametrize("kind", MUST_USE_TWO_FACTOR)
def test_every_privileged_url_sends_those_without_a_factor_to_enrolment(client, name, kind):
    user = privileged_persona(kind)
    client.force_login(user)  # signed in with the password only, no factor yet
    url = url_for(name)
    for method in (
        ("get", "post") if ACCESS[name].post_only or "post" in ACCESS[name].methods else ("get",)
    ):
        response = getattr(client, method)(url)
        assert response.status_code == HTTPStatus.FOUND, (name, method, response.status_code)
        assert response["Location"].startswith(reverse("accounts:two-factor") + "?next="), (
            name,
            method,
        )
    # Once enrolled (a session verified by the factor), the same user gets through.
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    force_login_verified(client, user)
    response = client.get(url)
    assert not response.get("Location", "").startswith(reverse("accounts:two-factor")), name
