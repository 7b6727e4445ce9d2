"""The dashboard's panel per role: which panels show is a group question, each link in
them a permission question."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.tests.factories import UserFactory
from apps.core.views import DESK_LINKS
from apps.roles.definitions import ROLES

pytestmark = pytest.mark.django_db

HOME = reverse("core:home")
BOOK_LIST = reverse("bookshelf:book-list")
NEW_BOOK = reverse("bookshelf:book-create")
ROLES_PAGE = reverse("roles:group-list")
AUDIT = reverse("roles:audit")
# Session, user, the user's groups (one query however many roles), the user's and the
# groups' permissions (once, however many links), the featured books; for a publisher the
# editorial panel (awaiting their review, theirs in review, changes requested: 3) and the
# navbar's count of books in review.
HOME_QUERIES = 10


def user_in(*roles: str):
    user = UserFactory()
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get(HOME)
    return response.text


def panels(html: str) -> list[str]:
    return re.findall(r">You are in ([^<]+)</h2>", html)


def links(html: str) -> set[str]:
    main = html[html.index("<main") : html.index("</main>")]
    return set(re.findall(r'<a class="btn btn-outline-primary" href="([^"]+)"', main))


def test_editor_sees_the_editors_panel_with_the_book_list_and_new_book(client, editor):
    html = dashboard(client, editor)
    assert panels(html) == ["Editors"]
    assert "Add and edit books, and submit them for review." in html
    in_review = reverse("bookshelf:book-list") + "?status=in_review"
    assert links(html) == {BOOK_LIST, NEW_BOOK, in_review, reverse("accounts:profile")}
    assert "You have no role yet" not in html


def test_admin_sees_the_admins_panel_with_roles_audit_and_books(client):
    html = dashboard(client, user_in("Admins"))
    assert panels(html) == ["Admins"]
    assert "Everything about books, plus managing roles and reading the audit trail." in html
    assert {ROLES_PAGE, AUDIT, BOOK_LIST, NEW_BOOK} <= links(html)


def test_member_sees_a_panel_pointing_at_the_catalogue(client):
    html = dashboard(client, user_in("Members"))
    assert panels(html) == ["Members"]
    assert f'href="{BOOK_LIST}">Browse the catalogue</a>' in html
    assert NEW_BOOK not in links(html)
    assert ROLES_PAGE not in links(html)


def test_user_without_a_role_is_told_whom_to_ask(client, member):
    html = dashboard(client, member)
    assert panels(html) == []
    assert "You have no role yet. Ask an admin (someone in Admins) to give you one." in html
    assert links(html) == {reverse("accounts:profile")}


def test_panels_are_exactly_the_users_roles_in_declared_order(client):
    html = dashboard(client, user_in("Admins", "Viewers", "Publishers"))
    assert panels(html) == ["Viewers", "Publishers", "Admins"]
    assert f'href="{BOOK_LIST}?status=draft">Drafts</a>' in html


def test_a_role_added_on_the_roles_page_gets_a_panel_with_its_name(client):
    user = user_in("Editors")
    user.groups.add(Group.objects.create(name="Night shift"))
    assert panels(dashboard(client, user)) == ["Editors", "Night shift"]


def test_superuser_is_told_every_permission_is_theirs(client, superuser):
    html = dashboard(client, superuser)
    assert panels(html) == []
    assert "You are a superuser" in html
    assert "You have no role yet" not in html


def test_links_follow_permissions_not_the_role(client, editor):
    # The panel still shows (the user is in Editors), but the group no longer grants
    # add_book, so the page behind "New book" would refuse: no link to it.
    Group.objects.get(name="Editors").permissions.remove(
        Permission.objects.get(content_type__app_label="bookshelf", codename="add_book")
    )
    html = dashboard(client, editor)
    assert panels(html) == ["Editors"]
    assert BOOK_LIST in links(html)
    assert NEW_BOOK not in links(html)
    assert ">New book<" not in html


def test_a_panel_offers_only_its_roles_links_whatever_else_the_user_may_do(client):
    user = user_in("Members")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="bookshelf", codename="add_book")
    )
    # Links are the role's starting points, each shown to holders of its permission: a
    # direct grant of add_book does not turn the Members panel into an editor's.
    assert NEW_BOOK not in links(dashboard(client, user))


def test_dashboard_queries_do_not_grow_with_the_number_of_roles(client):
    counts = []
    for roles in (["Publishers"], ["Editors", "Publishers", "Librarians", "Admins"]):
        client.force_login(user_in(*roles))
        with CaptureQueriesContext(connection) as queries:
            html = client.get(HOME).text
        assert len(panels(html)) == len(roles)
        counts.append(len(queries))
    assert counts == [HOME_QUERIES, HOME_QUERIES]


def test_every_declared_role_has_its_desk():
    assert set(DESK_LINKS) == {role.name for role in ROLES}
