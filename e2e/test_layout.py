"""Every page of the app, as every demo role, on a phone (390x844) and a laptop (1280x800):
nothing scrolls sideways and axe-core finds no serious or critical violation.

The pages come from the access table (apps/core/tests/test_url_access.py): a page a role
may open is walked as that role, and a new URL that is not walked here, or said not to be a
page, fails `test_the_walk_covers_every_page_of_the_access_table`.

The walk only reads, so the module seeds the demo data once (``walk_data``) instead of once
per test, and each role logs in once per worker: on the other screen it starts from the same
signed-in browser state. Each screen size is an xdist group, so the two workers of
`make e2e` each walk one half, of the same length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.test import RequestFactory
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from apps.accounts.demo import DEMO_USERS
from apps.bookshelf.models import Book
from apps.core.tests.test_url_access import ACCESS, rule_for

from .conftest import BrowserProblems, watch
from .pages import (
    assert_focus_not_on_body,
    assert_no_sideways_scroll,
    log_in,
)
from .support import LAPTOP, PHONE, demo_data_create, shared_database

VIEWPORTS = {"390x844": PHONE, "1280x800": LAPTOP}
ROLES = ["anonymous", *(demo.username for demo in DEMO_USERS)]


def walk_on(viewport: str):
    """One xdist group per screen size: two halves of the same length, each walked by one
    worker of `make e2e` on the demo data it seeds once."""
    return pytest.param(viewport, marks=pytest.mark.xdist_group(f"walk-{viewport}"))


@pytest.fixture(scope="module")
def walk_data(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """seed_demo's users and books, seeded once for this module (its tests only read) and
    flushed when its last test is done."""
    with shared_database(django_db_blocker):
        yield demo_data_create()


@pytest.fixture
def transactional_db(walk_data, django_db_blocker) -> Iterator[None]:
    """The database as pytest-django's ``transactional_db`` opens it (the live server needs
    it), but ``walk_data``'s, kept between this module's tests instead of flushed after each."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def signed_in() -> dict[str, Any]:
    """Each role's browser state (cookies, storage) once it has logged in: the walk on the
    other screen starts from it instead of logging in again."""
    return {}


class Site:
    """The objects the pages are about, from the demo data."""

    def __init__(self, users: dict) -> None:
        self.users = users
        self.book = Book.objects.filter(is_published=True, is_archived=False).order_by("pk")[0]
        self.in_review = Book.objects.filter(is_in_review=True).order_by("pk")[0]
        # Sent back with a comment: the longest history of the demo books.
        self.sent_back = Book.objects.exclude(review_comment="").order_by("pk")[0]
        self.group = Group.objects.get(name="Editors")
        member = users["member"]
        self.reset_kwargs = {
            "uidb64": urlsafe_base64_encode(force_bytes(member.pk)),
            "token": default_token_generator.make_token(member),
        }


# URL name -> the page to open (from the demo data). What is not a page is said below.
PAGES: dict[str, Callable[[Site], str]] = {
    "core:home": lambda site: reverse("core:home"),
    "accounts:login": lambda site: reverse("accounts:login"),
    "accounts:password_reset": lambda site: reverse("accounts:password_reset"),
    "accounts:password_reset_done": lambda site: reverse("accounts:password_reset_done"),
    "accounts:password_reset_confirm": lambda site: reverse(
        "accounts:password_reset_confirm", kwargs=site.reset_kwargs
    ),
    "accounts:password_reset_complete": lambda site: reverse("accounts:password_reset_complete"),
    "accounts:profile": lambda site: reverse("accounts:profile"),
    "accounts:password_change": lambda site: reverse("accounts:password_change"),
    "accounts:sessions": lambda site: reverse("accounts:sessions"),
    "accounts:two-factor": lambda site: reverse("accounts:two-factor"),
    "accounts:authenticator-add": lambda site: reverse("accounts:authenticator-add"),
    "accounts:confirm-password": lambda site: reverse("accounts:confirm-password") + "?next=/",
    "bookshelf:book-list": lambda site: reverse("bookshelf:book-list") + "?page=2",
    "bookshelf:book-detail": lambda site: site.book.get_absolute_url(),
    "bookshelf:book-create": lambda site: reverse("bookshelf:book-create"),
    "bookshelf:book-update": lambda site: reverse("bookshelf:book-update", args=[site.book.pk]),
    "bookshelf:book-delete": lambda site: reverse("bookshelf:book-delete", args=[site.book.pk]),
    "bookshelf:review-queue": lambda site: reverse("bookshelf:review-queue"),
    "bookshelf:book-history": lambda site: reverse(
        "bookshelf:book-history", args=[site.sent_back.pk]
    ),
    "bookshelf:book-request-changes": lambda site: reverse(
        "bookshelf:book-request-changes", args=[site.in_review.pk]
    ),
    "circulation:loans": lambda site: reverse("circulation:loans"),
    "circulation:desk": lambda site: reverse("circulation:desk"),
    "circulation:inventory": lambda site: reverse("circulation:inventory", args=[site.book.pk]),
    "roles:group-list": lambda site: reverse("roles:group-list"),
    "roles:group-create": lambda site: reverse("roles:group-create"),
    "roles:group-detail": lambda site: (
        reverse("roles:group-detail", args=[site.group.pk]) + "?q=ma"
    ),  # with member suggestions (what roles:member-search answers)
    "roles:group-rename": lambda site: reverse("roles:group-rename", args=[site.group.pk]),
    "roles:group-delete": lambda site: reverse("roles:group-delete", args=[site.group.pk]),
    "roles:user-list": lambda site: reverse("roles:user-list"),
    "roles:user-detail": lambda site: reverse("roles:user-detail", args=[site.users["member"].pk]),
    "roles:audit": lambda site: reverse("roles:audit"),
    "roles:lockouts": lambda site: reverse("roles:lockouts"),
}
NOT_PAGES = {
    "core:healthz": "plain text for load balancers",
    "core:favicon": "an image",
    "accounts:profile-photo": "an image",
    "accounts:authenticator-qr": "an image (of the authenticator-add page)",
    "accounts:passkey-jsi18n": "a script (the passkey buttons' translations)",
    "accounts:login-verify": "the login's second step: e2e/test_two_factor.py walks it",
    "accounts:email-confirm": "needs a signed link: e2e/test_email_change.py opens it",
    "roles:member-search": "a fragment of the role's page, walked there with ?q=",
}
# Pages a signed-in person does not see: the login page sends them home.
ANONYMOUS_ONLY = {"accounts:login"}


