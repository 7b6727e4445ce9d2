"""The permission grid's labels, and the column Undo (``services.group_restore_column``)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import BadRequest

from apps.accounts.tests.factories import SuperuserFactory
from apps.core.tests.support import in_role
from apps.roles.grid import column_permissions, custom_label, permission_grid
from apps.roles.models import AuditEntry
from apps.roles.services import (
    RoleGuardError,
    group_grant_permission,
    group_restore_column,
    group_toggle_column_with_undo,
)

from .helpers import perm, role

pytestmark = pytest.mark.django_db


# --- Labels ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codename", "label"),
    [
        ("can_publish_book", "Publish and unpublish books"),
        ("can_archive_book", "Archive and restore books"),
        ("can_feature_book", "Feature books on the home page"),
        ("can_set_premium", "Mark books as premium content"),
        ("manage_roles", "Manage roles, their permissions and members"),
        ("view_audit", "Read the roles audit trail"),
    ],
)
def test_custom_permissions_are_labelled_with_their_names_as_sentences(codename, label):
    assert custom_label(perm(codename)) == label


def test_a_name_without_can_is_kept_and_only_capitalised():
    permission = Permission(
        codename="export_book",
        name="export the catalogue as CSV",
        content_type=ContentType.objects.get(app_label="bookshelf", model="book"),
    )
    assert custom_label(permission) == "Export the catalogue as CSV"


def test_the_grid_labels_custom_boxes_with_sentences_and_default_boxes_with_their_column():
    grid = permission_grid(role("Editors"), SuperuserFactory())
    bookshelf = next(app for app in grid.apps if app.label == "Bookshelf")
    book = next(row for row in bookshelf.rows if row.model_name == "Book")
    assert [cell.label for cell in book.custom] == [
        "Publish and unpublish books",
        "Archive and restore books",
        "Feature books on the home page",
        "Mark books as premium content",
        "Borrow books",
        "Return books",
        "Manage book inventory",
    ]
    assert [cell.label for cell in book.cells.values() if cell] == [
        "View",
        "Add",
        "Change",
        "Delete",
    ]


# --- The column Undo ---------------------------------------------------------------------------


def column_ids(group, actor, action: str) -> set[int]:
    return {c.permission.pk for c in column_permissions(permission_grid(group, actor), action)}


def held(group) -> set[int]:
    return set(group.permissions.values_list("pk", flat=True))


def test_undo_restores_exactly_the_column_as_it_was_and_keeps_the_other_columns():
    boss = SuperuserFactory(username="boss")
    editors = role("Editors")  # view, add and change book
    view_column = column_ids(editors, boss, "view")
    before = held(editors)

    toggle = group_toggle_column_with_undo(actor=boss, group=editors, action="view")
    assert toggle.before == [perm("view_book").pk]  # the column as it was, nothing else
    assert toggle.granted == len(view_column) - 1 and toggle.revoked == 0
    assert view_column <= held(editors)
    # Meanwhile, a change in another column: the Undo leaves it.
    group_grant_permission(actor=boss, group=editors, permission=perm("can_publish_book"))

    audited = AuditEntry.objects.count()
    granted, revoked = group_restore_column(
        actor=boss,
        group=editors,
        action="view",
        permissions=Permission.objects.filter(pk__in=toggle.before),
    )
    assert (granted, revoked) == (0, toggle.granted)
    assert held(editors) == before | {perm("can_publish_book").pk}
    # Audited like any change: one row per permission, each naming it.
    entries = AuditEntry.objects.order_by("id")[audited:]
    assert len(entries) == revoked
    assert {e.action for e in entries} == {AuditEntry.Action.PERMISSION_REVOKED}
    assert "auth.view_group" in {e.target for e in entries}
    assert all(e.actor_username == "boss" for e in entries)


def test_undo_of_a_revoked_column_grants_it_back():
    boss = SuperuserFactory()
    viewers = role("Viewers")  # view_book only
    toggle = group_toggle_column_with_undo(actor=boss, group=viewers, action="view")
    again = group_toggle_column_with_undo(actor=boss, group=viewers, action="view")
    assert again.revoked == len(column_ids(viewers, boss, "view")) and not held(viewers)
    group_restore_column(
        actor=boss,
        group=viewers,
        action="view",
        permissions=Permission.objects.filter(pk__in=again.before),
    )
    assert held(viewers) == column_ids(viewers, boss, "view")
    group_restore_column(
        actor=boss,
        group=viewers,
        action="view",
        permissions=Permission.objects.filter(pk__in=toggle.before),
    )
    assert held(viewers) == {perm("view_book").pk}


def test_undo_is_refused_by_the_same_rules_as_any_change():
    admin = in_role("Admins", username="roleadmin")
    viewers = role("Viewers")
    audited = AuditEntry.objects.count()
    # Granting a permission the admin lacks (policy.why_cannot_grant).
    with pytest.raises(RoleGuardError, match="you don't have that permission yourself"):
        group_restore_column(
            actor=admin,
            group=viewers,
            action="add",
            permissions=[perm("add_user")],
        )
    # A role holding a permission the admin lacks (policy.why_cannot_change_role).
    staff = Group.objects.create(name="User managers")
    staff.permissions.add(perm("add_user"), perm("add_book"))
    with pytest.raises(RoleGuardError, match="holds permissions you don't have"):
        group_restore_column(actor=admin, group=staff, action="add", permissions=[])
    assert held(viewers) == {perm("view_book").pk}
    assert held(staff) == {perm("add_user").pk, perm("add_book").pk}
    assert AuditEntry.objects.count() == audited


def test_undo_takes_only_its_own_columns_permissions():
    boss = SuperuserFactory()
    viewers = role("Viewers")
    with pytest.raises(BadRequest, match="Not a permission of this column"):
        group_restore_column(
            actor=boss, group=viewers, action="view", permissions=[perm("add_book")]
        )
    with pytest.raises(BadRequest, match="Unknown column"):
        group_restore_column(actor=boss, group=viewers, action="publish", permissions=[])
    assert held(viewers) == {perm("view_book").pk}


def test_sessions_and_second_factors_are_not_handed_out_through_roles():
    """Each user manages their own sessions and factors; a role granting "change TOTP
    device" would let its members read or swap other people's second factors."""
    grid = permission_grid(role("Editors"), SuperuserFactory())
    models = {row.model_name.lower() for app in grid.apps for row in app.rows}
    assert not models & {"session", "totp device", "webauthn credential"}
    assert {"book", "user"} <= models
