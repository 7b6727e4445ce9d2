"""REDIS_URL: several instances of the app share one cache (and read sessions through it).

Each instance is played by its own Python process, as gunicorn's workers and a second
server are: what one counts in the cache, the other sees. Without REDIS_URL each process
counts alone (the default, for one instance). Redis runs on 127.0.0.1:6379 on every
machine of this project, CI included (.ci/run starts it when it is not answering).

The limit counts per minute of the clock, so both instances are handed the same moment
(the views module's clock, set in each process) instead of waiting for a fresh minute; a
minute nobody else counts in, so runs at the same time (other test processes) never meet.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]
REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own (its keys expire in 2 min)

INSTANCE = """
import django
django.setup()
from types import SimpleNamespace
from django.conf import settings
from django.test import RequestFactory
from apps.core import views
from apps.core.views import _over_rate_limit
views.time = SimpleNamespace(time=lambda: {now})
request = RequestFactory().post("/csp-report/", REMOTE_ADDR="{ip}")
over = sum(_over_rate_limit(request) for _ in range({reports}))
print(settings.CACHES["default"]["BACKEND"], settings.SESSION_ENGINE, over)
"""


def instance(ip: str, reports: int, *, redis: bool, now: float) -> list[str]:
    """Send ``reports`` CSP reports through one process whose clock says ``now``; its
    backends and how many of the reports it found over the limit."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "project.settings.test"
    if redis:
        env["REDIS_URL"] = REDIS_URL
    code = INSTANCE.format(ip=ip, reports=reports, now=now)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def a_minute_of_our_own() -> float:
    """A moment inside a minute that no other run of these tests counts in (the limit's
    key is the address and the minute)."""
    return random.randrange(10**6, 10**7) * 60 + 30.0  # noqa: S311


def test_with_redis_the_csp_report_limit_is_counted_across_instances():
    import redis

    from apps.core.views import CSP_REPORTS_PER_MINUTE

    redis.Redis.from_url(REDIS_URL).ping()  # Redis answers (else the error says so)
    ip = f"203.0.113.{random.randint(1, 254)}"  # noqa: S311
    half = CSP_REPORTS_PER_MINUTE // 2 + 5
    now = a_minute_of_our_own()
    backend, sessions, over = instance(ip, half, redis=True, now=now)
    assert backend == "django.core.cache.backends.redis.RedisCache"
    assert sessions == "apps.accounts.session_engines.cached_db"
    assert int(over) == 0
    *_, over = instance(ip, half, redis=True, now=now)  # the other instance goes on counting
    assert int(over) == 2 * half - CSP_REPORTS_PER_MINUTE


def test_without_redis_each_process_counts_alone():
    from apps.core.views import CSP_REPORTS_PER_MINUTE

    half = CSP_REPORTS_PER_MINUTE // 2 + 5
    now = a_minute_of_our_own()
    backend, sessions, over = instance("203.0.113.7", half, redis=False, now=now)
    assert backend == "django.core.cache.backends.locmem.LocMemCache"
    assert sessions == "apps.accounts.session_engines.db"
    assert int(over) == 0
    assert int(instance("203.0.113.7", half, redis=False, now=now)[-1]) == 0