def admin_pages(superuser) -> list[str]:
    """The admin's index, and each model's list, add form and first object's change form."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    paths = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        paths.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(request):
            paths.append(reverse(f"{prefix}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None and model_admin.has_view_or_change_permission(request, first):
            paths.append(reverse(f"{prefix}_change", args=[first.pk]))
    return paths


def pages_for(role: str, site: Site) -> list[str]:
    user = site.users.get(role)
    paths = []
    for name, path in PAGES.items():
        rule = rule_for(name)
        assert rule is not None, name
        if rule.allows(user) and (user is None or name not in ANONYMOUS_ONLY):
            paths.append(path(site))
    if user is not None and user.is_staff:
        paths += admin_pages(user)
    return paths


def test_the_walk_covers_every_page_of_the_access_table():
    pages = {
        name
        for name, rule in ACCESS.items()
        if "get" in rule.methods and not rule.post_only and not name.endswith(":*")
    }
    missing = sorted(pages - set(PAGES) - set(NOT_PAGES))
    assert not missing, f"Pages the layout walk does not open (add them to PAGES): {missing}"


@pytest.mark.parametrize("viewport", [walk_on(viewport) for viewport in VIEWPORTS])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_the_screen_and_passes_axe(
    new_context,
    live_server,
    walk_data,
    signed_in,
    browser_problems: BrowserProblems,
    role,
    viewport,
):
    """The pages' accessibility is checked as each one loads (browser_problems); this walk
    adds the width check and the error pages, and says everything it found at once."""
    site = Site(walk_data)
    state = signed_in.get(role)
    context = watch(new_context(**VIEWPORTS[viewport], storage_state=state), browser_problems)
    page = context.new_page()
    if role != "anonymous" and state is None:
        log_in(page, live_server.url, role, settings.DEMO_PASSWORD)
        signed_in[role] = context.storage_state()
    paths = pages_for(role, site)
    # The error pages, which every role can meet.
    missing_page = f"{live_server.url}/no-such-page/"
    browser_problems.expected_error_urls.add(missing_page)
    paths.append("/no-such-page/")
    if role != "anonymous" and not rule_for("roles:group-list").allows(site.users[role]):
        browser_problems.expected_error_urls.add(f"{live_server.url}/roles/")
        paths.append("/roles/")

    too_wide = []
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        try:
            assert_no_sideways_scroll(page)
        except AssertionError as error:
            too_wide.append(str(error))
    problems = [*too_wide, *browser_problems.all()]
    assert not problems, f"{len(paths)} pages as {role} at {viewport}:\n" + "\n".join(problems)


# --- The guards themselves can fail ----------------------------------------------------------


def test_axe_reports_a_serious_violation(page: Page, live_server, browser_problems):
    """Negative control: an image without alternative text and an unlabelled field, added to a
    page after it loaded, are found by the check at the end of the test."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        """() => {
          const image = document.createElement("img");
          image.src = "/favicon.ico";
          const field = document.createElement("input");
          field.type = "text";
          (document.querySelector("main") || document.body).append(image, field);
        }"""
    )
    browser_problems.check_accessibility(page, "negative control")
    found = browser_problems.a11y_violations()
    assert any(" image-alt " in line for line in found), found
    assert any(" label " in line for line in found), found
    page.reload()  # the page as it was, for the check at the end of the test
    browser_problems.clear()


def test_axe_tolerates_what_a_test_marks(page: Page, live_server, browser_problems):
    browser_problems.a11y_allowed.add(("image-alt", "/accounts/login/"))
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate("document.body.append(document.createElement('img'))")
    browser_problems.check_accessibility(page, "allowed")
    assert browser_problems.a11y_checks[-1]["violations"]
    assert browser_problems.a11y_violations() == []


def test_the_width_check_reports_what_sticks_out(page: Page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    assert_no_sideways_scroll(page)
    page.evaluate(
        """() => {
          const wide = Object.assign(document.createElement("div"), {id: "too-wide"});
          // Through the CSSOM, which the CSP allows (a style attribute it would refuse).
          wide.style.width = "600px";
          wide.style.height = "1em";
          document.body.append(wide);
        }"""
    )
    with pytest.raises(AssertionError, match=r"scrolls sideways.*div#too-wide"):
        assert_no_sideways_scroll(page)


def test_the_focus_check_reports_focus_lost_to_body(page: Page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Password").focus()
    assert_focus_not_on_body(page)
    page.evaluate("document.activeElement.blur()")
    with pytest.raises(AssertionError, match="Focus is lost"):
        assert_focus_not_on_body(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
