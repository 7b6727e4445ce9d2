from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

LOAD_SETTINGS = (
    "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
)


def load_prod_settings(**env: str) -> subprocess.CompletedProcess:
    clean_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key != "DATABASE_URL"
    }
    clean_env.update({"DJANGO_SETTINGS_MODULE": "project.settings.prod", **env})
    return subprocess.run(
        [sys.executable, "-c", LOAD_SETTINGS],
        env=clean_env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_prod_refuses_to_start_without_a_secret_key():
    result = load_prod_settings(DJANGO_ALLOWED_HOSTS="books.example.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr.splitlines()[-1]


def test_prod_refuses_to_start_without_allowed_hosts():
    result = load_prod_settings(DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set" in result.stderr.splitlines()[-1]


def test_prod_starts_with_both_and_debug_off():
    result = load_prod_settings(
        DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="books.example.org, www.example.org"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_test_settings_use_a_fast_hasher_and_dev_keeps_argon2():
    from project.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_env_list_splits_commas_and_drops_blanks(monkeypatch):
    from project.settings.base import env_list

    monkeypatch.setenv("DJANGO_TEST_LIST", " a.example , ,b.example,")
    assert env_list("DJANGO_TEST_LIST") == ["a.example", "b.example"]
