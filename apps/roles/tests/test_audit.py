"""The audit trail in words: each kind of entry as a sentence, before → after as lists."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.tests.support import in_role
from apps.roles.audit import Change, NamedList, Side, with_permission_names
from apps.roles.models import AuditEntry
from apps.roles.services import (
    group_create,
    group_delete,
    group_grant_permission,
    group_rename,
    group_revoke_permission,
    membership_add,
    membership_remove,
)
from apps.roles.tests.helpers import perm, role

pytestmark = pytest.mark.django_db


@pytest.fixture
def roleadmin():
    return in_role("Admins", username="roleadmin")


def latest() -> AuditEntry:
    return with_permission_names([AuditEntry.objects.latest("id")])[0]


# --- Sentences -----------------------------------------------------------------------------------


def test_a_grant_names_the_permission_by_its_human_name(roleadmin):
    group_grant_permission(
        actor=roleadmin, group=role("Editors"), permission=perm("can_publish_book")
    )
    entry = latest()
    assert entry.sentence == "roleadmin granted “Can publish and unpublish books” to Editors"
    assert entry.target_label == "Can publish and unpublish books"


def test_a_revocation_says_from_which_role(roleadmin):
    group_revoke_permission(actor=roleadmin, group=role("Editors"), permission=perm("add_book"))
    assert latest().sentence == "roleadmin revoked “Can add book” from Editors"


def test_member_added_and_removed(roleadmin):
    person = in_role("Viewers", username="maxmember")
    membership_add(actor=roleadmin, group=role("Members"), user=person)
    assert latest().sentence == "roleadmin added maxmember to Members"
    assert latest().target_label == "maxmember"
    membership_remove(actor=roleadmin, group=role("Members"), user=person)
    assert latest().sentence == "roleadmin removed maxmember from Members"


def test_created_renamed_and_deleted_roles(roleadmin):
    group = group_create(actor=roleadmin, name="Staff")
    assert latest().sentence == "roleadmin created the role Staff"
    group_rename(actor=roleadmin, group=group, name="Temp")
    assert latest().sentence == "roleadmin renamed the role Staff to Temp"
    for index in range(3):
        in_role("Temp", username=f"temp{index}")
    for codename in ("view_book", "add_book", "change_book", "delete_book", "can_publish_book"):
        group.permissions.add(perm(codename))
    group_delete(actor=roleadmin, group=group)
    assert latest().sentence == (
        "roleadmin deleted the role Temp (it had 3 members and 5 permissions)"
    )


def test_singular_counts_read_as_singular(roleadmin):
    group = group_create(actor=roleadmin, name="Solo")
    in_role("Solo", username="only")
    group.permissions.add(perm("view_book"))
    group_delete(actor=roleadmin, group=group)
    assert latest().sentence.endswith("(it had 1 member and 1 permission)")


def test_the_migrate_bootstrap_entry_counts_its_permissions():
    # As apps/roles/sync.py writes it when migrate creates a declared role.
    AuditEntry.objects.create(
        action=AuditEntry.Action.GROUP_CREATED,
        actor_username="migrate",
        group_name="Admins",
        after={"name": "Admins", "permissions": ["bookshelf.view_book", "roles.view_audit"]},
    )
    entry = latest()
    assert entry.sentence == "migrate created the role Admins with 2 permissions"
    assert entry.origin == "none (a server command)"


def test_the_sentence_marks_what_to_emphasise(roleadmin):
    group_grant_permission(
        actor=roleadmin, group=role("Editors"), permission=perm("can_publish_book")
    )
    parts = [(part.text, part.emphasis) for part in latest().sentence_parts]
    assert parts == [
        ("roleadmin", "strong"),
        (" granted “", ""),
        ("Can publish and unpublish books", "em"),
        ("” to ", ""),
        ("Editors", "strong"),
    ]


def test_without_the_page_lookup_a_permission_shows_as_its_code(roleadmin):
    group_grant_permission(
        actor=roleadmin, group=role("Editors"), permission=perm("can_publish_book")
    )
    entry = AuditEntry.objects.latest("id")
    assert entry.sentence == "roleadmin granted “bookshelf.can_publish_book” to Editors"


def test_a_permission_that_no_longer_exists_shows_as_its_code():
    AuditEntry.objects.create(
        action=AuditEntry.Action.PERMISSION_REVOKED,
        actor_username="setup_roles",
        group_name="Editors",
        target="gone.can_fly",
    )
    assert latest().sentence == "setup_roles revoked “gone.can_fly” from Editors"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["not", "a", "dict"], "text"),
        ({"name": 5, "members": "x"}, {"permissions": [1, None]}),
        (7, None),
    ],
)
def test_odd_stored_values_still_read_as_words(before, after):
    entry = AuditEntry.objects.create(
        action=AuditEntry.Action.GROUP_DELETED,
        actor_username="",
        group_name="Odd",
        before=before,
        after=after,
    )
    entry = with_permission_names([entry])[0]
    assert entry.sentence == "Someone deleted the role Odd"
    assert "{" not in str(entry.change)  # no raw dict in either side


def test_an_unknown_action_is_still_a_sentence():
    entry = AuditEntry(action="something_new", actor_username="ada", group_name="Editors")
    assert entry.sentence == "ada: something_new, role Editors"


# --- Before → after ------------------------------------------------------------------------------


def test_a_deleted_role_lists_its_members_and_permissions_by_name(roleadmin):
    group = group_create(actor=roleadmin, name="Temp")
    in_role("Temp", username="bob")
    in_role("Temp", username="alice")
    group.permissions.add(perm("view_book"), perm("can_publish_book"))
    group_delete(actor=roleadmin, group=group)
    change = latest().change
    assert change.before.summary == "Temp"
    assert set(change.before.lists[0].items) == {"alice", "bob"}
    assert change.before.lists[0].label == "2 members"
    assert change.before.lists[1] == NamedList(
        "2 permissions", ("Can publish and unpublish books", "Can view book")
    )
    assert change.after == Side("deleted")


def test_a_rename_shows_old_and_new_name(roleadmin):
    group_rename(
        actor=roleadmin, group=group_create(actor=roleadmin, name="Staff"), name="Editors2"
    )
    assert latest().change == Change(Side("Staff"), Side("Editors2"))


def test_switches_read_as_words(roleadmin):
    group_grant_permission(
        actor=roleadmin, group=role("Editors"), permission=perm("can_publish_book")
    )
    assert latest().change == Change(Side("not granted"), Side("granted"))
    group_revoke_permission(
        actor=roleadmin, group=role("Editors"), permission=perm("can_publish_book")
    )
    assert latest().change == Change(Side("granted"), Side("not granted"))
    person = in_role("Viewers", username="maxmember")
    membership_add(actor=roleadmin, group=role("Editors"), user=person)
    assert latest().change == Change(Side("not a member"), Side("member"))


def test_a_created_role_starts_from_nothing(roleadmin):
    group_create(actor=roleadmin, name="Staff")
    assert latest().change == Change(Side("no such role"), Side("Staff"))


# --- Target and origin ---------------------------------------------------------------------------


def test_a_role_change_targets_the_role_and_keeps_the_client_ip(roleadmin):
    group_create(actor=roleadmin, name="Staff", ip="2001:db8::1")
    entry = latest()
    assert (entry.target_label, entry.origin) == ("Staff", "2001:db8::1")


def test_permission_names_for_many_entries_cost_one_query(roleadmin):
    editors = role("Editors")
    for codename in ("delete_book", "can_publish_book", "can_archive_book", "can_feature_book"):
        group_grant_permission(actor=roleadmin, group=editors, permission=perm(codename))
    group = Group.objects.create(name="Temp")
    group.permissions.add(perm("can_set_premium"))
    group_delete(actor=roleadmin, group=group)
    entries = list(AuditEntry.objects.all())
    with CaptureQueriesContext(connection) as queries:
        named = with_permission_names(entries)
        sentences = [entry.sentence for entry in named]
        lists = [entry.change.lists for entry in named]
    assert len(queries) == 1
    assert "roleadmin granted “Can archive and restore books” to Editors" in sentences
    assert NamedList("1 permission", ("Can mark books as premium content",)) in lists[0]


def test_entries_naming_no_permission_need_no_query(roleadmin):
    group_create(actor=roleadmin, name="Staff")
    entries = list(AuditEntry.objects.filter(group_name="Staff"))
    with CaptureQueriesContext(connection) as queries:
        with_permission_names(entries)
    assert len(queries) == 0
