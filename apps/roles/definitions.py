"""The roles: the one declarative source of which group grants which permissions.

`setup_roles`, the `post_migrate` bootstrap, `roles_matrix` (and so docs/permissions.md),
`seed_demo` and the tests all read this module. Change a role here, then run
`python manage.py setup_roles` (add `--prune` to also remove what a role no longer grants).
"""

from __future__ import annotations

from dataclasses import dataclass

VIEW_BOOKS = ("bookshelf.view_book",)
EDIT_BOOKS = (*VIEW_BOOKS, "bookshelf.add_book", "bookshelf.change_book")
ALL_BOOK_PERMISSIONS = (
    *EDIT_BOOKS,
    "bookshelf.delete_book",
    "bookshelf.can_publish_book",
    "bookshelf.can_archive_book",
    "bookshelf.can_feature_book",
    "bookshelf.can_set_premium",
)
MANAGE_ROLES = "roles.manage_roles"
VIEW_AUDIT = "roles.view_audit"


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    permissions: tuple[str, ...]


ROLES: tuple[Role, ...] = (
    Role("Viewers", "Browse the catalogue.", VIEW_BOOKS),
    # Members will also borrow and return books once lending exists.
    Role("Members", "Library members: browse the catalogue.", VIEW_BOOKS),
    Role("Editors", "Add and edit books, and submit them for review.", EDIT_BOOKS),
    Role(
        "Publishers",
        "Editors who also review books: approve (publish) or send back, and feature them.",
        (*EDIT_BOOKS, "bookshelf.can_publish_book", "bookshelf.can_feature_book"),
    ),
    Role(
        "Librarians",
        "Editors who also archive and restore books.",
        (*EDIT_BOOKS, "bookshelf.can_archive_book"),
    ),
    Role(
        "Admins",
        "Everything about books, plus managing roles and reading the audit trail.",
        (*ALL_BOOK_PERMISSIONS, MANAGE_ROLES, VIEW_AUDIT),
    ),
)

ROLES_BY_NAME = {role.name: role for role in ROLES}
