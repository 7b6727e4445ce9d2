from __future__ import annotations

import re
import subprocess
from pathlib import Path

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


def test_readme_lists_every_environment_variable_the_settings_read():
    root = Path(__file__).resolve().parents[3]
    read_pattern = re.compile(
        r"""(?:os\.environ\.get|os\.environ\[|os\.getenv|env_list|env_bool)\(?\s*["']([A-Z_]+)["']"""
    )
    read = {
        name
        for path in (root / "project" / "settings").glob("*.py")
        for name in read_pattern.findall(path.read_text())
    }
    readme = (root / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = {
        name
        for line in table.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z_]+)`", line.split("|")[1])
    }
    assert read, "found no environment reads: the pattern is broken"
    assert read - documented == set(), "read by the settings, missing from README"
    # DJANGO_SETTINGS_MODULE is read by Django itself, before any settings module.
    assert documented - read - {"DJANGO_SETTINGS_MODULE"} == set(), "in README, read by nothing"
