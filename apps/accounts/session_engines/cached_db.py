from __future__ import annotations

from qsessions.backends.cached_db import SessionStore as QSessionsCachedDBStore

from . import RecordedOnce


class SessionStore(RecordedOnce, QSessionsCachedDBStore):
    """Sessions in the database, read through the cache (``SESSION_ENGINE`` with
    ``REDIS_URL``: the cache is Redis, shared by every instance)."""
