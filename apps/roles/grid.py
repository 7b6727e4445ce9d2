"""The permission grid of the roles page: one row per model, grouped by app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission

from .policy import why_cannot_change_role, why_cannot_grant

DEFAULT_ACTIONS = ("view", "add", "change", "delete")
# Django internals nobody should hand out through roles, and the sessions and second factors
# of users (qsessions, django-otp, django-otp-webauthn): each user manages their own; an
# administrator's only way in is the admin, as a superuser.
HIDDEN_APPS = {
    "admin",
    "contenttypes",
    "sessions",
    "qsessions",
    "otp_totp",
    "django_otp_webauthn",
}


@dataclass
class GridCell:
    permission: Permission
    label: str
    checked: bool
    disabled_reason: str = ""


@dataclass
class GridRow:
    model_name: str
    cells: dict[str, GridCell | None]  # by default action; None where the model has none
    custom: list[GridCell] = field(default_factory=list)


@dataclass
class GridApp:
    label: str
    rows: list[GridRow] = field(default_factory=list)


@dataclass
class PermissionGrid:
    apps: list[GridApp]
    locked_reason: str  # non-empty when the actor may not change this group at all

    @property
    def editable(self) -> bool:
        return not self.locked_reason


def custom_label(permission: Permission) -> str:
    """The permission's own description as a sentence: "Can publish and unpublish books" →
    "Publish and unpublish books" (``Meta.permissions`` names are written to read this way;
    the codename is for code, not people)."""
    name = str(permission.name).strip()
    if name[:4].lower() == "can ":
        name = name[4:]
    return name[:1].upper() + name[1:]


def permission_grid(group: Group, actor: Any) -> PermissionGrid:
    """Three queries (all permissions, the group's, the actor's), whatever the sizes."""
    permissions = list(
        Permission.objects.select_related("content_type")
        .exclude(content_type__app_label__in=HIDDEN_APPS)
        .order_by("content_type__app_label", "content_type__model", "id")
    )
    granted = set(group.permissions.values_list("pk", flat=True))
    held_by_group = [p for p in permissions if p.pk in granted]
    locked_reason = str(why_cannot_change_role(actor, group, held_by_group))
    apps_by_label: dict[str, GridApp] = {}
    rows: dict[tuple[str, str], GridRow] = {}
    for permission in permissions:
        content_type = permission.content_type
        model = content_type.model_class()
        if model is None:  # a stale content type of a removed model
            continue
        app = apps_by_label.setdefault(
            content_type.app_label,
            GridApp(str(apps.get_app_config(content_type.app_label).verbose_name)),
        )
        key = (content_type.app_label, content_type.model)
        if key not in rows:
            rows[key] = GridRow(
                str(model._meta.verbose_name).capitalize(), dict.fromkeys(DEFAULT_ACTIONS)
            )
            app.rows.append(rows[key])
        checked = permission.pk in granted
        reason = locked_reason
        if not reason and not checked:
            reason = str(why_cannot_grant(actor, permission))
        action = permission.codename.removesuffix(f"_{content_type.model}")
        cell = GridCell(permission, "", checked, reason)
        if action in DEFAULT_ACTIONS and permission.codename == f"{action}_{content_type.model}":
            cell.label = action.capitalize()  # under its column heading, which says the same
            rows[key].cells[action] = cell
        else:
            cell.label = custom_label(permission)
            rows[key].custom.append(cell)
    return PermissionGrid(list(apps_by_label.values()), locked_reason)


def column_permissions(grid: PermissionGrid, action: str) -> list[GridCell]:
    return [
        cell for app in grid.apps for row in app.rows if (cell := row.cells.get(action)) is not None
    ]
