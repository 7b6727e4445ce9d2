"""The roles rules (``apps/roles/policy.py``): the page and the server give the same answer.

For every checkbox of the permission grid, every member and suggestion, and every role on a
person's page, as a role admin, an admin with fewer permissions, and a superuser: a control
that is enabled is accepted by the server, a disabled one is refused with exactly the
sentence shown next to it, and ``user.has_perm("roles.manage_roles", obj)`` agrees.
"""

from __future__ import annotations

import html
import re
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from apps.accounts.tests.factories import SuperuserFactory, force_login_verified
from apps.core.tests.support import htmx, in_role, text, toasts
from apps.roles import policy
from apps.roles.grid import permission_grid

from .helpers import perm, role

pytestmark = pytest.mark.django_db

HTMX = htmx()


def actors() -> dict[str, object]:
    """A member of Admins, an admin who may manage roles but holds little else, and a
    superuser (who passes the escalation rules but not the self rule's page logic)."""
    limited = Group.objects.create(name="Role managers")
    limited.permissions.add(perm("manage_roles"), perm("view_book"), perm("add_book"))
    return {
        "Admins member": in_role("Admins", username="roleadmin"),
        "limited admin": in_role("Role managers", username="limited"),
        "superuser": SuperuserFactory(username="root"),
    }


def setup_groups() -> list[Group]:
    staff = Group.objects.create(name="User managers")
    staff.permissions.add(perm("add_user"))
    return [role("Editors"), role("Viewers"), staff]


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def refusal(response) -> str:
    """The error toast a refused htmx change carries (in HX-Trigger, with the section as it
    really is in the body)."""
    errors = [m["message"] for m in toasts(response) if m["level"] in {"danger", "error"}]
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert len(errors) == 1, errors
    return errors[0]


def checkbox(page: str, permission: Permission) -> tuple[bool, bool, str]:
    """(checked, disabled, the reason shown) for the permission's checkbox on the page."""
    tag = re.search(rf'<input[^>]*id="perm-{permission.pk}"[^>]*>', page, re.S).group(0)
    why = re.search(rf'id="perm-{permission.pk}-why">([^<]*)<', page)
    return " checked" in tag, " disabled" in tag, html.unescape(why.group(1)) if why else ""


def test_every_grid_checkbox_is_refused_exactly_when_it_is_disabled_and_with_its_reason(client):
    groups = setup_groups()
    everyone = actors()
    toggled = 0
    for who, actor in everyone.items():
        force_login_verified(client, actor)
        for group in groups:
            url = reverse("roles:group-detail", args=[group.pk])
            page = html.unescape(client.get(url).content.decode())
            grid = permission_grid(group, fresh(actor))
            cells = [
                cell
                for app in grid.apps
                for row in app.rows
                for cell in [*filter(None, row.cells.values()), *row.custom]
            ]
            assert cells, who
            for cell in cells:
                permission = cell.permission
                checked, disabled, shown = checkbox(page, permission)
                label = f"{who} / {group.name} / {permission.codename}"
                assert disabled == bool(cell.disabled_reason), label
                assert shown == cell.disabled_reason, label
                # Tick an unticked box, untick a ticked one, as the checkbox's change does.
                data = {} if checked else {"permissions": str(permission.pk)}
                response = client.post(
                    reverse("roles:group-permission-toggle", args=[group.pk, permission.pk]),
                    data,
                    **HTMX,
                )
                now_held = group.permissions.filter(pk=permission.pk).exists()
                if disabled:
                    assert refusal(response) == shown, label
                    assert now_held == checked, label
                else:
                    assert response.status_code == HTTPStatus.OK, label
                    assert now_held != checked, label
                    toggled += 1
                    # Put it back, so every box is tried against the same starting grid.
                    if checked:
                        group.permissions.add(permission)
                    else:
                        group.permissions.remove(permission)
                assert fresh(actor).has_perm("roles.manage_roles", group) == (
                    not grid.locked_reason
                ), label
    assert toggled > 100  # most boxes were really tried both ways


