from __future__ import annotations

from qsessions.backends.db import SessionStore as QSessionsDBStore

from . import RecordedOnce


class SessionStore(RecordedOnce, QSessionsDBStore):
    """Sessions in the database (``SESSION_ENGINE`` without ``REDIS_URL``)."""
