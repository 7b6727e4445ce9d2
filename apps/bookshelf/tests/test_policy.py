"""The book rules (``apps/bookshelf/policy.py``): the page and the server give the same answer.

For every role, every book state and every rule: the control is on the page exactly when the
server accepts the request, a refusal carries the policy's own sentence, and Django's
``user.has_perm(perm, book)`` (django-rules) says the same.
"""

from __future__ import annotations

import html
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookshelf import policy
from apps.bookshelf.models import Book
from apps.bookshelf.services import BOOK_ACTIONS
from apps.core.tests.support import in_role
from apps.roles.definitions import ROLES

from .factories import BookFactory, PublishedBookFactory
from .test_views import HTMX, toasts

pytestmark = pytest.mark.django_db

STATES = {
    "draft": {},
    "published": {"is_published": True},
    "featured": {"is_published": True, "is_featured": True},
    "archived": {"is_archived": True},
    "premium draft": {"is_premium": True},
    # Submitted by someone else, and by the person acting (the four-eyes rule).
    "in review": {"is_in_review": True},
    "own in review": {"is_in_review": True, "own": True},
    "changes requested": {"review_comment": "Fix the title."},
}
FLAGS = ("is_published", "is_featured", "is_archived", "is_premium", "is_in_review")


def state_fields(state: str, user) -> dict:
    """The columns of ``state``, every flag given (so a book can be put back into it)."""
    fields = {k: v for k, v in STATES[state].items() if k != "own"}
    submitted = fields.get("is_in_review") or "review_comment" in fields
    return {
        **dict.fromkeys(FLAGS, False),
        "review_comment": "",
        **fields,
        "published_at": timezone.now() if fields.get("is_published") else None,
        "submitted_at": timezone.now() if fields.get("is_in_review") else None,
        "submitted_by": (user if STATES[state].get("own") else other_submitter())
        if submitted
        else None,
    }


def other_submitter():
    """The person who submitted the books in review that are not the actor's own."""
    existing = UserFactory._meta.model.objects.filter(username="submitter").first()
    return existing or UserFactory(username="submitter")


def make_book(state: str, user=None) -> Book:
    return BookFactory(**state_fields(state, user))


