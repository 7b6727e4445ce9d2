"""Shorthands for the roles tests: a role by name, a permission by codename (a member in a
role: ``apps.core.tests.support.in_role``)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission


def role(name: str) -> Group:
    return Group.objects.get(name=name)


def perm(codename: str) -> Permission:
    return Permission.objects.select_related("content_type").get(codename=codename)
