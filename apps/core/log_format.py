"""Log formatting, importable before Django's apps are ready (LOGGING is set up first)."""

from __future__ import annotations

import json
import logging


class JsonFormatter(logging.Formatter):
    """Formats `security` records as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            **getattr(record, "security", {"message": record.getMessage()}),
        }
        return json.dumps(payload, default=str)
