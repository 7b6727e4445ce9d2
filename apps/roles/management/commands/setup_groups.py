from __future__ import annotations

from .setup_roles import Command as SetupRolesCommand


class Command(SetupRolesCommand):
    """``setup_groups``: the name the permissions guide gives this command; an alias of
    ``setup_roles`` with the same options and output."""

    help = f"Alias of setup_roles (the guide's name). {SetupRolesCommand.help}"
