from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import BadRequest
from django.db import transaction

from apps.accounts.tests.factories import SuperuserFactory, UserFactory
from apps.core.tests.support import in_role
from apps.roles.models import AuditEntry
from apps.roles.policy import role_managers
from apps.roles.services import (
    RoleGuardError,
    group_create,
    group_delete,
    group_grant_permission,
    group_rename,
    group_revoke_permission,
    group_set_permissions,
    membership_add,
    membership_remove,
    user_set_groups,
)
from apps.roles.tests.helpers import perm, role

pytestmark = pytest.mark.django_db


@pytest.fixture
def roleadmin():
    return in_role("Admins", username="roleadmin")


@pytest.fixture
def other_admin():
    return in_role("Admins", username="otheradmin")


# --- Escalation guards ---------------------------------------------------------------------


def test_admin_cannot_grant_a_permission_they_do_not_hold(roleadmin):
    editors = role("Editors")
    with pytest.raises(RoleGuardError, match="you don't have that permission yourself"):
        group_grant_permission(actor=roleadmin, group=editors, permission=perm("add_user"))
    assert not editors.permissions.filter(codename="add_user").exists()
    assert not AuditEntry.objects.filter(target="accounts.add_user").exists()


def test_admin_grants_a_permission_they_hold_and_it_is_audited(roleadmin):
    editors = role("Editors")
    assert group_grant_permission(
        actor=roleadmin, group=editors, permission=perm("can_publish_book"), ip="203.0.113.9"
    )
    assert editors.permissions.filter(codename="can_publish_book").exists()
    entry = AuditEntry.objects.get(
        action=AuditEntry.Action.PERMISSION_GRANTED, group_name="Editors"
    )
    assert (entry.actor_username, entry.target, entry.ip_address) == (
        "roleadmin",
        "bookshelf.can_publish_book",
        "203.0.113.9",
    )
    assert (entry.before, entry.after) == ({"granted": False}, {"granted": True})
    # Granting again changes nothing and writes nothing.
    assert not group_grant_permission(
        actor=roleadmin, group=editors, permission=perm("can_publish_book")
    )
    assert (
        AuditEntry.objects.filter(
            action=AuditEntry.Action.PERMISSION_GRANTED, group_name="Editors"
        ).count()
        == 1
    )


def test_admin_cannot_change_a_group_holding_permissions_beyond_their_own(roleadmin, other_admin):
    staff = Group.objects.create(name="User managers")
    staff.permissions.add(perm("add_user"))
    for attempt in (
        lambda: group_rename(actor=roleadmin, group=staff, name="Renamed"),
        lambda: group_delete(actor=roleadmin, group=staff),
        lambda: group_revoke_permission(actor=roleadmin, group=staff, permission=perm("add_user")),
        lambda: group_grant_permission(actor=roleadmin, group=staff, permission=perm("view_book")),
        lambda: membership_add(actor=roleadmin, group=staff, user=other_admin),
    ):
        with pytest.raises(RoleGuardError, match="holds permissions you don't have"):
            attempt()
    staff.refresh_from_db()
    assert staff.name == "User managers"
    assert list(staff.permissions.values_list("codename", flat=True)) == ["add_user"]
    assert not staff.user_set.exists()


def test_admin_cannot_add_or_remove_themselves(roleadmin):
    with pytest.raises(RoleGuardError, match="your own roles"):
        membership_add(actor=roleadmin, group=role("Editors"), user=roleadmin)
    with pytest.raises(RoleGuardError, match="your own roles"):
        membership_remove(actor=roleadmin, group=role("Admins"), user=roleadmin)
    with pytest.raises(RoleGuardError, match="your own roles"):
        user_set_groups(actor=roleadmin, user=roleadmin, groups=[role("Viewers")])
    assert list(roleadmin.groups.values_list("name", flat=True)) == ["Admins"]


def test_superusers_pass_the_holding_guards():
    boss = SuperuserFactory()
    staff = Group.objects.create(name="User managers")
    group_grant_permission(actor=boss, group=staff, permission=perm("add_user"))
    membership_add(actor=boss, group=staff, user=boss)
    assert boss.groups.filter(name="User managers").exists()


def test_nobody_left_to_manage_roles_is_refused(roleadmin, other_admin):
    membership_remove(actor=roleadmin, group=role("Admins"), user=other_admin)
    assert list(role_managers()) == [roleadmin]
    # Revoking manage_roles from the only managers' role would lock everybody out.
    with pytest.raises(RoleGuardError, match="nobody active could manage roles"):
        group_revoke_permission(
            actor=roleadmin, group=role("Admins"), permission=perm("manage_roles")
        )
    with pytest.raises(RoleGuardError, match="nobody active could manage roles"):
        group_delete(actor=roleadmin, group=role("Admins"))
    assert role("Admins").permissions.filter(codename="manage_roles").exists()
    assert roleadmin.groups.filter(name="Admins").exists()


