from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from apps.accounts.tests.factories import force_login_verified
from apps.bookshelf.models import Book
from apps.bookshelf.services import book_update

from .factories import BookFactory, InReviewBookFactory, PublishedBookFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:bookshelf_book_changelist")


def staff(make_user, *permissions):
    return make_user(*permissions, is_staff=True)


def action_names(response) -> set[str]:
    form = response.context["action_form"]  # None when no action is available at all
    return {value for value, _label in form.fields["action"].choices} if form else set()


def test_actions_are_absent_without_their_permissions(client, make_user):
    force_login_verified(client, staff(make_user, "bookshelf.view_book", "bookshelf.change_book"))
    response = client.get(CHANGELIST)
    assert response.status_code == HTTPStatus.OK
    assert not {"approve_selected", "archive_selected"} & action_names(response)


def test_approve_action_is_offered_with_the_publish_permission(client, make_user):
    user = staff(
        make_user, "bookshelf.view_book", "bookshelf.change_book", "bookshelf.can_publish_book"
    )
    force_login_verified(client, user)
    names = action_names(client.get(CHANGELIST))
    assert "approve_selected" in names
    assert "archive_selected" not in names


def test_approve_action_publishes_books_in_review_and_skips_the_rest(client, superuser, editor):
    in_review = InReviewBookFactory.create_batch(2, submitted_by=editor)
    draft = BookFactory()
    force_login_verified(client, superuser)
    response = client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": [b.pk for b in [*in_review, draft]]},
        follow=True,
    )
    assert "2 books updated." in response.text
    assert "1 book skipped" in response.text
    assert Book.objects.filter(is_published=True).count() == 2
    assert not Book.objects.get(pk=draft.pk).is_published  # a draft needs review first


def test_approve_action_refuses_the_superusers_own_submission(client, superuser):
    own = InReviewBookFactory(submitted_by=superuser, title="Mine")
    force_login_verified(client, superuser)
    response = client.post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": [own.pk]}, follow=True
    )
    assert "“Mine”: You submitted this book; another publisher must approve it." in response.text
    own.refresh_from_db()
    assert own.is_in_review
    assert not own.is_published


def test_crafted_action_post_without_permission_changes_nothing(client, make_user):
    book = InReviewBookFactory()
    force_login_verified(client, staff(make_user, "bookshelf.view_book", "bookshelf.change_book"))
    client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": [book.pk]})
    book.refresh_from_db()
    assert not book.is_published


def test_admin_search_and_edit_bumps_the_version(client, superuser):
    book = BookFactory(title="Dune", author="Frank Herbert")
    BookFactory(title="Emma")
    force_login_verified(client, superuser)
    response = client.get(CHANGELIST, {"q": "herbert"})
    assert "Dune" in response.text
    assert "Emma" not in response.text
    response = client.post(
        reverse("admin:bookshelf_book_change", args=[book.pk]),
        {
            "title": "Dune (revised)",
            "author": "Frank Herbert",
            "isbn": "9780441172719",
            "publication_year": 1965,
            "description": "",
            "loaded_version": 1,  # the version the form was loaded at
        },
    )
    assert response.status_code == HTTPStatus.FOUND, response.text
    book.refresh_from_db()
    assert (book.title, book.version, book.updated_by) == ("Dune (revised)", 2, superuser)


def admin_form(client, book) -> dict:
    """The change form as the admin page serves it (with the version it was loaded at)."""
    page = client.get(reverse("admin:bookshelf_book_change", args=[book.pk])).text
    loaded = re.search(r'name="loaded_version" value="(\d+)"', page).group(1)
    return {
        "title": book.title,
        "author": book.author,
        "isbn": book.isbn or "",
        "publication_year": book.publication_year,
        "description": book.description,
        "loaded_version": loaded,
    }


def test_a_stale_admin_save_is_refused_and_nothing_is_overwritten(client, superuser, editor):
    """Two writers, one version: the app's editor saves first; the admin's form, loaded
    before that, must not overwrite it."""
    book = BookFactory(title="Dune", author="Frank Herbert")
    force_login_verified(client, superuser)
    form = admin_form(client, book)
    book_update(book=book, fields={"title": "Dune (editor)"}, expected_version=1, user=editor)

    url = reverse("admin:bookshelf_book_change", args=[book.pk])
    response = client.post(url, {**form, "title": "Dune (admin)"})
    assert response.status_code == HTTPStatus.OK  # the form again, with the conflict
    assert "while you were editing. It now reads: “Dune (editor)” by Frank Herbert" in response.text
    assert 'value="Dune (admin)"' in response.text  # what the admin typed is kept
    book.refresh_from_db()
    assert (book.title, book.version) == ("Dune (editor)", 2)

    # Saving again, deliberately, applies the admin's version over the editor's.
    again = re.search(r'name="loaded_version" value="(\d+)"', response.text).group(1)
    assert again == "2"
    response = client.post(url, {**form, "title": "Dune (admin)", "loaded_version": again})
    assert response.status_code == HTTPStatus.FOUND
    book.refresh_from_db()
    assert (book.title, book.version, book.updated_by) == ("Dune (admin)", 3, superuser)


