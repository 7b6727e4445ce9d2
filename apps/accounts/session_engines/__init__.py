"""Session engines: qsessions' (each session's user, IP and browser in its row), with one
change, ``RecordedOnce.load``."""

from __future__ import annotations

from typing import Any

from qsessions import IP_SESSION_KEY, USER_AGENT_SESSION_KEY
from qsessions.backends.db import SessionStore as QSessionsDBStore


class RecordedOnce:
    """qsessions saves a session whenever the request's IP or browser differs from the
    ones it recorded. A session that recorded none, made outside a request (the test
    client's ``force_login``, a script), would then be saved on its first request only to
    record them: they are recorded at its next save instead. A session made by a login has
    them from the start, and a change of either is still saved at once."""

    user_agent: str | None
    ip: str | None
    modified: bool

    def load(self) -> dict[str, Any]:
        # Django's own load (the database, or the cache then the database), not qsessions'.
        data: dict[str, Any] = super(QSessionsDBStore, self).load()  # type: ignore[misc]
        recorded = (data.get(USER_AGENT_SESSION_KEY), data.get(IP_SESSION_KEY))
        if any(recorded) and recorded != (self.user_agent, self.ip):
            self.modified = True
        return data
