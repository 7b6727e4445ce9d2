"""Running Django in a fresh process, for settings that are read only at start-up."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def run_django(*args: str, clean: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run ``python <args>`` from the project folder and capture its output.

    ``clean`` drops the DJANGO_* and DATABASE_URL variables of this test process, so only
    ``env`` decides the configuration.
    """
    environment = {
        key: value
        for key, value in os.environ.items()
        if not clean or not (key.startswith("DJANGO_") or key == "DATABASE_URL")
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args],
        env=environment,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