def test_an_admin_save_without_the_loaded_version_is_refused(client, superuser):
    book = BookFactory(title="Dune", author="Frank Herbert")
    force_login_verified(client, superuser)
    form = {**admin_form(client, book), "title": "Crafted"}
    del form["loaded_version"]
    response = client.post(reverse("admin:bookshelf_book_change", args=[book.pk]), form)
    assert response.status_code == HTTPStatus.OK
    assert "This form is incomplete" in response.text
    book.refresh_from_db()
    assert (book.title, book.version) == ("Dune", 1)


def test_the_admin_adds_a_book(client, superuser):
    force_login_verified(client, superuser)
    response = client.post(
        reverse("admin:bookshelf_book_add"),
        {"title": "Solaris", "author": "Stanisław Lem", "isbn": "", "publication_year": 1961},
    )
    assert response.status_code == HTTPStatus.FOUND, response.text
    book = Book.objects.get(title="Solaris")
    assert (book.version, book.created_by, book.updated_by) == (1, superuser, superuser)


def test_a_stale_admin_delete_is_refused_and_the_book_kept(client, superuser, editor):
    """Two writers, one version: the admin's confirmation page shows version 1, an editor
    saves meanwhile; confirming must not delete a book the admin has not seen."""
    book = BookFactory(title="Dune")
    force_login_verified(client, superuser)
    url = reverse("admin:bookshelf_book_delete", args=[book.pk])
    page = client.get(url).text
    loaded = re.search(r'name="loaded_version" value="(\d+)"', page).group(1)
    assert loaded == "1"
    book_update(book=book, fields={"title": "Dune (editor)"}, expected_version=1, user=editor)

    response = client.post(url, {"post": "yes", "loaded_version": loaded}, follow=True)
    assert "nothing was deleted" in response.text
    book.refresh_from_db()
    assert (book.title, book.version) == ("Dune (editor)", 2)

    # Confirming the book as it is now deletes it.
    response = client.post(url, {"post": "yes", "loaded_version": "2"})
    assert response.status_code == HTTPStatus.FOUND
    assert not Book.objects.filter(pk=book.pk).exists()


def test_admin_delete_and_bulk_delete_go_through_the_rules(client, make_user):
    """Staff who may delete books but not change them don't reach drafts in the admin
    either (the app's visible_to and policy.why_cannot_delete): a draft's delete page is
    "not found", and a crafted selection deletes only what they may delete."""
    staff = make_user("bookshelf.view_book", "bookshelf.delete_book", is_staff=True)
    draft, public = BookFactory(), PublishedBookFactory()
    force_login_verified(client, staff)
    response = client.get(reverse("admin:bookshelf_book_delete", args=[draft.pk]))
    assert response.status_code == HTTPStatus.FOUND  # Django admin's "doesn't exist"
    assert not staff.has_perm("bookshelf.delete_book", draft)
    assert staff.has_perm("bookshelf.delete_book", public)
    response = client.post(
        reverse("admin:bookshelf_book_changelist"),
        {"action": "delete_selected", "_selected_action": [public.pk, draft.pk], "post": "yes"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert not Book.objects.filter(pk=public.pk).exists()
    assert Book.objects.filter(pk=draft.pk).exists()


def test_an_admin_delete_without_its_version_deletes_nothing_and_says_so(client, superuser):
    book = BookFactory()
    force_login_verified(client, superuser)
    url = reverse("admin:bookshelf_book_delete", args=[book.pk])
    for junk in ({}, {"loaded_version": "abc"}, {"loaded_version": "0"}):
        response = client.post(url, {"post": "yes", **junk}, follow=True)
        assert response.status_code == HTTPStatus.OK
        assert "This form is incomplete" in response.text
        assert Book.objects.filter(pk=book.pk).exists()


def test_admin_deletes_meeting_a_concurrent_change_answer_with_a_message(
    client, superuser, editor, monkeypatch
):
    """Someone edits or deletes the book between the admin's read and its delete (played by
    running their write just before the real service): nothing is deleted, no 500."""
    from apps.bookshelf import admin as book_admin
    from apps.bookshelf import services

    force_login_verified(client, superuser)
    book, other = BookFactory(title="Dune"), BookFactory(title="Emma")

    def edited_meanwhile(*, book, expected_version, user):
        Book.objects.filter(pk=book.pk).update(version=expected_version + 1)
        return services.book_delete(book=book, expected_version=expected_version, user=user)

    monkeypatch.setattr(book_admin, "book_delete", edited_meanwhile)
    changelist = reverse("admin:bookshelf_book_changelist")
    response = client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [other.pk, book.pk], "post": "yes"},
        follow=True,
    )
    assert "nothing was deleted" in response.text
    assert Book.objects.filter(pk__in=[book.pk, other.pk]).count() == 2

    def deleted_meanwhile(*, book, expected_version, user):
        Book.objects.filter(pk=book.pk).delete()
        return services.book_delete(book=book, expected_version=expected_version, user=user)

    monkeypatch.setattr(book_admin, "book_delete", deleted_meanwhile)
    url = reverse("admin:bookshelf_book_delete", args=[book.pk])
    version = str(Book.objects.get(pk=book.pk).version)
    response = client.post(url, {"post": "yes", "loaded_version": version}, follow=True)
    assert "This book was already deleted." in response.text
