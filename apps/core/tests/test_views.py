from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.contrib import messages
from django.http import HttpResponse
from django.template import loader
from django.test import RequestFactory
from django.urls import reverse
from django.views.generic import TemplateView
from django_htmx.middleware import HtmxMiddleware

from apps.core.middleware import MESSAGES_EVENT, HtmxMessagesMiddleware
from apps.core.mixins import HtmxPartialMixin

from .processes import run_django
from .support import htmx as htmx_headers

pytestmark = pytest.mark.django_db

HTMX = htmx_headers()


def test_home_welcomes_anonymous_visitors_with_a_login_link(client):
    response = client.get(reverse("core:home"))
    assert response.status_code == HTTPStatus.OK
    assert "Welcome to Bookshelf" in response.text
    assert reverse("accounts:login") in response.text


def test_home_is_a_dashboard_for_signed_in_users(client, member):
    client.force_login(member)
    response = client.get(reverse("core:home"))
    assert "Hello, Max" in response.text
    assert "Log out" in response.text
    assert "You have no role yet" in response.text


def test_healthz_answers_with_small_json(client):
    response = client.get(reverse("core:healthz"))
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer():
    # A real unreachable database, in a fresh process: a SQLite file that cannot be opened.
    script = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code, r.content.decode())"
    )
    result = run_django(
        "-c", script, clean=False, DATABASE_URL="sqlite:////nonexistent-dir/bookshelf.sqlite3"
    )
    assert result.stdout.strip() == '503 {"status": "error", "database": "unavailable"}'


def test_healthz_refuses_post(client):
    assert client.post(reverse("core:healthz")).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_views_require_login_by_default(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_anonymous_htmx_request_gets_a_client_redirect_back_to_the_current_page(client):
    response = client.get(
        reverse("accounts:profile"), HTTP_HX_CURRENT_URL="http://testserver/some/page/?q=1", **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    assert response["HX-Redirect"] == "/accounts/login/?next=/some/page/%3Fq%3D1"


def test_404_page_is_friendly(client):
    response = client.get("/no-such-page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "This page does not exist" in response.text
    assert response.text.count("<h1") == 1


def test_500_page_renders_without_a_request_context():
    html = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in html
    assert "<script" not in html


def messages_middleware_response(rf: RequestFactory, *, status: int, htmx: bool) -> HttpResponse:
    def view(request):
        messages.success(request, "Book <b>saved</b>")
        return HttpResponse(status=status)

    from django.contrib.messages.storage.fallback import FallbackStorage

    request = rf.get("/", **(HTMX if htmx else {}))
    HtmxMiddleware(lambda r: None)(request)
    request.session = {}
    request._messages = FallbackStorage(request)
    return HtmxMessagesMiddleware(view)(request), request


def test_htmx_responses_carry_messages_in_hx_trigger(rf):
    response, request = messages_middleware_response(rf, status=200, htmx=True)
    payload = json.loads(response["HX-Trigger"])
    assert payload == {
        MESSAGES_EVENT: {"messages": [{"message": "Book <b>saved</b>", "level": "success"}]}
    }
    # Marked as shown, so MessageMiddleware does not keep them for the next page.
    assert request._messages.used


def test_redirects_and_full_pages_keep_their_messages(rf):
    for status, htmx in [(302, True), (200, False)]:
        response, request = messages_middleware_response(rf, status=status, htmx=htmx)
        assert "HX-Trigger" not in response
        assert not request._messages.used
        assert [str(m) for m in messages.get_messages(request)] == ["Book <b>saved</b>"]


class GreetingView(HtmxPartialMixin, TemplateView):
    template_name = "core_tests/partial_page.html"
    partial_name = "greeting"
    extra_context = {"name": "Ada"}


@pytest.fixture
def partial_templates(settings):
    from pathlib import Path

    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [Path(__file__).parent / "templates"]}]


def render_greeting(rf, member, **headers):
    request = rf.get("/greeting/", **headers)
    request.user = member
    HtmxMiddleware(lambda r: None)(request)
    response = GreetingView.as_view()(request)
    response.render()
    return response


def test_partial_mixin_serves_the_full_page_normally(rf, member, partial_templates):
    response = render_greeting(rf, member)
    assert "<h1>Full page for Ada</h1>" in response.text
    assert "HX-Request" in response["Vary"]


def test_partial_mixin_serves_only_the_partial_to_htmx(rf, member, partial_templates):
    response = render_greeting(rf, member, **HTMX)
    assert response.text.strip() == '<p id="greeting">Hello Ada</p>'
    assert "HX-Request" in response["Vary"]


def test_partial_mixin_serves_the_full_page_on_history_restore(rf, member, partial_templates):
    response = render_greeting(rf, member, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<h1>Full page for Ada</h1>" in response.text


def test_favicon_ico_at_the_root_points_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == "/static/favicon.ico"


def test_expired_csrf_token_gets_a_friendly_403():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        reverse("accounts:login"), {"username": "x", "password": "y"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "This form has expired" in response.content.decode()


def test_bad_host_gets_the_friendly_400_page(client):
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "The request could not be understood" in response.text


def test_a_malformed_htmx_request_gets_a_400_toast_not_a_page(client):
    """More fields than DATA_UPLOAD_MAX_NUMBER_FIELDS is refused before any view runs; htmx
    swaps 400 bodies, so the answer must be a toast, not a whole page inside a row."""
    too_many = {f"field{n}": "x" for n in range(1001)}
    url = reverse("accounts:login")
    response = client.post(url, too_many, HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["HX-Retarget"] == "#toasts"
    assert "<html" not in response.text
    assert "That request could not be understood" in response.text
    plain = client.post(url, too_many)
    assert plain.status_code == HTTPStatus.BAD_REQUEST
    assert "<html" in plain.text and "The request could not be understood" in plain.text


def test_403_page_explains_and_offers_a_way_on(rf, member):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = rf.get("/somewhere/")
    request.user = member
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == HTTPStatus.FORBIDDEN
    html = response.content.decode()
    assert "You don't have permission to do that" in html
    assert 'href="/"' in html
