"""Demo accounts for `seed_demo`: one per role, plus a superuser."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str = ""  # a role name from apps/roles/definitions.py
    is_superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


DEMO_USERS = [
    DemoUser("admin", "Ada", "Admin", is_superuser=True),
    DemoUser("viewer", "Vera", "Viewer", role="Viewers"),
    DemoUser("member", "Max", "Member", role="Members"),
    DemoUser("editor", "Eddie", "Editor", role="Editors"),
    DemoUser("publisher", "Pia", "Publisher", role="Publishers"),
    DemoUser("librarian", "Lia", "Librarian", role="Librarians"),
    # Manages roles through the Admins role, without being a superuser.
    DemoUser("roleadmin", "Rolf", "Roleadmin", role="Admins"),
]


@transaction.atomic
def demo_users_create(*, password: str) -> list[tuple[str, bool]]:
    """Create the demo users that do not exist yet, each in its role; leave existing users
    untouched. Returns ``(username, created)`` pairs, in ``DEMO_USERS`` order.
    """
    user_model = get_user_model()
    groups = {group.name: group for group in Group.objects.all()}
    outcome = []
    for demo in DEMO_USERS:
        existing = user_model.objects.filter(username__iexact=demo.username).first()
        if existing is not None:
            # A demo user from before the roles existed gets its role; one whose roles an
            # admin has set keeps them.
            if demo.role in groups and not existing.groups.exists():
                existing.groups.add(groups[demo.role])
            outcome.append((demo.username, False))
            continue
        create = (
            user_model.objects.create_superuser
            if demo.is_superuser
            else user_model.objects.create_user
        )
        user = create(
            demo.username,
            demo.email,
            password,
            first_name=demo.first_name,
            last_name=demo.last_name,
        )
        if demo.role in groups:
            user.groups.add(groups[demo.role])
        outcome.append((demo.username, True))
    return outcome
