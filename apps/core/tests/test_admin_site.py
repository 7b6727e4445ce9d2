"""The admin site refuses the junk that crashed Django's own admin views."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from apps.accounts.tests.factories import SuperuserFactory, force_login_verified
from apps.core.admin_site import BookshelfAdminSite, SafeIdsAdminMixin

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    force_login_verified(client, SuperuserFactory(username="boss"))
    return client


def test_the_default_admin_site_is_ours_and_every_model_admin_parses_ids():
    assert isinstance(admin.site, BookshelfAdminSite)
    assert admin.site._registry
    assert all(
        isinstance(model_admin, SafeIdsAdminMixin) for model_admin in admin.site._registry.values()
    )


@pytest.mark.parametrize("view", ["change", "delete"])
def test_an_empty_to_field_is_a_400_like_any_disallowed_field(staff_client, view):
    group = Group.objects.get(name="Editors")
    url = reverse(f"admin:auth_group_{view}", args=[group.pk])
    assert staff_client.get(url).status_code == HTTPStatus.OK
    assert staff_client.get(f"{url}?_to_field=").status_code == HTTPStatus.BAD_REQUEST
    assert staff_client.post(url, {"_to_field": ""}).status_code == HTTPStatus.BAD_REQUEST
    assert staff_client.get(f"{url}?_to_field=nope").status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("junk", ["99999999999999999999999", str(2**63), "²", "1" * 5000])
def test_a_junk_many_to_many_id_is_a_form_error_and_nothing_is_saved(staff_client, junk):
    group = Group.objects.get(name="Editors")
    before = set(group.permissions.values_list("pk", flat=True))
    url = reverse("admin:auth_group_change", args=[group.pk])
    response = staff_client.post(url, {"name": "Editors", "permissions": [*map(str, before), junk]})
    assert response.status_code == HTTPStatus.OK  # the form again, with its error
    assert "is not a valid value" in response.text or "Select a valid choice" in response.text
    assert set(group.permissions.values_list("pk", flat=True)) == before


@pytest.mark.parametrize("lookup", ["id__in", "id__exact", "permissions__id__in"])
@pytest.mark.parametrize("junk", ["99999999999999999999999", str(2**63)])
def test_a_change_list_filtered_by_a_huge_id_reloads_without_the_filter(staff_client, lookup, junk):
    url = reverse("admin:auth_group_changelist")
    response = staff_client.get(f"{url}?{lookup}={junk}")
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    if response.status_code == HTTPStatus.FOUND:
        assert response["Location"] == f"{url}?e=1"