def people():
    """One user per role of definitions.ROLES, a superuser, and someone who may delete
    books without changing them (a direct permission: delete_book alone)."""
    users = {}
    for role in ROLES:
        users[role.name] = in_role(role.name, username=role.name.lower())
    users["superuser"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    from conftest import grant

    users["delete only"] = grant(UserFactory(username="deleter"), "bookshelf.delete_book")
    return users


def fresh(user):
    """The same user without cached permissions (as the next request would load it)."""
    return type(user).objects.get(pk=user.pk)


def refused_with(response, reason) -> bool:
    """A 403 whose toast (an htmx refusal) or page says the policy's sentence."""
    return response.status_code == HTTPStatus.FORBIDDEN and str(reason) in html.unescape(
        response.text
    )


def controls_on_detail_page(client, book: Book) -> set[str] | None:
    """The controls the detail page offers, or None when the page is not shown (404)."""
    response = client.get(book.get_absolute_url())
    if response.status_code == HTTPStatus.NOT_FOUND:
        return None
    page = response.text
    shown = set()
    if f'href="{reverse("bookshelf:book-update", args=[book.pk])}"' in page:
        shown.add("edit")
    if f'href="{reverse("bookshelf:book-delete", args=[book.pk])}"' in page:
        shown.add("delete")
    for name, action in BOOK_ACTIONS.items():
        url = reverse(action.url_name, args=[book.pk])
        # A button posting to it, or (request changes, which needs a comment) a link to its form.
        if f'action="{url}"' in page or f'href="{url}?' in page:
            shown.add(name)
    return shown


@pytest.mark.parametrize("state", STATES)
def test_every_control_shown_is_accepted_and_every_one_hidden_is_refused(client, state):
    for who, user in people().items():
        client.force_login(user)
        book = make_book(state, user)
        shown = controls_on_detail_page(client, book)
        label = f"{who} / {state}"
        if shown is None:
            # Hidden books: the rule refuses viewing, and every write answers 404 too.
            assert policy.why_cannot_view(fresh(user), book), label
            assert not user.has_perm("bookshelf.view_book", book), label
            edit = client.get(reverse("bookshelf:book-update", args=[book.pk]))
            assert edit.status_code in {HTTPStatus.NOT_FOUND, HTTPStatus.FORBIDDEN}, label
            continue

        # Edit: the page offers it exactly when the edit form opens.
        edit = client.get(reverse("bookshelf:book-update", args=[book.pk]), **HTMX)
        reason = policy.why_cannot_edit(fresh(user), book)
        assert ("edit" in shown) == (edit.status_code == HTTPStatus.OK) == (not reason), label
        assert fresh(user).has_perm("bookshelf.change_book", book) == (not reason), label
        if reason:
            assert refused_with(edit, reason), label

        # Each state change: offered exactly when the server applies it.
        for name in BOOK_ACTIONS:
            book = Book.objects.get(pk=book.pk)
            version = book.version
            permission_refusal = policy.why_cannot_act(fresh(user), name, book)
            state_refusal = policy.why_not_now(name, book)
            offered = name in controls_on_detail_page(client, book)
            assert offered == (not permission_refusal and not state_refusal), f"{label} {name}"
            response = client.post(
                reverse(BOOK_ACTIONS[name].url_name, args=[book.pk]),
                {"comment": "Please look at the title."},  # what request changes needs
                **HTMX,
            )
            changed = Book.objects.get(pk=book.pk).version != version
            assert changed == offered, f"{label} {name}"
            if permission_refusal:
                assert response.status_code == HTTPStatus.FORBIDDEN, f"{label} {name}"
                assert refused_with(response, permission_refusal), f"{label} {name}"
            elif state_refusal:
                assert toasts(response) == [{"message": str(state_refusal), "level": "danger"}]
            if changed:  # put it back, so each action is tried on the state under test
                Book.objects.filter(pk=book.pk).update(
                    **{
                        **state_fields(state, user),
                        "published_at": book.published_at,
                        "submitted_at": book.submitted_at,
                    }
                )

        # Delete last: offered exactly when the server deletes it.
        book = Book.objects.get(pk=book.pk)
        reason = policy.why_cannot_delete(fresh(user), book)
        assert ("delete" in controls_on_detail_page(client, book)) == (not reason), label
        assert fresh(user).has_perm("bookshelf.delete_book", book) == (not reason), label
        response = client.post(
            reverse("bookshelf:book-delete", args=[book.pk]), {"version": book.version}, **HTMX
        )
        assert Book.objects.filter(pk=book.pk).exists() == bool(reason), label
        if reason:
            assert refused_with(response, reason), label


def test_the_detail_page_explains_each_refusal_with_the_policys_sentence(client):
    for who, user in people().items():
        client.force_login(user)
        book = PublishedBookFactory()
        page = html.unescape(client.get(book.get_absolute_url()).text)
        for _permission, reason in policy.refusals(fresh(user), book):
            assert str(reason) in page, who
        if not policy.refusals(fresh(user), book):
            assert "Who can do more with this book" not in page, who


def test_add_button_follows_the_rule_that_the_server_enforces(client):
    for who, user in people().items():
        client.force_login(user)
        page = client.get(reverse("bookshelf:book-list")).text
        reason = policy.why_cannot_add(fresh(user))
        create = client.get(reverse("bookshelf:book-create"), **HTMX)
        assert (reverse("bookshelf:book-create") in page) == (not reason), who
        assert (create.status_code == HTTPStatus.OK) == (not reason), who
        if reason:
            assert refused_with(create, reason), who


def test_drafts_are_listed_and_filterable_exactly_for_those_the_rule_lets_see_them(client):
    draft = BookFactory(title="Secret Draft")
    for who, user in people().items():
        client.force_login(user)
        page = client.get(reverse("bookshelf:book-list")).text
        sees = policy.sees_unpublished(fresh(user))
        assert ("Secret Draft" in page) == sees, who
        assert ('value="draft"' in page) == sees, who
        assert fresh(user).has_perm("bookshelf.view_book", draft) == sees, who


def test_superusers_pass_every_rule_and_inactive_users_none():
    book = BookFactory()
    root = UserFactory(is_superuser=True)
    gone = UserFactory(is_superuser=True, is_active=False)
    for name in BOOK_ACTIONS:
        assert not policy.why_cannot_act(root, name, book)
        assert policy.why_cannot_act(gone, name, book)
    assert not policy.why_cannot_delete(root, book)
    assert policy.why_cannot_delete(gone, book)


def test_the_rules_backend_grants_no_model_level_permission(client):
    """The rules answer about one book only: without one, has_perm is ModelBackend's answer
    from the roles. (Answering there too gave view_book to everyone while the catalogue is
    public, and with it the admin's book pages to any staff user.)"""
    from django.contrib.auth.models import AnonymousUser

    nobody = UserFactory(username="nobody")
    inactive = UserFactory(username="gone", is_active=False)
    for user in (AnonymousUser(), nobody, inactive):
        for permission in (policy.VIEW, policy.ADD, policy.CHANGE, policy.DELETE):
            assert not user.has_perm(permission), (user, permission)
    assert UserFactory(username="staffer", is_staff=True)  # staff, no book permission
    client.force_login(type(nobody).objects.get(username="staffer"))
    assert client.get(reverse("admin:bookshelf_book_changelist")).status_code == 403


def test_the_admin_lists_the_books_the_app_would_show(client, make_user):
    BookFactory(title="Secret Draft")
    PublishedBookFactory(title="Public Book")
    client.force_login(make_user("bookshelf.view_book", is_staff=True))
    page = client.get(reverse("admin:bookshelf_book_changelist")).text
    assert "Public Book" in page
    assert "Secret Draft" not in page


def test_both_apps_register_their_rules_at_startup():
    """Not only once a view module is imported: a shell or a worker asks them too."""
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from rules.permissions import perm_exists; "
        "print(perm_exists('roles.manage_roles'), perm_exists('bookshelf.change_book'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "project.settings.test"},
    ).stdout
    assert out.split() == ["True", "True"]
