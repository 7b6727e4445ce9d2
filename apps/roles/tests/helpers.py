"""Shorthands for the roles tests: a role by name, a permission by codename, a member."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from apps.accounts.tests.factories import UserFactory


def role(name: str) -> Group:
    return Group.objects.get(name=name)


def perm(codename: str) -> Permission:
    return Permission.objects.select_related("content_type").get(codename=codename)


def in_role(name: str, **fields):
    """A new user holding the role ``name``."""
    user = UserFactory(**fields)
    user.groups.add(role(name))
    return user
