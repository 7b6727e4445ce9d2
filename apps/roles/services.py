"""Changes to roles (groups): guarded against privilege escalation, audited, all or nothing.

Who may make which change is ``policy``; every function here enforces it. Every function
locks the groups first, so concurrent role changes run one after the
other and the "somebody can still manage roles" check cannot be raced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import BadRequest
from django.db import transaction

from apps.accounts.sessions import end_all_sessions
from apps.accounts.two_factor import must_use_two_factor
from apps.core.policy import PolicyDenied, enforce
from apps.core.security import log_event

from .models import AuditEntry
from .policy import (
    why_actor_no_longer_manages,
    why_cannot_change_role,
    why_cannot_change_roles_of,
    why_cannot_grant,
    why_refused_as_nobody_would_manage,
)
from .sync import permission_name

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class RoleGuardError(PolicyDenied):
    """A refused role change; the message is the rule's sentence (``policy``)."""


def _enforce(refusal: StrOrPromise) -> None:
    enforce(refusal, RoleGuardError)


# --- Plumbing -------------------------------------------------------------------------------


def _lock_roles(actor: Any) -> None:
    """Serialise role changes (groups are few: lock them all, in a fixed order)."""
    list(Group.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    _enforce(why_actor_no_longer_manages(actor))


def _audit(
    *,
    action: str,
    actor: Any,
    group: Group,
    ip: str | None,
    target: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    log_event(
        "role_change",
        None,
        actor=actor.get_username(),
        ip=ip,
        action=action,
        role=group.name,
        target=target,
    )
    return AuditEntry.objects.create(
        action=action,
        actor_id=actor.pk,
        actor_username=actor.get_username(),
        group_id=group.pk,
        group_name=group.name,
        target=target,
        before=before,
        after=after,
        ip_address=ip,
    )


# --- Groups ----------------------------------------------------------------------------------


@transaction.atomic
def group_create(*, actor: Any, name: str, ip: str | None = None) -> Group:
    """Create an empty role."""
    _lock_roles(actor)
    group = Group.objects.create(name=name)
    _audit(
        action=AuditEntry.Action.GROUP_CREATED,
        actor=actor,
        group=group,
        ip=ip,
        after={"name": name},
    )
    return group


@transaction.atomic
def group_rename(*, actor: Any, group: Group, name: str, ip: str | None = None) -> Group:
    _lock_roles(actor)
    _enforce(why_cannot_change_role(actor, group))
    before = group.name
    group.name = name
    group.save(update_fields=["name"])
    _audit(
        action=AuditEntry.Action.GROUP_RENAMED,
        actor=actor,
        group=group,
        ip=ip,
        before={"name": before},
        after={"name": name},
    )
    return group


@transaction.atomic
def group_delete(*, actor: Any, group: Group, ip: str | None = None) -> int:
    """Delete a role; returns how many members lost it."""
    _lock_roles(actor)
    _enforce(why_cannot_change_role(actor, group))
    members = list(group.user_set.values_list("username", flat=True))
    permissions = sorted(
        permission_name(p) for p in group.permissions.select_related("content_type")
    )
    _audit(
        action=AuditEntry.Action.GROUP_DELETED,
        actor=actor,
        group=group,
        ip=ip,
        before={"name": group.name, "members": members, "permissions": permissions},
    )
    group.delete()
    _enforce(why_refused_as_nobody_would_manage())
    return len(members)


# --- Permissions of a group -----------------------------------------------------------------


@transaction.atomic
def group_grant_permission(
    *, actor: Any, group: Group, permission: Permission, ip: str | None = None
) -> bool:
    """Grant one permission; returns False when the group already had it."""
    return _set_permission(actor=actor, group=group, permission=permission, granted=True, ip=ip)


@transaction.atomic
def group_revoke_permission(
    *, actor: Any, group: Group, permission: Permission, ip: str | None = None
) -> bool:
    """Revoke one permission; returns False when the group did not have it."""
    return _set_permission(actor=actor, group=group, permission=permission, granted=False, ip=ip)


def _set_permission(
    *, actor: Any, group: Group, permission: Permission, granted: bool, ip: str | None
) -> bool:
    _lock_roles(actor)
    return _apply_permission_changes(
        actor=actor,
        group=group,
        grant=[permission] if granted else [],
        revoke=[] if granted else [permission],
        ip=ip,
    )


@transaction.atomic
def group_set_permissions(
    *, actor: Any, group: Group, permissions: Iterable[Permission], ip: str | None = None
) -> tuple[int, int]:
    """Make the group hold exactly ``permissions``; returns (granted, revoked) counts."""
    _lock_roles(actor)
    wanted = {p.pk: p for p in permissions}
    held = {p.pk: p for p in group.permissions.all()}
    grant = [p for pk, p in wanted.items() if pk not in held]
    revoke = [p for pk, p in held.items() if pk not in wanted]
    _apply_permission_changes(actor=actor, group=group, grant=grant, revoke=revoke, ip=ip)
    return len(grant), len(revoke)


@transaction.atomic
def group_toggle_column(
    *, actor: Any, group: Group, action: str, ip: str | None = None
) -> tuple[int, int]:
    """A column heading of the permission grid: grant every permission of the column that
    the actor may change, or revoke them all when the group already holds all of them.
    Returns (granted, revoked) counts.

    Decided under the roles lock and applied as a change to that column only, so a change
    made meanwhile elsewhere in the grid is kept. (The view used to work out the group's
    whole new set before taking the lock and then set exactly that, undoing a concurrent
    change to another column.)
    """
    from .grid import DEFAULT_ACTIONS, column_permissions, permission_grid  # grid imports us

    if action not in DEFAULT_ACTIONS:
        raise BadRequest("Unknown column.")  # not a column the grid offers
    _lock_roles(actor)
    grid = permission_grid(group, actor)
    column = [c.permission for c in column_permissions(grid, action) if not c.disabled_reason]
    held = set(group.permissions.values_list("pk", flat=True))
    if column and all(permission.pk in held for permission in column):
        grant, revoke = [], column
    else:
        grant, revoke = [p for p in column if p.pk not in held], []
    _apply_permission_changes(actor=actor, group=group, grant=grant, revoke=revoke, ip=ip)
    return len(grant), len(revoke)


@dataclass(frozen=True)
class ColumnToggle:
    """What a column heading changed, and what its Undo puts back."""

    granted: int
    revoked: int
    # The column's permissions the group held before, read under the lock: what
    # ``group_restore_column`` restores.
    before: list[int]


@transaction.atomic
def group_toggle_column_with_undo(
    *, actor: Any, group: Group, action: str, ip: str | None = None
) -> ColumnToggle:
    """``group_toggle_column``, answering also with the column as it was before (for the
    toast's Undo), read under the same lock so no change slips in between."""
    _lock_roles(actor)
    column = _column(group=group, actor=actor, action=action)
    before = column.keys() & set(group.permissions.values_list("pk", flat=True))
    granted, revoked = group_toggle_column(actor=actor, group=group, action=action, ip=ip)
    return ColumnToggle(granted, revoked, sorted(before))


@transaction.atomic
def group_restore_column(
    *,
    actor: Any,
    group: Group,
    action: str,
    permissions: Iterable[Permission],
    ip: str | None = None,
) -> tuple[int, int]:
    """The Undo of a column heading: of the column ``action``, the group holds exactly
    ``permissions`` afterwards; the other columns are left as they are. Refused and audited
    like every other change (``_apply_permission_changes``). Returns (granted, revoked).

    ``permissions`` outside the column are a crafted or stale form: a 400, not a guess.
    """
    _lock_roles(actor)
    column = _column(group=group, actor=actor, action=action)
    wanted = {p.pk for p in permissions}
    if not wanted <= column.keys():
        raise BadRequest("Not a permission of this column.")
    held = set(group.permissions.values_list("pk", flat=True))
    grant = [p for pk, p in column.items() if pk in wanted and pk not in held]
    revoke = [p for pk, p in column.items() if pk not in wanted and pk in held]
    _apply_permission_changes(actor=actor, group=group, grant=grant, revoke=revoke, ip=ip)
    return len(grant), len(revoke)


def _column(*, group: Group, actor: Any, action: str) -> dict[int, Permission]:
    """Every permission of the grid's column ``action``, by id (the ones the actor may not
    change included: the rules, not this list, decide what may change)."""
    from .grid import DEFAULT_ACTIONS, column_permissions, permission_grid

    if action not in DEFAULT_ACTIONS:
        raise BadRequest("Unknown column.")  # not a column the grid offers
    cells = column_permissions(permission_grid(group, actor), action)
    return {cell.permission.pk: cell.permission for cell in cells}


def _apply_permission_changes(
    *, actor: Any, group: Group, grant: list[Permission], revoke: list[Permission], ip: str | None
) -> bool:
    held = set(group.permissions.values_list("pk", flat=True))
    grant_ids = {p.pk for p in grant} - held
    revoke_ids = {p.pk for p in revoke} & held
    if not grant_ids and not revoke_ids:
        return False
    # One query, with the content types permission_name() reads.
    changed = list(
        Permission.objects.filter(pk__in=grant_ids | revoke_ids).select_related("content_type")
    )
    granted = [p for p in changed if p.pk in grant_ids]
    revoked = [p for p in changed if p.pk in revoke_ids]
    _enforce(why_cannot_change_role(actor, group))
    for permission in granted:
        _enforce(why_cannot_grant(actor, permission))
    group.permissions.add(*granted)
    group.permissions.remove(*revoked)
    for permission in granted:
        _audit_switch(
            AuditEntry.Action.PERMISSION_GRANTED,
            "granted",
            True,
            actor=actor,
            group=group,
            ip=ip,
            target=permission_name(permission),
        )
    for permission in revoked:
        _audit_switch(
            AuditEntry.Action.PERMISSION_REVOKED,
            "granted",
            False,
            actor=actor,
            group=group,
            ip=ip,
            target=permission_name(permission),
        )
    if revoked:
        _enforce(why_refused_as_nobody_would_manage())
    return True


def _audit_switch(action: str, key: str, now_on: bool, **fields: Any) -> None:
    """An audit row for something switched on or off (a permission, a membership)."""
    _audit(action=action, before={key: not now_on}, after={key: now_on}, **fields)


# --- Members ---------------------------------------------------------------------------------


@transaction.atomic
def membership_add(*, actor: Any, group: Group, user: Any, ip: str | None = None) -> bool:
    """Add ``user`` to the role; returns False when they already had it."""
    _lock_roles(actor)
    return _apply_membership(actor=actor, user=user, add=[group], remove=[], ip=ip)


@transaction.atomic
def membership_remove(*, actor: Any, group: Group, user: Any, ip: str | None = None) -> bool:
    """Remove ``user`` from the role; returns False when they did not have it."""
    _lock_roles(actor)
    return _apply_membership(actor=actor, user=user, add=[], remove=[group], ip=ip)


@transaction.atomic
def user_set_groups(
    *, actor: Any, user: Any, groups: Iterable[Group], ip: str | None = None
) -> tuple[int, int]:
    """Give ``user`` exactly these roles; returns (added, removed) counts."""
    _lock_roles(actor)
    wanted = {g.pk: g for g in groups}
    held = {g.pk: g for g in user.groups.all()}
    add = [g for pk, g in wanted.items() if pk not in held]
    remove = [g for pk, g in held.items() if pk not in wanted]
    _apply_membership(actor=actor, user=user, add=add, remove=remove, ip=ip)
    return len(add), len(remove)


def _fresh(user: Any) -> Any:
    """The user without the permissions cached on the object passed in."""
    return type(user)._default_manager.get(pk=user.pk)


def _apply_membership(
    *, actor: Any, user: Any, add: list[Group], remove: list[Group], ip: str | None
) -> bool:
    held = set(user.groups.values_list("pk", flat=True))
    add = [g for g in add if g.pk not in held]
    remove = [g for g in remove if g.pk in held]
    if not add and not remove:
        return False
    _enforce(why_cannot_change_roles_of(actor, user))
    for group in [*add, *remove]:
        _enforce(why_cannot_change_role(actor, group))
    was_privileged = bool(remove) and must_use_two_factor(_fresh(user))
    user.groups.add(*add)
    user.groups.remove(*remove)
    if was_privileged and not must_use_two_factor(_fresh(user)):
        # Their last privileged role is gone: so are the sessions that held its power (a
        # fresh sudo mode, a page of the roles grid open). They sign in again as who they
        # are now. After the commit, so that a refused change signs nobody out.
        transaction.on_commit(partial(end_all_sessions, user))
    username = user.get_username()
    for group in add:
        _audit_switch(
            AuditEntry.Action.MEMBER_ADDED,
            "member",
            True,
            actor=actor,
            group=group,
            ip=ip,
            target=username,
        )
    for group in remove:
        _audit_switch(
            AuditEntry.Action.MEMBER_REMOVED,
            "member",
            False,
            actor=actor,
            group=group,
            ip=ip,
            target=username,
        )
    if remove:
        _enforce(why_refused_as_nobody_would_manage())
    return True
