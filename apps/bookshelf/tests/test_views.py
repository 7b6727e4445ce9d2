from __future__ import annotations

import html
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.bookshelf.models import Book
from apps.core.tests.support import htmx, toasts

from .factories import BookFactory, InReviewBookFactory, PublishedBookFactory

pytestmark = pytest.mark.django_db

HTMX = htmx("/books/?q=x")
LIST_URL = reverse("bookshelf:book-list")


def book_data(**changes):
    return {
        "title": "Solaris",
        "author": "Stanisław Lem",
        "isbn": "",
        "publication_year": 1961,
        "description": "",
        **changes,
    }


# --- List --------------------------------------------------------------------------------


def test_list_serves_the_table_partial_to_htmx(client, editor):
    BookFactory(title="Dune")
    client.force_login(editor)
    full = client.get(LIST_URL)
    partial = client.get(LIST_URL, **HTMX)
    assert "<html" in full.text
    assert "<html" not in partial.text
    # What goes inside the page's #book-table (swapped innerHTML): never a second one.
    assert 'id="book-table"' not in partial.text
    assert full.text.count('id="book-table"') == 1
    assert "<table" in partial.text
    # The count for screen readers, out of band into the page's one live region.
    assert '<span id="book-results" hx-swap-oob="innerHTML">1 book</span>' in partial.text
    assert "Dune" in partial.text
    assert "HX-Request" in partial["Vary"]