def test_inactive_users_do_not_count_as_managers(roleadmin, other_admin):
    other_admin.is_active = False
    other_admin.save()
    with pytest.raises(RoleGuardError, match="nobody active"):
        group_revoke_permission(
            actor=roleadmin, group=role("Admins"), permission=perm("manage_roles")
        )


def test_two_admins_removing_each_other_leave_one_manager(roleadmin, other_admin):
    # Both loaded their pages (and permissions) before either acted.
    roleadmin.get_all_permissions()
    other_admin.get_all_permissions()
    membership_remove(actor=roleadmin, group=role("Admins"), user=other_admin)
    # The second one acts on stale permissions: checked again under the lock, refused.
    with pytest.raises(RoleGuardError, match="no longer manage roles"):
        membership_remove(actor=other_admin, group=role("Admins"), user=roleadmin)
    assert list(role_managers()) == [roleadmin]


def test_last_manager_rule_holds_in_either_order(roleadmin, other_admin):
    membership_remove(actor=other_admin, group=role("Admins"), user=roleadmin)
    with pytest.raises(RoleGuardError):
        membership_remove(actor=roleadmin, group=role("Admins"), user=other_admin)
    assert list(role_managers()) == [other_admin]


# --- All or nothing, with the audit trail ------------------------------------------------------


def test_a_refused_change_writes_no_audit_row_and_changes_nothing(roleadmin):
    before = AuditEntry.objects.count()
    editors = role("Editors")
    with pytest.raises(RoleGuardError):
        group_set_permissions(
            actor=roleadmin,
            group=editors,
            permissions=[perm("view_book"), perm("can_publish_book"), perm("add_user")],
        )
    assert AuditEntry.objects.count() == before
    assert set(editors.permissions.values_list("codename", flat=True)) == {
        "view_book",
        "add_book",
        "change_book",
    }


def test_audit_rows_roll_back_with_their_change(roleadmin):
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        group_rename(actor=roleadmin, group=role("Viewers"), name="Readers")
        assert AuditEntry.objects.count() == before + 1
        raise RuntimeError("the request failed after the change")
    assert AuditEntry.objects.count() == before
    assert Group.objects.filter(name="Viewers").exists()


def test_every_kind_of_change_is_audited(roleadmin):
    member = UserFactory(username="newbie")
    group = group_create(actor=roleadmin, name="Reviewers", ip="198.51.100.1")
    group_grant_permission(actor=roleadmin, group=group, permission=perm("view_book"))
    group_revoke_permission(actor=roleadmin, group=group, permission=perm("view_book"))
    membership_add(actor=roleadmin, group=group, user=member)
    membership_remove(actor=roleadmin, group=group, user=member)
    group_rename(actor=roleadmin, group=group, name="Critics")
    assert group_delete(actor=roleadmin, group=group) == 0
    actions = [
        e.action for e in AuditEntry.objects.filter(actor_username="roleadmin").order_by("id")
    ]
    assert actions == [
        "group_created",
        "permission_granted",
        "permission_revoked",
        "member_added",
        "member_removed",
        "group_renamed",
        "group_deleted",
    ]
    renamed = AuditEntry.objects.get(action="group_renamed")
    assert (renamed.before, renamed.after) == ({"name": "Reviewers"}, {"name": "Critics"})
    assert AuditEntry.objects.get(action="member_added").target == "newbie"
    assert AuditEntry.objects.get(
        action="group_created", actor_username="roleadmin"
    ).ip_address == ("198.51.100.1")


def test_set_groups_applies_the_difference(roleadmin):
    person = in_role("Viewers")
    added, removed = user_set_groups(actor=roleadmin, user=person, groups=[role("Editors")])
    assert (added, removed) == (1, 1)
    assert list(person.groups.values_list("name", flat=True)) == ["Editors"]


def test_audit_trail_is_append_only(roleadmin):
    group_create(actor=roleadmin, name="Temp")
    entry = AuditEntry.objects.latest("id")
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.update(group_name="x")


def test_a_column_toggle_grants_the_column_then_revokes_it_and_leaves_the_rest():
    from apps.roles.grid import column_permissions, permission_grid
    from apps.roles.services import group_toggle_column

    boss = SuperuserFactory(username="boss")
    viewers = role("Viewers")
    viewers.permissions.add(perm("can_publish_book"))  # another column: must stay as it is
    column = {c.permission.pk for c in column_permissions(permission_grid(viewers, boss), "add")}
    audited = AuditEntry.objects.count()

    granted, revoked = group_toggle_column(actor=boss, group=viewers, action="add")
    held = set(viewers.permissions.values_list("pk", flat=True))
    assert (granted, revoked) == (len(column), 0) and column <= held
    assert perm("can_publish_book").pk in held
    assert AuditEntry.objects.count() == audited + granted  # one row per permission

    assert group_toggle_column(actor=boss, group=viewers, action="add") == (0, len(column))
    held = set(viewers.permissions.values_list("pk", flat=True))
    assert not column & held
    assert {perm("view_book").pk, perm("can_publish_book").pk} <= held

    with pytest.raises(BadRequest, match="Unknown column"):
        group_toggle_column(actor=boss, group=viewers, action="nonsense")
