"""The roles: the one declarative source of which group grants which permissions.

`setup_roles`, the `post_migrate` bootstrap, `roles_matrix` (and so docs/permissions.md),
`seed_demo` and the tests all read this module. Change a role here, then run
`python manage.py setup_roles` (add `--prune` to also remove what a role no longer grants).
"""

from __future__ import annotations

from dataclasses import dataclass

VIEW_BOOKS = ("bookshelf.view_book",)
EDIT_BOOKS = (*VIEW_BOOKS, "bookshelf.add_book", "bookshelf.change_book")
BORROW_BOOKS = ("bookshelf.can_borrow_book", "bookshelf.can_return_book")
MANAGE_INVENTORY = "bookshelf.can_manage_inventory"
ALL_BOOK_PERMISSIONS = (
    *EDIT_BOOKS,
    *BORROW_BOOKS,
    MANAGE_INVENTORY,
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
    # Members must sign in with a second factor to reach privileged pages (issue 14; holders
    # of roles.manage_roles and superusers must anyway: apps.accounts.two_factor).
    requires_two_factor: bool = False


ROLES: tuple[Role, ...] = (
    Role("Viewers", "Browse the catalogue.", VIEW_BOOKS),
    Role(
        "Members",
        "Library members: browse the catalogue, borrow and return books, place holds.",
        (*VIEW_BOOKS, *BORROW_BOOKS),
    ),
    Role("Editors", "Add and edit books, and submit them for review.", EDIT_BOOKS),
    Role(
        "Publishers",
        "Editors who also review books: approve (publish) or send back, and feature them.",
        (*EDIT_BOOKS, "bookshelf.can_publish_book", "bookshelf.can_feature_book"),
    ),
    Role(
        "Librarians",
        "Editors who also archive books, run the circulation desk and manage the copies.",
        (*EDIT_BOOKS, "bookshelf.can_archive_book", *BORROW_BOOKS, MANAGE_INVENTORY),
    ),
    Role(
        "Admins",
        "Everything about books, plus managing roles and reading the audit trail.",
        (*ALL_BOOK_PERMISSIONS, MANAGE_ROLES, VIEW_AUDIT),
        requires_two_factor=True,
    ),
)

ROLES_BY_NAME = {role.name: role for role in ROLES}
