"""Bring the groups in line with `definitions.ROLES` (the `setup_roles` command)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q

from .definitions import ROLES, Role
from .models import AuditEntry


class UnknownPermissionError(Exception):
    """A role names a permission that does not exist (a typo, or a missing migration)."""


@dataclass
class RolePlan:
    """What syncing one role changes (or, in a dry run, would change)."""

    role: str
    created: bool = False
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # with --prune
    undeclared: list[str] = field(default_factory=list)  # held, not declared, left alone

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added or self.removed)


def permission_name(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def resolve_permissions(
    names: Iterable[str], using: str = DEFAULT_DB_ALIAS
) -> dict[str, Permission]:
    """Map "app_label.codename" strings to Permission rows in one query; raise for unknowns."""
    wanted = set(names)
    condition = Q()
    for name in wanted:
        app_label, _, codename = name.partition(".")
        condition |= Q(content_type__app_label=app_label, codename=codename)
    found = (
        {
            permission_name(p): p
            for p in Permission.objects.using(using)
            .filter(condition)
            .select_related("content_type")
        }
        if wanted
        else {}
    )
    missing = sorted(wanted - set(found))
    if missing:
        raise UnknownPermissionError(
            "Unknown permission(s) in apps/roles/definitions.py: " + ", ".join(missing)
        )
    return found


def roles_sync(*, dry_run: bool = False, prune: bool = False) -> list[RolePlan]:
    """Create missing roles and add declared permissions; with ``prune``, also remove what
    a role no longer declares. All or nothing; ``dry_run`` only reports."""
    declared = resolve_permissions(name for role in ROLES for name in role.permissions)
    plans = []
    with transaction.atomic():
        for role in ROLES:
            plans.append(_sync_role(role, declared, dry_run=dry_run, prune=prune))
    return plans


def _sync_role(
    role: Role, declared: dict[str, Permission], *, dry_run: bool, prune: bool
) -> RolePlan:
    plan = RolePlan(role.name)
    group = Group.objects.filter(name=role.name).first()
    held: dict[str, Permission] = {}
    if group is None:
        plan.created = True
        if not dry_run:
            group = Group.objects.create(name=role.name)
            _audit(AuditEntry.Action.GROUP_CREATED, group, after={"name": role.name})
    else:
        held = {permission_name(p): p for p in group.permissions.select_related("content_type")}
    wanted = set(role.permissions)
    plan.added = sorted(wanted - set(held))
    plan.kept = sorted(wanted & set(held))
    extra = sorted(set(held) - wanted)
    if prune:
        plan.removed = extra
    else:
        plan.undeclared = extra
    if not dry_run and group is not None:
        if plan.added:
            group.permissions.add(*(declared[name] for name in plan.added))
        if plan.removed:
            group.permissions.remove(*(held[name] for name in plan.removed))
        for name in plan.added:
            _audit(AuditEntry.Action.PERMISSION_GRANTED, group, target=name)
        for name in plan.removed:
            _audit(AuditEntry.Action.PERMISSION_REVOKED, group, target=name)
    return plan


def _audit(action: str, group: Group, **fields: Any) -> None:
    AuditEntry.objects.create(
        action=action,
        actor_username="setup_roles",
        group_id=group.pk,
        group_name=group.name,
        **fields,
    )


def create_missing_roles(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate: create the roles a database lacks, with their declared permissions.

    Existing groups are left as they are. Quietly skips a role whose permissions do not
    exist yet (a partial migrate); `setup_roles` reports those loudly.
    """
    # Our apps come before django.contrib.auth in INSTALLED_APPS, so this handler can run
    # before auth's creates the permissions it grants: make sure they exist (idempotent).
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    existing = set(Group.objects.using(using).values_list("name", flat=True))
    for role in ROLES:
        if role.name in existing:
            continue
        try:
            permissions = resolve_permissions(role.permissions, using=using)
        except UnknownPermissionError:
            continue
        with transaction.atomic(using=using):
            group = Group.objects.using(using).create(name=role.name)
            group.permissions.add(*permissions.values())
            AuditEntry.objects.using(using).create(
                action=AuditEntry.Action.GROUP_CREATED,
                actor_username="migrate",
                group_id=group.pk,
                group_name=group.name,
                after={"name": role.name, "permissions": sorted(permissions)},
            )