def test_members_and_suggestions_show_the_self_rule_and_the_server_enforces_it(client):
    editors = role("Editors")
    for who, actor in actors().items():
        actor.groups.add(editors)
        force_login_verified(client, actor)
        page = text(client.get(reverse("roles:group-detail", args=[editors.pk])))
        reason = str(policy.why_cannot_change_roles_of(fresh(actor), actor))
        remove = client.post(reverse("roles:member-remove", args=[editors.pk, actor.pk]), **HTMX)
        if reason:
            assert reason in page, who
            assert refusal(remove) == reason, who
            assert actor.groups.filter(pk=editors.pk).exists(), who
            assert not fresh(actor).has_perm("roles.manage_roles", actor), who
        else:
            assert remove.status_code == HTTPStatus.OK, who
            assert not actor.groups.filter(pk=editors.pk).exists(), who

        # Adding: the suggestion shows the same sentence instead of Add, and a crafted
        # post is refused with it.
        actor.groups.remove(editors)
        suggestions = text(
            client.get(reverse("roles:member-search", args=[editors.pk]), {"q": actor.username})
        )
        add = client.post(
            reverse("roles:member-add", args=[editors.pk]), {"user": actor.pk}, **HTMX
        )
        if reason:
            assert reason in suggestions, who
            assert f'name="user" value="{actor.pk}"' not in suggestions, who
            assert refusal(add) == reason, who
            assert not actor.groups.filter(pk=editors.pk).exists(), who
        else:
            assert f'name="user" value="{actor.pk}"' in suggestions, who
            assert add.status_code == HTTPStatus.OK, who


def test_each_role_on_a_persons_page_is_refused_exactly_when_disabled(client):
    groups = setup_groups()
    for who, actor in actors().items():
        force_login_verified(client, actor)
        someone = in_role("Viewers")
        for person in (someone, actor):
            url = reverse("roles:user-detail", args=[person.pk])
            page = text(client.get(url))
            for group in [*groups, role("Admins")]:
                tag = re.search(rf'<input[^>]*id="role-{group.pk}"[^>]*>', page, re.S).group(0)
                disabled = " disabled" in tag
                why = re.search(rf'id="role-{group.pk}-why">([^<]*)<', page)
                shown = why.group(1) if why else ""
                expected = policy.why_cannot_change_roles_of(
                    fresh(actor), person
                ) or policy.why_cannot_change_role(fresh(actor), group)
                label = f"{who} / {person.username} / {group.name}"
                assert shown == str(expected), label
                assert disabled == bool(expected), label
                held = list(person.groups.values_list("pk", flat=True))
                wanted = [pk for pk in held if pk != group.pk]
                if group.pk not in held:
                    wanted.append(group.pk)
                response = client.post(url, {"groups": wanted}, **HTMX)
                now = set(person.groups.values_list("pk", flat=True))
                if expected:
                    assert refusal(response) == shown, label
                    assert now == set(held), label
                else:
                    assert response.status_code == HTTPStatus.OK, label
                    assert now == set(wanted), label
                    person.groups.set(held)  # back to the start for the next role


def test_the_pages_themselves_refuse_with_the_rules_sentence(client):
    editor = in_role("Editors")
    force_login_verified(client, editor)
    roles_page = client.get(reverse("roles:group-list"))
    assert roles_page.status_code == HTTPStatus.FORBIDDEN
    assert str(policy.why_cannot_manage_roles(editor)) in text(roles_page)
    audit = client.get(reverse("roles:audit"))
    assert audit.status_code == HTTPStatus.FORBIDDEN
    assert str(policy.why_cannot_read_audit(editor)) in text(audit)
    assert not editor.has_perm("roles.manage_roles")


def test_docs_list_every_rule_of_both_policy_modules_with_its_summary():
    from apps.bookshelf import policy as book_policy
    from apps.roles.matrix import rules_markdown

    listed = rules_markdown()
    for module in (book_policy, policy):
        for name in vars(module):
            if name.startswith("why_"):
                line = next(line for line in listed.splitlines() if f"`{name}`:" in line)
                assert len(line.split(":", 1)[1].strip()) > 10, line
