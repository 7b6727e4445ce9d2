from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from apps.roles.definitions import ROLES, ROLES_BY_NAME
from apps.roles.matrix import roles_matrix_markdown
from apps.roles.models import AuditEntry
from apps.roles.sync import permission_name

pytestmark = pytest.mark.django_db


def held(name: str) -> set[str]:
    return {
        permission_name(p)
        for p in Group.objects.get(name=name).permissions.select_related("content_type")
    }


def run(*args: str, capsys) -> str:
    call_command("setup_roles", *args)
    return capsys.readouterr().out


def test_a_fresh_database_has_every_role_with_its_permissions():
    # Created after migrate (post_migrate), like every test database.
    for role in ROLES:
        assert held(role.name) == set(role.permissions)


def test_setup_roles_recreates_what_is_missing_and_says_so(capsys):
    Group.objects.filter(name="Librarians").delete()
    Group.objects.get(name="Editors").permissions.remove(
        Permission.objects.get(codename="add_book")
    )
    out = run(capsys=capsys)
    assert "Librarians: create the group" in out
    assert "Editors: add bookshelf.add_book" in out
    assert "Viewers: left 1 permission(s) as they are" in out
    assert held("Librarians") == set(ROLES_BY_NAME["Librarians"].permissions)
    assert held("Editors") == set(ROLES_BY_NAME["Editors"].permissions)


def test_setup_roles_is_idempotent(capsys):
    run(capsys=capsys)
    audit_rows = AuditEntry.objects.count()
    out = run(capsys=capsys)
    assert "0 role(s) changed." in out
    assert AuditEntry.objects.count() == audit_rows
    for role in ROLES:
        assert held(role.name) == set(role.permissions)


def test_setup_groups_is_the_guides_name_for_setup_roles(capsys):
    """Readers of the permissions guide type `setup_groups`: same options, same work."""
    Group.objects.filter(name="Librarians").delete()
    call_command("setup_groups", "--dry-run")
    dry = capsys.readouterr().out
    call_command("setup_roles", "--dry-run")
    assert dry == capsys.readouterr().out
    assert "Librarians: would create the group" in dry
    assert not Group.objects.filter(name="Librarians").exists()
    call_command("setup_groups", "--prune")
    assert "Librarians: create the group" in capsys.readouterr().out
    assert held("Librarians") == set(ROLES_BY_NAME["Librarians"].permissions)


def test_dry_run_reports_without_writing(capsys):
    Group.objects.filter(name="Viewers").delete()
    out = run("--dry-run", capsys=capsys)
    assert "Viewers: would create the group" in out
    assert "Viewers: would add bookshelf.view_book" in out
    assert "1 role(s) would change." in out
    assert not Group.objects.filter(name="Viewers").exists()


def test_undeclared_permissions_stay_unless_pruned(capsys):
    extra = Permission.objects.get(codename="delete_book")
    Group.objects.get(name="Editors").permissions.add(extra)
    out = run(capsys=capsys)
    assert "Editors: keeps bookshelf.delete_book, which the module does not grant" in out
    assert "bookshelf.delete_book" in held("Editors")
    out = run("--dry-run", "--prune", capsys=capsys)
    assert "Editors: would remove bookshelf.delete_book" in out
    assert "bookshelf.delete_book" in held("Editors")
    out = run("--prune", capsys=capsys)
    assert "Editors: remove bookshelf.delete_book" in out
    assert held("Editors") == set(ROLES_BY_NAME["Editors"].permissions)
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.PERMISSION_REVOKED, group_name="Editors"
    ).exists()


def test_an_unknown_codename_is_an_error_and_nothing_is_written(monkeypatch, capsys):
    from apps.roles import definitions, sync

    broken = (*ROLES, definitions.Role("Typos", "", ("bookshelf.can_pubish_book",)))
    monkeypatch.setattr(sync, "ROLES", broken)
    Group.objects.filter(name="Viewers").delete()
    with pytest.raises(CommandError, match="bookshelf.can_pubish_book"):
        call_command("setup_roles")
    assert not Group.objects.filter(name__in=["Typos", "Viewers"]).exists()


def test_docs_permissions_md_matches_roles_matrix(capsys):
    call_command("roles_matrix")
    printed = capsys.readouterr().out
    assert printed == roles_matrix_markdown()
    document = Path(settings.BASE_DIR, "docs", "permissions.md").read_text(encoding="utf-8")
    assert document == printed, (
        "docs/permissions.md is out of date: "
        "run `python manage.py roles_matrix > docs/permissions.md`"
    )


def test_matrix_marks_each_role_and_permission():
    markdown = roles_matrix_markdown()
    assert (
        "| Permission | Viewers | Members | Editors | Publishers | Librarians | Admins |"
        in markdown
    )
    assert "| `bookshelf.can_publish_book` | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ |" in markdown
    assert "| `roles.manage_roles` | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ |" in markdown


def test_readme_shows_the_current_matrix():
    readme = Path(settings.BASE_DIR, "README.md").read_text(encoding="utf-8")
    table: list[str] = []  # the first table of the document: role × permission
    for line in roles_matrix_markdown().splitlines():
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    assert "\n".join(table) in readme, "README.md's permission matrix is out of date"
