from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template import Context, Template
from django.views import View
from django_htmx.middleware import HtmxMiddleware

from apps.accounts.tests.factories import SuperuserFactory, UserFactory
from apps.core.mixins import GroupRequiredMixin

from .support import in_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_in_group(db):
    # The roles exist in every database (created after migrate).
    return in_role("Editors")


def render(template: str, user) -> str:
    return Template("{% load permission_tags %}" + template).render(Context({"user": user})).strip()


def test_has_group_and_has_any_group(editor_in_group):
    assert render('{% if user|has_group:"Editors" %}yes{% endif %}', editor_in_group) == "yes"
    assert render('{% if user|has_group:"Admins" %}yes{% endif %}', editor_in_group) == ""
    template = '{% if user|has_any_group:"Admins, Editors" %}yes{% endif %}'
    assert render(template, editor_in_group) == "yes"
    assert (
        render('{% if user|has_any_group:"Admins,Viewers" %}yes{% endif %}', editor_in_group) == ""
    )
    assert render('{% if user|has_group:"Editors" %}yes{% endif %}', AnonymousUser()) == ""


def test_group_checks_cost_one_query_per_request(editor_in_group, django_assert_num_queries):
    template = (
        '{% if user|has_group:"Editors" %}a{% endif %}'
        '{% if user|has_any_group:"X,Admins" %}b{% endif %}'
    ) * 20
    with django_assert_num_queries(1):
        assert render(template, editor_in_group) == "a" * 20


class EditorsOnlyView(GroupRequiredMixin, View):
    group_required = ["Editors", "Admins"]

    def get(self, request):
        return HttpResponse("editor tools")


def call(rf, user, **headers):
    request = rf.get("/tools/", **headers)
    request.user = user
    HtmxMiddleware(lambda r: None)(request)
    return EditorsOnlyView.as_view()(request)


def test_group_required_mixin_lets_members_and_superusers_in(rf, editor_in_group):
    assert call(rf, editor_in_group).content == b"editor tools"
    assert call(rf, SuperuserFactory()).status_code == HTTPStatus.OK


def test_group_required_mixin_refuses_others(rf):
    with pytest.raises(PermissionDenied, match="Editors, Admins"):
        call(rf, UserFactory())


def test_group_required_mixin_sends_anonymous_users_to_log_in(rf):
    response = call(rf, AnonymousUser())
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/?next=/tools/")
    response = call(
        rf, AnonymousUser(), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/page/"
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=/page/"
