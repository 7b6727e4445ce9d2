"""Demo accounts for `seed_demo`: one per role, plus a superuser."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    is_superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


DEMO_USERS = [
    DemoUser("admin", "Ada", "Admin", is_superuser=True),
    DemoUser("viewer", "Vera", "Viewer"),
    DemoUser("member", "Max", "Member"),
    DemoUser("editor", "Eddie", "Editor"),
    DemoUser("publisher", "Pia", "Publisher"),
    DemoUser("librarian", "Lia", "Librarian"),
    DemoUser("roleadmin", "Rolf", "Roleadmin"),
]


@transaction.atomic
def demo_users_create(*, password: str) -> list[tuple[str, bool]]:
    """Create the demo users that do not exist yet; leave existing ones untouched.

    Returns ``(username, created)`` pairs, in ``DEMO_USERS`` order.
    """
    user_model = get_user_model()
    outcome = []
    for demo in DEMO_USERS:
        if user_model.objects.filter(username__iexact=demo.username).exists():
            outcome.append((demo.username, False))
            continue
        create = (
            user_model.objects.create_superuser
            if demo.is_superuser
            else user_model.objects.create_user
        )
        create(
            demo.username,
            demo.email,
            password,
            first_name=demo.first_name,
            last_name=demo.last_name,
        )
        outcome.append((demo.username, True))
    return outcome