def test_list_serves_the_full_page_on_history_restore(client, editor):
    client.force_login(editor)
    response = client.get(LIST_URL, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in response.text


def test_list_searches_filters_sorts_and_keeps_it_in_links(client, editor):
    BookFactory(title="Dune", author="Frank Herbert", publication_year=1965)
    BookFactory(title="Dune Messiah", author="Frank Herbert", publication_year=1969)
    BookFactory(title="Emma", author="Jane Austen", publication_year=1815)
    client.force_login(editor)
    response = client.get(LIST_URL, {"q": "herbert", "sort": "-year"})
    books = list(response.context["books"])
    assert [b.title for b in books] == ["Dune Messiah", "Dune"]
    # Sort links keep the search and drop the page.
    assert 'href="?q=herbert&amp;sort=year"' in response.text


def test_list_ignores_unknown_parameters_instead_of_failing(client, editor):
    BookFactory()
    client.force_login(editor)
    response = client.get(LIST_URL, {"sort": "'; DROP TABLE", "status": "nope", "page": "abc"})
    assert response.status_code == HTTPStatus.OK
    assert response.context["query"].sort == "title"
    assert response.context["query"].status == ""


def test_out_of_range_page_shows_the_last_page(client, editor):
    BookFactory.create_batch(30)
    client.force_login(editor)
    response = client.get(LIST_URL, {"page": "99"})
    assert response.status_code == HTTPStatus.OK
    assert response.context["page_obj"].number == 2
    assert "Showing 26–30 of 30" in response.text


def test_empty_search_says_what_to_do_next(client, editor):
    client.force_login(editor)
    response = client.get(LIST_URL, {"q": "tolkein"})
    assert "No books match “tolkein”." in response.text
    assert "Clear the search" in response.text


def test_search_terms_are_escaped(client, editor):
    client.force_login(editor)
    response = client.get(LIST_URL, {"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_row_menus_offer_only_what_the_user_may_do(client, editor, publisher, viewer):
    draft = InReviewBookFactory(submitted_by=editor)
    edit_url = reverse("bookshelf:book-update", args=[draft.pk])
    approve_url = reverse("bookshelf:book-approve", args=[draft.pk])
    withdraw_url = reverse("bookshelf:book-withdraw", args=[draft.pk])
    delete_url = reverse("bookshelf:book-delete", args=[draft.pk])

    client.force_login(publisher)
    page = client.get(LIST_URL).text
    assert edit_url in page
    assert approve_url in page
    assert delete_url not in page

    client.force_login(editor)  # the submitter: may withdraw, may not edit while in review
    page = client.get(LIST_URL).text
    assert withdraw_url in page
    assert edit_url not in page
    assert approve_url not in page

    PublishedBookFactory()
    client.force_login(viewer)
    page = client.get(LIST_URL).text
    assert "/edit/" not in page
    assert "Actions for " not in page
    assert "New book" not in page


# --- Create --------------------------------------------------------------------------------


def test_create_with_htmx_returns_the_new_highlighted_row(client, editor):
    client.force_login(editor)
    response = client.post(
        reverse("bookshelf:book-create"), book_data(isbn="0-441-17271-7"), **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    book = Book.objects.get()
    assert book.isbn == "9780441172719"
    assert book.created_by == editor
    assert f'<tr id="book-{book.pk}" class="row-highlight">' in response.text
    assert toasts(response) == [{"message": "Book added", "level": "success"}]


def test_create_without_javascript_redirects_to_the_book(client, editor):
    client.force_login(editor)
    response = client.post(reverse("bookshelf:book-create"), book_data())
    book = Book.objects.get()
    assert response["Location"] == book.get_absolute_url()
    assert not book.is_published


def test_invalid_create_with_htmx_re_renders_the_form_row(client, editor):
    client.force_login(editor)
    response = client.post(
        reverse("bookshelf:book-create"),
        book_data(title="", isbn="978-0-441-17271-0", publication_year=1200),
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    assert response.text.lstrip().startswith('<tr id="book-new"')
    assert "This field is required." in response.text
    assert "check digit is wrong" in response.text
    assert "greater than or equal to 1450" in response.text
    assert Book.objects.count() == 0


def test_invalid_create_without_javascript_shows_the_page_with_errors(client, editor):
    client.force_login(editor)
    response = client.post(reverse("bookshelf:book-create"), book_data(author=""))
    assert response.status_code == HTTPStatus.OK
    assert "<html" in response.text
    assert "This field is required." in response.text
    assert Book.objects.count() == 0


def test_duplicate_isbn_is_a_field_error(client, editor):
    BookFactory(isbn="9780441172719")
    client.force_login(editor)
    response = client.post(reverse("bookshelf:book-create"), book_data(isbn="0441172717"), **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "Book with this ISBN already exists." in response.text


# --- Update and optimistic locking ----------------------------------------------------------


def test_edit_with_htmx_returns_the_row_form(client, editor):
    book = BookFactory(title="Dune")
    client.force_login(editor)
    response = client.get(reverse("bookshelf:book-update", args=[book.pk]), **HTMX)
    assert response.text.lstrip().startswith(f'<tr id="book-{book.pk}"')
    assert 'name="version" value="1"' in response.text
    assert 'value="Dune"' in response.text


def test_save_with_htmx_swaps_the_row_back(client, editor):
    book = BookFactory(title="Dune")
    client.force_login(editor)
    response = client.post(
        reverse("bookshelf:book-update", args=[book.pk]),
        book_data(title="Dune II", version=1),
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    assert ">Dune II</a>" in response.text
    assert '<form method="post" action="/books/' not in response.text.split("dropdown")[0]
    book.refresh_from_db()
    assert (book.title, book.version, book.updated_by) == ("Dune II", 2, editor)
    assert toasts(response) == [{"message": "Book saved", "level": "success"}]


def test_save_without_javascript_goes_back_to_a_safe_next(client, editor):
    book = BookFactory()
    client.force_login(editor)
    url = reverse("bookshelf:book-update", args=[book.pk])
    response = client.post(url, book_data(version=1, next="/books/?q=sol"))
    assert response["Location"] == "/books/?q=sol"
    response = client.post(url, book_data(version=2, next="https://evil.example/"))
    assert response["Location"] == book.get_absolute_url()


def test_invalid_edit_with_htmx_keeps_the_row_form_and_saves_nothing(client, editor):
    book = BookFactory(title="Dune")
    client.force_login(editor)
    response = client.post(
        reverse("bookshelf:book-update", args=[book.pk]), book_data(title="", version=1), **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    assert response.text.lstrip().startswith(f'<tr id="book-{book.pk}"')
    assert "is-invalid" in response.text
    book.refresh_from_db()
    assert (book.title, book.version) == ("Dune", 1)


def test_conflicting_edit_shows_theirs_keeps_mine_and_can_reapply(client, editor, publisher):
    book = BookFactory(title="Original")
    url = reverse("bookshelf:book-update", args=[book.pk])
    client.force_login(publisher)
    client.post(url, book_data(title="Theirs", version=1))

    client.force_login(editor)
    response = client.post(url, book_data(title="Mine", version=1), **HTMX)
    # 200 for htmx (an outcome the form explains; a 4xx is a console error in Chromium),
    # 409 without JavaScript (below).
    assert response.status_code == HTTPStatus.OK
    assert "Changed by Publisher" in response.text
    assert '<dd class="col-sm-9">Theirs</dd>' in response.text
    assert 'value="Mine"' in response.text  # my version is still in the form
    assert 'name="version" value="2"' in response.text  # based on theirs now
    assert "Apply my changes again" in response.text
    book.refresh_from_db()
    assert book.title == "Theirs"

    response = client.post(url, book_data(title="Mine", version=2), **HTMX)
    assert response.status_code == HTTPStatus.OK
    book.refresh_from_db()
    assert (book.title, book.version) == ("Mine", 3)


def test_conflict_without_javascript_is_a_409_page(client, editor):
    book = BookFactory(title="Original", version=5)
    client.force_login(editor)
    response = client.post(
        reverse("bookshelf:book-update", args=[book.pk]), book_data(title="Mine", version=4)
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert "<html" in response.text
    assert "while you were editing" in response.text


def test_edit_without_a_version_is_refused_clearly(client, editor):
    book = BookFactory()
    client.force_login(editor)
    response = client.post(reverse("bookshelf:book-update", args=[book.pk]), book_data(), **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "Reload the page and edit the book again." in response.text


# --- Delete -------------------------------------------------------------------------------


def test_delete_with_htmx_asks_inline_then_removes_the_row(client, superuser):
    book = BookFactory(title="Dune")
    url = reverse("bookshelf:book-delete", args=[book.pk])
    client.force_login(superuser)
    confirm = client.get(url, **HTMX)
    assert "Delete “Dune”? This cannot be undone." in confirm.text
    assert "<html" not in confirm.text
    response = client.post(url, {"version": book.version}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert response.content == b""
    assert not Book.objects.exists()
    assert toasts(response) == [{"message": "“Dune” deleted", "level": "success"}]


def test_delete_without_javascript_confirms_on_a_page_and_redirects(client, superuser):
    book = BookFactory(title="Dune")
    url = reverse("bookshelf:book-delete", args=[book.pk])
    client.force_login(superuser)
    assert "<html" in client.get(url).text
    response = client.post(url, {"version": book.version})
    assert response["Location"] == LIST_URL
    assert not Book.objects.exists()


def test_delete_confirmed_before_someone_elses_edit_asks_again(client, superuser, editor):
    """Two writers, one version: the confirmation showed version 1, an editor saved since;
    the delete is refused with the book as it is now, and confirming that deletes it."""
    book = BookFactory(title="Dune")
    url = reverse("bookshelf:book-delete", args=[book.pk])
    client.force_login(superuser)
    confirm = client.get(url, **HTMX).text
    assert 'name="version" value="1"' in confirm
    Book.objects.filter(pk=book.pk).update(title="Dune (editor)", version=2, updated_by=editor)

    for headers, status in (({}, HTTPStatus.CONFLICT), (HTMX, HTTPStatus.OK)):
        response = client.post(url, {"version": 1}, **headers)
        assert response.status_code == status
        text = html.unescape(response.text)
        assert "nothing was deleted. It now reads “Dune (editor)”" in text
        assert 'name="version" value="2"' in text
        assert Book.objects.filter(pk=book.pk).exists()
    response = client.post(url, {"version": 2}, **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert not Book.objects.filter(pk=book.pk).exists()


def test_delete_without_its_version_deletes_nothing_and_says_so(client, superuser):
    book = BookFactory()
    client.force_login(superuser)
    response = client.post(reverse("bookshelf:book-delete", args=[book.pk]))
    assert "This form is incomplete" in response.text
    assert Book.objects.filter(pk=book.pk).exists()


def test_delete_only_reaches_books_the_user_can_see(client, make_user):
    draft = BookFactory()
    client.force_login(make_user("bookshelf.delete_book"))
    response = client.post(reverse("bookshelf:book-delete", args=[draft.pk]))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Book.objects.filter(pk=draft.pk).exists()


# --- State changes -------------------------------------------------------------------------


def test_publish_with_htmx_approves_and_returns_the_row_and_a_toast(client, publisher, editor):
    book = InReviewBookFactory(submitted_by=editor)
    client.force_login(publisher)
    response = client.post(reverse("bookshelf:book-publish", args=[book.pk]), **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert response.text.lstrip().startswith(f'<tr id="book-{book.pk}"')
    assert "Published</span>" in response.text
    assert toasts(response) == [{"message": "Approved: the book is published", "level": "success"}]
    book.refresh_from_db()
    assert book.is_published


def test_publish_without_javascript_redirects_back(client, publisher, editor):
    book = InReviewBookFactory(submitted_by=editor)
    client.force_login(publisher)
    response = client.post(
        reverse("bookshelf:book-publish", args=[book.pk]), {"next": "/books/?page=2"}
    )
    assert response["Location"] == "/books/?page=2"
    response = client.get(response["Location"])
    assert "Approved: the book is published" in response.text


def test_an_action_that_no_longer_applies_explains_and_shows_the_truth(client, publisher, editor):
    """A stale ⋯ menu: someone published it meanwhile; the refusal says who did, and
    when, rather than restating the rule."""
    book = PublishedBookFactory(updated_by=editor)
    Book.objects.filter(pk=book.pk).update(updated_at=timezone.now() - timedelta(minutes=1))
    client.force_login(publisher)
    response = client.post(reverse("bookshelf:book-publish", args=[book.pk]), **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "Published</span>" in response.text
    assert toasts(response) == [
        {
            "message": f"Already published: approved by {editor} 1\xa0minute ago.",
            "level": "danger",
        }
    ]
    # A state it can't get to from here (a draft) states the rule instead.
    draft = BookFactory()
    response = client.post(reverse("bookshelf:book-publish", args=[draft.pk]), **HTMX)
    assert toasts(response) == [
        {
            "message": "This book is not in review. Submit it for review first.",
            "level": "danger",
        }
    ]


def test_denied_htmx_request_gets_a_toast_partial_not_an_error_page(client, editor):
    book = BookFactory()
    client.force_login(editor)
    response = client.post(reverse("bookshelf:book-publish", args=[book.pk]), **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["HX-Retarget"] == "#toasts"
    assert response["HX-Reswap"] == "beforeend"
    assert "You don&#x27;t have permission to approve books." in response.text
    assert "<html" not in response.text
    assert 'class="toast' in response.text


def test_denied_plain_request_gets_the_403_page(client, editor):
    book = BookFactory()
    client.force_login(editor)
    response = client.post(reverse("bookshelf:book-publish", args=[book.pk]))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "<html" in response.text
    assert (
        "You don&#x27;t have permission" in response.text
        or "You don't have permission" in response.text
    )


def test_anonymous_htmx_request_is_sent_to_log_in_and_back(client):
    book = BookFactory()
    response = client.post(reverse("bookshelf:book-publish", args=[book.pk]), **HTMX)
    assert response["HX-Redirect"] == "/accounts/login/?next=/books/%3Fq%3Dx"


def test_hidden_book_under_htmx_is_a_404_toast(client, viewer):
    draft = BookFactory()
    client.force_login(viewer)
    response = client.get(draft.get_absolute_url(), **HTMX)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["HX-Retarget"] == "#toasts"
    assert "<html" not in response.text


def test_expired_csrf_under_htmx_is_a_toast():
    from django.test import Client

    from apps.accounts.tests.factories import SuperuserFactory

    client = Client(enforce_csrf_checks=True)
    client.force_login(SuperuserFactory())
    book = BookFactory()
    response = client.post(reverse("bookshelf:book-publish", args=[book.pk]), **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "This page has expired" in response.content.decode()
    assert response["HX-Retarget"] == "#toasts"


# --- Detail ---------------------------------------------------------------------------------


def test_detail_says_which_roles_can_do_what_the_user_cannot(client, editor):
    book = BookFactory(description="Line one\n<b>bold?</b>")
    client.force_login(editor)
    page = client.get(book.get_absolute_url()).text
    # The policy's own sentences, and the roles that hold each permission.
    text = html.unescape(page)
    assert "You don't have permission to approve books. Who can: Admins, Publishers." in text
    assert "You don't have permission to delete books. Who can: Admins." in text
    assert "You don't have permission to archive books. Who can: Admins, Librarians." in text
    assert "to edit books" not in text
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page
    assert "Line one<br>" in page


def test_cancel_of_an_inline_edit_gets_the_plain_row(client, editor):
    book = BookFactory(title="Dune")
    client.force_login(editor)
    response = client.get(book.get_absolute_url(), **HTMX)
    assert response.text.lstrip().startswith(f'<tr id="book-{book.pk}"')
    assert ">Dune</a>" in response.text


def test_home_page_shows_featured_public_books_only(client):
    PublishedBookFactory(title="Star Book", is_featured=True)
    PublishedBookFactory(title="Plain Book")
    page = client.get("/").text
    assert "Featured books" in page
    assert "Star Book" in page
    assert "Plain Book" not in page
