from __future__ import annotations

import subprocess

from django.conf import settings

from .processes import run_django

LOAD_SETTINGS = (
    "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
)


def load_prod_settings(**env: str) -> subprocess.CompletedProcess:
    return run_django("-c", LOAD_SETTINGS, DJANGO_SETTINGS_MODULE="project.settings.prod", **env)


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
