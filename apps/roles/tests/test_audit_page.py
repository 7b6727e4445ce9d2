"""The History pages: /roles/audit/ and the role page's History section."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from apps.accounts.tests.factories import force_login_verified
from apps.core.tests.support import in_role
from apps.roles.models import AuditEntry
from apps.roles.services import group_delete, group_grant_permission, membership_add
from apps.roles.tests.helpers import perm, role

pytestmark = pytest.mark.django_db

AUDIT = reverse("roles:audit")
PERMISSIONS = ["delete_book", "can_publish_book", "can_archive_book", "can_feature_book"]


@pytest.fixture
def roleadmin(client):
    user = in_role("Admins", username="roleadmin")
    force_login_verified(client, user)
    return user


def text(html: str) -> str:
    """What a reader sees: the page without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", strip_tags(html))


def test_a_change_made_on_the_role_page_shows_its_sentence_target_and_client_ip(client, roleadmin):
    editors = role("Editors")
    publish = perm("can_publish_book")
    client.post(
        reverse("roles:group-permission-toggle", args=[editors.pk, publish.pk]),
        {"permissions": [publish.pk]},
        REMOTE_ADDR="198.51.100.7",
    )
    page = client.get(AUDIT).text
    row = page[page.index("Permission granted") :]
    row = row[: row.index("</tr>")]
    assert (
        "<strong>roleadmin</strong> granted “<em>Can publish and unpublish books</em>” to "
        "<strong>Editors</strong>"
    ) in row
    assert '<code class="d-block small">bookshelf.can_publish_book</code>' in row
    assert "Target: Can publish and unpublish books" in text(row)
    assert "Client IP: 198.51.100.7" in text(row)
    assert "{'granted'" not in page


def test_a_deleted_role_shows_its_members_and_permissions_as_lists(client, roleadmin):
    temp = Group.objects.create(name="Temp")
    temp.permissions.add(perm("view_book"), perm("can_publish_book"))
    in_role("Temp", username="maxmember")
    client.post(reverse("roles:group-delete", args=[temp.pk]))
    page = client.get(AUDIT).text
    assert "roleadmin deleted the role Temp (it had 1 member and 2 permissions)" in text(page)
    assert "Temp → deleted" in text(page)
    assert "<summary>1 member</summary>" in page
    assert "<li>maxmember</li>" in page
    assert "<li>Can publish and unpublish books</li><li>Can view book</li>" in page
    assert "{'name'" not in page


def test_the_migrate_entries_read_as_sentences_with_their_permissions(client, roleadmin):
    AuditEntry.objects.create(
        action=AuditEntry.Action.GROUP_CREATED,
        actor_username="migrate",
        group_name="Readers",
        after={"name": "Readers", "permissions": ["bookshelf.view_book"]},
    )
    page = text(client.get(AUDIT, {"group": "Readers"}).text)
    assert "migrate created the role Readers with 1 permission" in page
    assert "no such role → Readers 1 permission Can view book" in page
    assert "Client IP: none (a server command)" in page


def test_names_are_escaped_not_trusted(client, roleadmin):
    group = Group.objects.create(name="<b>Bold</b>")
    membership_add(actor=roleadmin, group=group, user=in_role("Viewers", username="x<i>y"))
    page = client.get(AUDIT).text
    assert "<strong>&lt;b&gt;Bold&lt;/b&gt;</strong>" in page
    assert "<strong>x&lt;i&gt;y</strong>" in page
    assert "<b>Bold</b>" not in page


def test_htmx_gets_the_table_with_the_sentences(client, roleadmin):
    membership_add(actor=roleadmin, group=role("Members"), user=in_role("Viewers", username="mo"))
    response = client.get(AUDIT, HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    assert response.text.lstrip().startswith('<div id="audit-table">')
    assert "roleadmin added mo to Members" in text(response.text)


def test_an_empty_filter_result_offers_the_whole_history(client, roleadmin):
    page = client.get(AUDIT, {"actor": "nobody-at-all"}).text
    assert "No changes match these filters." in page
    assert f'<a href="{AUDIT}">Show all changes</a>' in page


def test_the_audit_page_is_read_only(client, roleadmin):
    assert client.post(AUDIT).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_the_role_page_history_reads_as_sentences_with_the_client_ip(client, roleadmin):
    members = role("Members")
    person = in_role("Viewers", username="maxmember")
    client.post(
        reverse("roles:member-add", args=[members.pk]),
        {"user": person.pk},
        REMOTE_ADDR="203.0.113.20",
    )
    page = client.get(reverse("roles:group-detail", args=[members.pk])).text
    history = text(page[page.index('id="history"') :])
    assert "roleadmin added maxmember to Members" in history
    assert "from 203.0.113.20" in history


# --- Cost ----------------------------------------------------------------------------------------


def make_entries(actor, count: int) -> None:
    """``count`` entries of every kind that names permissions or people."""
    editors = role("Editors")
    for index in range(count):
        kind = index % 3
        if kind == 0:
            group_grant_permission(
                actor=actor, group=editors, permission=perm(PERMISSIONS[index % 4])
            )
            editors.permissions.remove(perm(PERMISSIONS[index % 4]))
        elif kind == 1:
            membership_add(actor=actor, group=editors, user=in_role("Viewers"))
        else:
            group = Group.objects.create(name=f"Team {index}")
            group.permissions.add(perm(PERMISSIONS[index % 4]), perm("view_book"))
            group_delete(actor=actor, group=group)


def test_the_audit_page_queries_do_not_grow_with_its_entries(client, roleadmin):
    counts = {}
    for total in (5, 50):
        make_entries(roleadmin, total - AuditEntry.objects.filter(actor_id=roleadmin.pk).count())
        with CaptureQueriesContext(connection) as queries:
            response = client.get(AUDIT, {"actor": "roleadmin"})
        assert len(response.context["entries"]) == total
        counts[total] = len(queries)
    assert counts[5] == counts[50]
    assert "granted “Can delete book” to Editors" in text(response.text)
