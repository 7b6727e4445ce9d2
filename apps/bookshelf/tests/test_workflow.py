"""The editorial workflow (issue 11): draft → in review → published, four eyes on approval.

Every transition is checked per role through the service and through its endpoint; then
the four-eyes rule, the required comment, editing during review, the history (written and
rolled back with its change, append-only), the database constraints, the e-mails (only
after commit, only to who should hear), the review queue, the navbar, the list's filter,
the dashboard and the queue's query count."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.bookshelf.models import Book, BookEvent
from apps.bookshelf.services import (
    BookActionError,
    book_apply_action,
    book_create,
    book_delete,
    book_update,
)
from apps.core.counting import CounterBump
from apps.core.policy import PolicyDenied
from apps.core.tests.support import htmx, in_role, toasts

from .factories import BookFactory, PublishedBookFactory

pytestmark = pytest.mark.django_db

HTMX = htmx("/books/")
REVIEW_URL = reverse("bookshelf:review-queue")
LIST_URL = reverse("bookshelf:book-list")
HOME_URL = reverse("core:home")

FOUR_EYES = "You submitted this book; another publisher must approve it."
IN_REVIEW_EDIT = (
    "This book is in review: only publishers can edit it until the review ends. "
    "Withdraw it from review to change it."
)
NO_EDIT = "You don't have permission to edit books."
NO_APPROVE = "You don't have permission to approve books."
NO_REVIEW = "You don't have permission to review books."
NOT_SUBMITTER = "Only the person who submitted this book, or a publisher, can withdraw it."
COMMENT_REQUIRED = "Say what should change: the comment is required."
COMMENT = "Chapter 3 contradicts chapter 1; please check the dates."

ROLES = ["viewer", "editor", "librarian", "publisher", "roleadmin", "superuser"]


# --- People and books ------------------------------------------------------------------------


def member_of(username: str, role: str, **fields):
    """A user in one of the real roles (the groups migrate creates)."""
    return in_role(role, username=username, first_name=username.title(), **fields)


@pytest.fixture
def librarian(db):
    return member_of("librarian", "Librarians")


@pytest.fixture
def roleadmin(db):
    return member_of("roleadmin", "Admins")


@pytest.fixture
def author(db):
    """The editor who submits the books the others review (none of the personas)."""
    return member_of("author", "Editors", last_name="Ames")


@pytest.fixture
def second_publisher(db):
    return member_of("publisher2", "Publishers", last_name="Second")


def as_role(request, role: str):
    return request.getfixturevalue(role)


def submitted(by, **fields) -> Book:
    """A draft submitted for review by ``by``, through the service."""
    return book_apply_action(book=BookFactory(**fields), action="submit", user=by)


def events(book: Book) -> list[str]:
    """The book's history, newest first, as action names."""
    return list(BookEvent.objects.of_book(book.pk).values_list("action", flat=True))


def url(name: str, book: Book) -> str:
    return reverse(f"bookshelf:book-{name}", args=[book.pk])


def book_data(book: Book, **changes) -> dict:
    return {
        "title": book.title,
        "author": book.author,
        "isbn": book.isbn or "",
        "publication_year": book.publication_year,
        "description": book.description,
        "version": book.version,
        **changes,
    }


# --- Which role may apply which transition -----------------------------------------------------

# Books in review are submitted by `author`, so "editor" below is another editor.
ALLOWED = {
    "submit": {"editor", "librarian", "publisher", "roleadmin", "superuser"},
    "approve": {"publisher", "roleadmin", "superuser"},
    "request_changes": {"publisher", "roleadmin", "superuser"},
    "withdraw": {"publisher", "roleadmin", "superuser"},
}
REFUSAL = {
    "submit": {"viewer": NO_EDIT},
    "approve": {"viewer": NO_APPROVE, "editor": NO_APPROVE, "librarian": NO_APPROVE},
    "request_changes": {"viewer": NO_REVIEW, "editor": NO_REVIEW, "librarian": NO_REVIEW},
    "withdraw": {"viewer": NO_EDIT, "editor": NOT_SUBMITTER, "librarian": NOT_SUBMITTER},
}
EVENT = {
    "submit": BookEvent.Action.SUBMITTED,
    "approve": BookEvent.Action.APPROVED,
    "request_changes": BookEvent.Action.CHANGES_REQUESTED,
    "withdraw": BookEvent.Action.WITHDRAWN,
}
CASES = [(action, role) for action in ALLOWED for role in ROLES]


def test_the_tables_cover_every_role():
    for action, allowed in ALLOWED.items():
        assert allowed | REFUSAL[action].keys() == set(ROLES), action
        assert not allowed & REFUSAL[action].keys(), action


def starting_book(action: str, author) -> Book:
    return BookFactory() if action == "submit" else submitted(author)


def assert_transition_applied(action: str, book: Book, user, author) -> None:
    book.refresh_from_db()
    if action == "submit":
        assert (book.is_in_review, book.is_published) == (True, False)
        assert book.submitted_by == user
        assert book.submitted_at is not None
    elif action == "approve":
        assert (book.is_in_review, book.is_published) == (False, True)
        assert book.published_at is not None
        assert book.submitted_at is None
        assert book.submitted_by == author  # kept: the submitter hears the outcome
    else:  # back to draft
        assert (book.is_in_review, book.is_published, book.is_archived) == (False, False, False)
        assert book.submitted_at is None
        assert book.review_comment == (COMMENT if action == "request_changes" else "")
    assert book.updated_by == user
    latest = BookEvent.objects.of_book(book.pk).first()
    assert (latest.action, latest.actor_id, latest.actor_username) == (
        EVENT[action],
        user.pk,
        user.username,
    )
    assert latest.comment == (COMMENT if action == "request_changes" else "")


@pytest.mark.parametrize(("action", "role"), CASES)
def test_service_applies_or_refuses_each_transition_per_role(request, author, action, role):
    user = as_role(request, role)
    book = starting_book(action, author)
    before = (book.version, events(book))
    comment = COMMENT if action == "request_changes" else ""

    if role in ALLOWED[action]:
        fresh = book_apply_action(book=book, action=action, user=user, comment=comment)
        assert fresh.version == before[0] + 1
        assert_transition_applied(action, book, user, author)
        assert len(events(book)) == len(before[1]) + 1
    else:
        with pytest.raises(PolicyDenied) as refused:
            book_apply_action(book=book, action=action, user=user, comment=comment)
        assert str(refused.value) == REFUSAL[action][role]
        book.refresh_from_db()
        assert (book.version, events(book)) == before  # nothing changed, nothing recorded


@pytest.mark.parametrize(("action", "role"), CASES)
def test_endpoint_applies_or_refuses_each_transition_per_role(
    request, client, author, action, role
):
    user = as_role(request, role)
    book = starting_book(action, author)
    before = (book.version, events(book))
    client.force_login(user)

    response = client.post(url(action.replace("_", "-"), book), {"comment": COMMENT})

    if role in ALLOWED[action]:
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == book.get_absolute_url()
        assert_transition_applied(action, book, user, author)
    else:
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert html.escape(REFUSAL[action][role]) in response.text
        book.refresh_from_db()
        assert (book.version, events(book)) == before


@pytest.mark.parametrize(
    ("action", "state", "message"),
    [
        ("approve", "draft", "This book is not in review. Submit it for review first."),
        ("approve", "published", "Already published: approved by"),
        # A draft that was never in review: nobody took it back, so the rule is stated.
        ("request_changes", "draft", "This book is not in review."),
        ("withdraw", "draft", "This book is not in review."),
        # Sent back meanwhile (a stale page): who did, and when.
        (
            "request_changes",
            "sent back",
            "No longer in review: Publisher2 Second requested changes",
        ),
        ("withdraw", "withdrawn", "No longer in review: Author Ames withdrew from review"),
        ("withdraw", "published", "This book is not in review."),
        ("submit", "in review", "Already in review: submitted by Author Ames"),
        ("submit", "published", "Only drafts can be submitted for review."),
        ("archive", "in review", "A book in review cannot be archived"),
    ],
)
def test_a_transition_from_the_wrong_state_is_refused_and_records_nothing(
    superuser, author, second_publisher, action, state, message
):
    if state == "draft":
        book = BookFactory()
    elif state == "in review":
        book = submitted(author)
    elif state == "sent back":
        book = book_apply_action(
            book=submitted(author), action="request_changes", user=second_publisher, comment="x"
        )
    elif state == "withdrawn":
        book = book_apply_action(book=submitted(author), action="withdraw", user=author)
    else:
        book = book_apply_action(book=submitted(author), action="approve", user=second_publisher)
    before = (book.version, events(book))
    with pytest.raises(BookActionError) as refused:
        book_apply_action(book=book, action=action, user=superuser, comment=COMMENT)
    assert message in str(refused.value)
    assert refused.value.current.pk == book.pk
    book.refresh_from_db()
    assert (book.version, events(book)) == before


def test_submitting_a_book_already_in_review_names_its_submitter(author, editor, publisher):
    """A stale "Submit" after a publisher touched the book in review: the refusal says
    "submitted by" and must name the submitter, not whoever changed the book last."""
    book = submitted(author)
    stale = Book.objects.get(pk=book.pk)
    Book.objects.filter(pk=book.pk).update(
        submitted_at=timezone.now() - timedelta(days=3)  # waiting for three days
    )
    book_update(
        book=Book.objects.get(pk=book.pk),
        fields={"description": "Blurb fixed by the publisher."},
        expected_version=2,
        user=publisher,
    )
    stale.is_in_review = False  # the editor's page still showed a draft
    with pytest.raises(BookActionError) as refused:
        book_apply_action(book=stale, action="submit", user=editor)
    assert str(refused.value) == "Already in review: submitted by Author Ames 3\xa0days ago."


def test_approving_a_book_already_published_names_who_approved_it(
    author, editor, publisher, second_publisher
):
    """The second publisher's stale "Approve" after the book was published and then
    edited (a published book is edited directly): "approved by" must name the approver."""
    book = submitted(author)
    stale = Book.objects.get(pk=book.pk)
    book = book_apply_action(book=book, action="approve", user=publisher)
    book_update(book=book, fields={"description": "Typo."}, expected_version=3, user=editor)
    with pytest.raises(BookActionError) as refused:
        book_apply_action(book=stale, action="approve", user=second_publisher)
    assert str(refused.value).startswith(f"Already published: approved by {publisher} ")


def test_a_full_round_draft_review_changes_resubmit_approve(author, publisher):
    book = book_create(
        fields={"title": "Solaris", "author": "Lem", "publication_year": 1961}, user=author
    )
    book = book_apply_action(book=book, action="submit", user=author)
    book = book_apply_action(
        book=book, action="request_changes", user=publisher, comment=f"  {COMMENT}  "
    )
    assert book.review_comment == COMMENT  # stripped
    assert book.submitted_by == author
    book = book_apply_action(book=book, action="submit", user=author)
    assert book.review_comment == ""  # a new submission clears the old request
    book = book_apply_action(book=book, action="approve", user=publisher)
    assert book.is_published
    assert book.review_comment == ""
    assert events(book) == ["approved", "submitted", "changes_requested", "submitted", "created"]
    assert BookEvent.objects.get(book_id=book.pk, action="changes_requested").comment == COMMENT
    # Unpublishing gives a draft that must go through review again to come back.
    book = book_apply_action(book=book, action="unpublish", user=publisher)
    with pytest.raises(BookActionError, match="Submit it for review first"):
        book_apply_action(book=book, action="approve", user=publisher)


# --- Four eyes -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["publisher", "roleadmin", "superuser"])
def test_nobody_approves_their_own_submission_not_even_a_superuser(request, role):
    user = as_role(request, role)
    book = submitted(user)
    before = events(book)
    with pytest.raises(PolicyDenied) as refused:
        book_apply_action(book=book, action="approve", user=user)
    assert str(refused.value) == FOUR_EYES
    book.refresh_from_db()
    assert (book.is_in_review, book.is_published) == (True, False)
    assert events(book) == before


def test_another_publisher_approves_what_a_publisher_submitted(publisher, second_publisher):
    book = submitted(publisher)
    assert book_apply_action(book=book, action="approve", user=second_publisher).is_published


def test_the_submitter_may_still_withdraw_or_have_changes_requested_by_another(
    publisher, second_publisher
):
    book = submitted(publisher)
    book = book_apply_action(
        book=book, action="request_changes", user=second_publisher, comment=COMMENT
    )
    assert not book.is_in_review
    book = book_apply_action(book=book, action="submit", user=publisher)
    assert not book_apply_action(book=book, action="withdraw", user=publisher).is_in_review


@pytest.mark.parametrize("name", ["approve", "publish"])
@pytest.mark.parametrize("role", ["publisher", "superuser"])
def test_approving_your_own_submission_over_http_is_a_403_with_the_sentence(
    request, client, role, name
):
    user = as_role(request, role)
    client.force_login(user)
    book = BookFactory()
    assert client.post(url("submit", book)).status_code == HTTPStatus.FOUND
    book.refresh_from_db()
    assert book.submitted_by == user

    response = client.post(url(name, book))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "<html" in response.text
    assert html.escape(FOUR_EYES) in response.text

    response = client.post(url(name, book), **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["HX-Retarget"] == "#toasts"
    assert 'class="toast' in response.text
    assert "<html" not in response.text
    assert html.escape(FOUR_EYES) in response.text

    book.refresh_from_db()
    assert (book.is_in_review, book.is_published) == (True, False)
    assert events(book)[0] == "submitted"


def test_the_submitting_publisher_is_told_why_on_the_page_and_in_the_queue(client, publisher):
    book = submitted(publisher, title="My Own Book")
    client.force_login(publisher)
    page = client.get(book.get_absolute_url())
    assert html.escape(FOUR_EYES) in page.text
    assert url("approve", book) not in page.text
    queue = client.get(REVIEW_URL)
    assert f'id="review-{book.pk}-why"' in queue.text
    assert html.escape(FOUR_EYES) in queue.text
    assert f'action="{url("approve", book)}"' not in queue.text


# --- The endpoints' answers ----------------------------------------------------------------


def test_publish_endpoint_approves_a_book_in_review(client, author, publisher):
    book = submitted(author)
    client.force_login(publisher)
    response = client.post(url("publish", book))
    assert response.status_code == HTTPStatus.FOUND
    book.refresh_from_db()
    assert (book.is_published, book.is_in_review) == (True, False)
    assert events(book)[0] == "approved"


def test_publish_endpoint_refuses_a_draft_saying_submit_it_first(client, publisher):
    book = BookFactory()
    client.force_login(publisher)
    response = client.post(url("publish", book), follow=True)
    assert response.redirect_chain == [(book.get_absolute_url(), HTTPStatus.FOUND)]
    assert "Submit it for review first" in response.text
    response = client.post(url("publish", book), **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert toasts(response) == [
        {
            "message": "This book is not in review. Submit it for review first.",
            "level": "danger",
        }
    ]
    book.refresh_from_db()
    assert (book.is_published, book.version) == (False, 1)
    assert events(book) == []


def test_htmx_approve_from_the_list_returns_the_row_and_a_toast(client, author, publisher):
    book = submitted(author, title="Row Book")
    client.force_login(publisher)
    response = client.post(url("approve", book), **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert f'<tr id="book-{book.pk}"' in response.text
    assert "<html" not in response.text
    assert toasts(response) == [{"message": "Approved: the book is published", "level": "success"}]


def test_htmx_approve_from_the_queue_removes_the_queue_row(client, author, publisher):
    book = submitted(author)
    client.force_login(publisher)
    response = client.post(url("approve", book), HTTP_HX_TARGET=f"review-{book.pk}", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert response.content == b""
    assert toasts(response)[0]["level"] == "success"
    book.refresh_from_db()
    assert book.is_published


def test_htmx_submit_returns_the_row_showing_in_review(client, editor):
    book = BookFactory()
    client.force_login(editor)
    response = client.post(url("submit", book), **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "In review" in response.text
    assert toasts(response) == [
        {"message": "Submitted for review; a publisher will look at it", "level": "success"}
    ]


def test_action_endpoints_take_only_post(client, author, publisher):
    book = submitted(author)
    client.force_login(publisher)
    for name in ("submit", "approve", "withdraw", "publish"):
        assert client.get(url(name, book)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    book.refresh_from_db()
    assert book.is_in_review


# --- Request changes: the comment ------------------------------------------------------------


@pytest.mark.parametrize("comment", ["", "   \n "])
def test_request_changes_without_a_comment_is_refused_by_the_service(author, publisher, comment):
    book = submitted(author)
    before = (book.version, events(book))
    with pytest.raises(ValidationError) as refused:
        book_apply_action(book=book, action="request_changes", user=publisher, comment=comment)
    assert refused.value.messages == [COMMENT_REQUIRED]
    book.refresh_from_db()
    assert book.is_in_review
    assert (book.version, events(book)) == before


def test_request_changes_form_page_is_for_publishers(client, author, editor, publisher):
    book = submitted(author)
    client.force_login(publisher)
    page = client.get(url("request-changes", book))
    assert page.status_code == HTTPStatus.OK
    assert 'name="comment"' in page.text
    client.force_login(editor)
    assert client.get(url("request-changes", book)).status_code == HTTPStatus.FORBIDDEN


def test_plain_post_without_a_comment_shows_the_form_again_with_the_error(
    client, author, publisher
):
    book = submitted(author)
    client.force_login(publisher)
    response = client.post(url("request-changes", book), {"comment": "  "})
    assert response.status_code == HTTPStatus.OK
    assert "<html" in response.text
    assert 'name="comment"' in response.text
    assert COMMENT_REQUIRED in response.text
    assert 'aria-invalid="true"' in response.text
    book.refresh_from_db()
    assert book.is_in_review
    assert events(book) == ["submitted"]


def test_htmx_post_without_a_comment_from_the_queue_returns_the_queue_row_with_errors(
    client, author, publisher
):
    book = submitted(author)
    client.force_login(publisher)
    response = client.post(
        url("request-changes", book), {"comment": ""}, HTTP_HX_TARGET=f"review-{book.pk}", **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    assert "<html" not in response.text
    assert f'<tr id="review-{book.pk}"' in response.text
    assert COMMENT_REQUIRED in response.text
    assert "<details open>" in response.text  # the form stays open on its error
    book.refresh_from_db()
    assert book.is_in_review


def test_htmx_post_without_a_comment_from_the_list_returns_the_inline_form_with_errors(
    client, author, publisher
):
    book = submitted(author)
    client.force_login(publisher)
    response = client.post(
        url("request-changes", book), {"comment": ""}, HTTP_HX_TARGET=f"book-{book.pk}", **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    assert "<html" not in response.text
    assert f'<tr id="book-{book.pk}" class="table-active">' in response.text
    assert COMMENT_REQUIRED in response.text
    book.refresh_from_db()
    assert book.is_in_review


def test_htmx_request_changes_from_the_queue_removes_the_row(client, author, publisher):
    book = submitted(author)
    client.force_login(publisher)
    response = client.post(
        url("request-changes", book),
        {"comment": COMMENT},
        HTTP_HX_TARGET=f"review-{book.pk}",
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    assert response.content == b""
    assert toasts(response) == [
        {"message": "Changes requested; the book is a draft again", "level": "success"}
    ]


def test_the_comment_is_shown_to_the_submitter_on_the_book_and_the_dashboard(
    client, author, publisher
):
    book = submitted(author, title="Sent Back")
    book_apply_action(book=book, action="request_changes", user=publisher, comment=COMMENT)
    client.force_login(author)
    page = client.get(book.get_absolute_url())
    assert "Changes requested before this book can be published:" in page.text
    assert COMMENT in page.text
    dashboard = client.get(HOME_URL)
    assert 'id="changes-requested-heading"' in dashboard.text
    assert "Changes requested" in dashboard.text
    assert "Sent Back" in dashboard.text
    assert COMMENT in dashboard.text
    # Submitting again ends the request: off the dashboard's "Changes requested".
    book_apply_action(book=Book.objects.get(pk=book.pk), action="submit", user=author)
    dashboard = client.get(HOME_URL)
    assert 'id="changes-requested-heading"' not in dashboard.text
    assert 'id="mine-in-review-heading"' in dashboard.text


def test_the_dashboard_shows_publishers_what_awaits_them_but_not_their_own(
    client, author, publisher
):
    submitted(author, title="Theirs To Review")
    submitted(publisher, title="Mine Waiting")
    client.force_login(publisher)
    dashboard = client.get(HOME_URL)
    assert dashboard.context["editorial"].awaiting_review.total == 1
    assert [b.title for b in dashboard.context["editorial"].awaiting_review.books] == [
        "Theirs To Review"
    ]
    assert "Awaiting your review" in dashboard.text
    assert [b.title for b in dashboard.context["editorial"].mine_in_review.books] == [
        "Mine Waiting"
    ]
    client.force_login(author)
    dashboard = client.get(HOME_URL)
    assert "Awaiting your review" not in dashboard.text
    assert "Your books in review" in dashboard.text


# --- Withdraw --------------------------------------------------------------------------------


def test_withdraw_by_the_submitter_over_http(client, author):
    book = submitted(author)
    client.force_login(author)
    response = client.post(url("withdraw", book))
    assert response.status_code == HTTPStatus.FOUND
    book.refresh_from_db()
    assert (book.is_in_review, book.submitted_at) == (False, None)
    assert events(book)[0] == "withdrawn"


def test_withdraw_by_another_editor_is_refused_under_htmx_with_a_toast(client, author, editor):
    book = submitted(author)
    client.force_login(editor)
    response = client.post(url("withdraw", book), **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["HX-Retarget"] == "#toasts"
    assert html.escape(NOT_SUBMITTER) in response.text
    book.refresh_from_db()
    assert book.is_in_review


# --- Editing during review, and after publication ---------------------------------------------


def test_editors_cannot_edit_a_book_in_review_even_their_own(author, editor):
    for book in (submitted(author), submitted(editor)):
        with pytest.raises(PolicyDenied) as refused:
            book_update(book=book, fields={"title": "Changed"}, expected_version=2, user=editor)
        assert str(refused.value) == IN_REVIEW_EDIT
        book.refresh_from_db()
        assert book.title != "Changed"
        assert "edited" not in events(book)


def test_editing_a_book_in_review_over_http_is_refused_with_the_sentence(client, editor):
    book = submitted(editor, title="Under Review")
    client.force_login(editor)

    response = client.post(url("update", book), book_data(book, title="Sneaky change"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert html.escape(IN_REVIEW_EDIT) in response.text

    response = client.post(url("update", book), book_data(book, title="Sneaky change"), **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["HX-Retarget"] == "#toasts"
    assert html.escape(IN_REVIEW_EDIT) in response.text

    book.refresh_from_db()
    assert (book.title, book.is_in_review) == ("Under Review", True)
    assert events(book) == ["submitted"]

    # The book's page says why, and offers no Edit.
    page = client.get(book.get_absolute_url())
    assert html.escape(IN_REVIEW_EDIT) in page.text
    assert f'href="{url("update", book)}' not in page.text


def test_the_edit_form_of_a_book_in_review_is_not_offered_to_an_editor(client, editor):
    """The contract: refusals are 403 with the policy's sentence. Showing the form and
    refusing only on save would lose what the editor typed."""
    book = submitted(editor)
    client.force_login(editor)
    response = client.get(url("update", book))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert html.escape(IN_REVIEW_EDIT) in response.text


def test_publishers_edit_a_book_in_review_and_it_stays_in_review(client, author, publisher):
    book = submitted(author, title="Typo Titel")
    client.force_login(publisher)
    assert client.get(url("update", book)).status_code == HTTPStatus.OK
    response = client.post(url("update", book), book_data(book, title="Typo Title"))
    assert response.status_code == HTTPStatus.FOUND
    book.refresh_from_db()
    assert (book.title, book.is_in_review, book.submitted_by) == ("Typo Title", True, author)
    edited = BookEvent.objects.of_book(book.pk).first()
    assert (edited.action, edited.actor_id) == ("edited", publisher.pk)
    assert edited.changes == {"title": ["Typo Titel", "Typo Title"]}


def test_editing_a_published_book_applies_directly_and_is_in_its_history(client, editor):
    book = PublishedBookFactory(title="Old Title", publication_year=1990)
    client.force_login(editor)
    response = client.post(
        url("update", book), book_data(book, title="New Title", publication_year=1991)
    )
    assert response.status_code == HTTPStatus.FOUND
    book.refresh_from_db()
    assert (book.title, book.is_published, book.is_in_review) == ("New Title", True, False)
    (edited,) = BookEvent.objects.of_book(book.pk)
    assert (edited.action, edited.actor_id, edited.actor_username) == (
        "edited",
        editor.pk,
        "editor",
    )
    assert edited.changes == {"title": ["Old Title", "New Title"], "publication_year": [1990, 1991]}
    history = client.get(url("history", book))
    assert "<del>Old Title</del> → <ins>New Title</ins>" in history.text
    assert "<del>1990</del> → <ins>1991</ins>" in history.text


def test_an_edit_that_changes_nothing_writes_no_history(editor):
    book = PublishedBookFactory(title="Same")
    book_update(book=book, fields={"title": "Same"}, expected_version=1, user=editor)
    assert events(book) == []


# --- History: written with its change, rolled back with it, append-only ------------------------


def test_create_and_delete_are_in_the_history_which_outlives_the_book(roleadmin):
    book = book_create(
        fields={"title": "Ephemeral", "author": "A", "publication_year": 2000}, user=roleadmin
    )
    pk = book.pk
    book_delete(book=book, expected_version=1, user=roleadmin)
    assert not Book.objects.filter(pk=pk).exists()
    assert list(
        BookEvent.objects.of_book(pk).values_list("action", "book_title", "actor_username")
    ) == [("deleted", "Ephemeral", "roleadmin"), ("created", "Ephemeral", "roleadmin")]


@pytest.mark.parametrize("action", ["submit", "approve", "request_changes", "withdraw"])
def test_a_transition_rolled_back_takes_its_history_and_mail_with_it(
    author, publisher, action, django_capture_on_commit_callbacks
):
    book = starting_book(action, author)
    before = (book.version, book.is_in_review, book.is_published, events(book))
    mail.outbox.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        book_apply_action(book=book, action=action, user=publisher, comment=COMMENT)
        assert events(book)[0] == EVENT[action]  # written inside the transaction
        raise RuntimeError("something after the service failed")
    book.refresh_from_db()
    assert (book.version, book.is_in_review, book.is_published, events(book)) == before
    assert callbacks == []
    assert mail.outbox == []


def test_an_edit_rolled_back_takes_its_history_with_it(editor):
    book = PublishedBookFactory(title="Kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        book_update(book=book, fields={"title": "Lost"}, expected_version=1, user=editor)
        assert events(book) == ["edited"]
        raise RuntimeError
    book.refresh_from_db()
    assert (book.title, book.version) == ("Kept", 1)
    assert events(book) == []


def test_history_is_append_only(author):
    book = submitted(author)
    event = BookEvent.objects.get(book_id=book.pk)
    event.comment = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        BookEvent.objects.filter(pk=event.pk).update(comment="rewritten")
    with pytest.raises(TypeError, match="append-only"):
        BookEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(TypeError, match="append-only"):
        BookEvent.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"):
        BookEvent.objects.update(comment="rewritten")
    event = BookEvent.objects.get(pk=event.pk)
    assert (event.action, event.comment) == ("submitted", "")


def test_history_page_is_for_people_who_work_on_books(client, author, editor, viewer, publisher):
    book = submitted(author, title="Chronicle")
    book = book_apply_action(book=book, action="request_changes", user=publisher, comment=COMMENT)
    client.force_login(editor)
    response = client.get(url("history", book))
    assert response.status_code == HTTPStatus.OK
    assert [e.action for e in response.context["events"]] == ["changes_requested", "submitted"]
    assert "requested changes" in response.text
    assert "submitted for review" in response.text
    assert COMMENT in response.text
    # The book's own page shows the recent history too.
    assert "requested changes" in client.get(book.get_absolute_url()).text

    published = PublishedBookFactory()
    client.force_login(viewer)
    for target in (book, published):
        response = client.get(url("history", target))
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "Only people who may edit books can read their history." in response.text
    assert "requested changes" not in client.get(published.get_absolute_url()).text


# --- Database constraints ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"is_in_review": True},  # in review without a submission time
        {"submitted_at": timezone.now()},  # a submission time but not in review
        {"is_in_review": True, "submitted_at": timezone.now(), "is_archived": True},
    ],
    ids=["in-review-without-time", "time-without-review", "archived-in-review"],
)
def test_constraints_tie_review_to_its_time_and_to_drafts(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        BookFactory(**fields)


def test_a_published_book_cannot_be_in_review():
    book = PublishedBookFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Book.objects.filter(pk=book.pk).update(is_in_review=True, submitted_at=timezone.now())


def test_leaving_review_without_clearing_the_time_is_refused(author):
    book = submitted(author)
    with pytest.raises(IntegrityError), transaction.atomic():
        Book.objects.filter(pk=book.pk).update(is_in_review=False)


# --- E-mail after commit -----------------------------------------------------------------------


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_no_mail_before_commit_and_publishers_hear_of_a_submission_after(
    author, publisher, second_publisher, superuser, editor, viewer, librarian,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        book = submitted(author, title="Mailed")
    mailing = [callback for callback in callbacks if not isinstance(callback, CounterBump)]
    assert len(mailing) == 1  # (the others move the books' change counter: apps.core.counting)
    assert mail.outbox == []  # the transaction has not committed: nothing sent
    for callback in callbacks:  # what the commit runs
        callback()
    # Everyone who may approve (role or superuser), one message each; not the submitter,
    # nor those who cannot approve.
    assert recipients() == sorted([publisher.email, second_publisher.email, superuser.email])
    assert all(len(message.to) == 1 for message in mail.outbox)
    assert mail.outbox[0].subject == "To review: “Mailed”"
    assert "Author Ames submitted “Mailed” for review." in mail.outbox[0].body
    assert REVIEW_URL in mail.outbox[0].body
    assert book.get_absolute_url() in mail.outbox[0].body


def test_a_publisher_submitting_is_not_mailed_about_their_own_submission(
    publisher, second_publisher, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submitted(publisher)
    assert recipients() == [second_publisher.email]


def test_the_submitter_hears_of_the_approval_after_commit(
    author, publisher, django_capture_on_commit_callbacks
):
    book = submitted(author, title="Approved One")
    mail.outbox.clear()
    book_apply_action(book=book, action="approve", user=publisher)
    assert mail.outbox == []  # never before the commit (the test's transaction is open)

    book = submitted(author, title="Approved Two")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        book_apply_action(book=book, action="approve", user=publisher)
    assert recipients() == [author.email]
    assert mail.outbox[0].subject == "Published: “Approved Two”"
    assert f"{publisher} approved “Approved Two”: it is published." in mail.outbox[0].body


def test_the_submitter_hears_of_a_request_for_changes_with_the_comment(
    author, publisher, django_capture_on_commit_callbacks
):
    book = submitted(author, title="Needs Work")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        book_apply_action(book=book, action="request_changes", user=publisher, comment=COMMENT)
    assert recipients() == [author.email]
    assert mail.outbox[0].subject == "Changes requested: “Needs Work”"
    assert COMMENT in mail.outbox[0].body


@pytest.mark.parametrize("action", ["withdraw", "unpublish", "archive"])
def test_other_transitions_send_no_mail(
    author, superuser, action, django_capture_on_commit_callbacks
):
    book = submitted(author)
    if action != "withdraw":
        book = book_apply_action(book=book, action="approve", user=superuser)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        book_apply_action(book=book, action=action, user=superuser)
    assert callbacks == []
    assert mail.outbox == []


def test_people_who_turned_notifications_off_get_none(
    publisher, second_publisher, django_capture_on_commit_callbacks
):
    quiet_author = member_of("quiet_author", "Editors")
    for user in (quiet_author, second_publisher):
        user.email_notifications = False
        user.save(update_fields=["email_notifications"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        book = submitted(quiet_author)
        book = book_apply_action(
            book=book, action="request_changes", user=publisher, comment=COMMENT
        )
        book = book_apply_action(book=book, action="submit", user=quiet_author)
        book_apply_action(book=book, action="approve", user=publisher)
    # Only the publisher who kept them on hears of the two submissions; the submitter
    # hears nothing of the outcome.
    assert recipients() == [publisher.email, publisher.email]
    assert quiet_author.email not in recipients()


def test_a_title_with_a_line_break_does_not_break_the_submission_mail(
    client, editor, publisher, django_capture_on_commit_callbacks
):
    """The book form accepts a line break in a title; the mail's subject must not carry it
    (Django refuses a header with a newline: BadHeaderError, raised after the commit)."""
    client.force_login(editor)
    response = client.post(
        reverse("bookshelf:book-create"),
        {"title": "Line one\r\nLine two", "author": "A", "isbn": "", "publication_year": 1990},
    )
    assert response.status_code == HTTPStatus.FOUND
    book = Book.objects.get()
    assert "\n" in book.title
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        book_apply_action(book=book, action="submit", user=editor)
    book.refresh_from_db()
    assert book.is_in_review
    assert recipients() == [publisher.email]
    assert "\n" not in mail.outbox[0].subject
    assert "\r" not in mail.outbox[0].subject


def test_a_mail_server_down_does_not_undo_the_approval(
    author, publisher, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    book = submitted(author)
    with django_capture_on_commit_callbacks(execute=True):
        book_apply_action(book=book, action="approve", user=publisher)
    book.refresh_from_db()
    assert book.is_published


# --- The review queue, the navbar, the list's filter ------------------------------------------


def test_review_queue_lists_books_in_review_oldest_first_with_their_submitter(
    client, author, editor, publisher
):
    now = timezone.now()
    newest = submitted(author, title="Newest")
    oldest = submitted(editor, title="Oldest")
    middle = submitted(author, title="Middle")
    for book, hours in ((newest, 1), (oldest, 30), (middle, 5)):
        Book.objects.filter(pk=book.pk).update(submitted_at=now - timedelta(hours=hours))
    BookFactory(title="Just A Draft")
    PublishedBookFactory(title="Already Out")

    client.force_login(publisher)
    response = client.get(REVIEW_URL)
    assert response.status_code == HTTPStatus.OK
    assert [b.title for b in response.context["books"]] == ["Oldest", "Middle", "Newest"]
    text = response.text
    assert text.index("Oldest") < text.index("Middle") < text.index("Newest")
    assert "Just A Draft" not in text
    assert "Already Out" not in text
    cells = re.findall(r'<td class="review-submitter">(.*?)</td>', text, flags=re.DOTALL)
    shown = [re.sub(r"<[^>]+>", "", cell).removeprefix("Submitted by ").strip() for cell in cells]
    assert shown == [str(editor), str(author), str(author)]
    assert f'action="{url("approve", oldest)}"' in text


@pytest.mark.parametrize("role", ["viewer", "editor", "librarian"])
def test_review_queue_is_refused_to_those_who_cannot_approve(request, client, role):
    client.force_login(as_role(request, role))
    response = client.get(REVIEW_URL)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Only publishers can review books." in response.text


@pytest.mark.parametrize("role", ["roleadmin", "superuser"])
def test_review_queue_is_open_to_every_approver(request, client, role):
    client.force_login(as_role(request, role))
    assert client.get(REVIEW_URL).status_code == HTTPStatus.OK


def test_navbar_shows_review_with_the_count_to_publishers_only(client, author, editor, publisher):
    submitted(author)
    submitted(author)
    BookFactory()
    client.force_login(publisher)
    page = client.get(LIST_URL)
    assert (
        f'href="{REVIEW_URL}">Review <span class="badge rounded-pill text-bg-primary">2'
        in page.text
    )
    client.force_login(editor)
    assert f'href="{REVIEW_URL}"' not in client.get(LIST_URL).text


def test_list_status_filter_in_review(client, author, editor):
    in_review = submitted(author, title="Waiting")
    BookFactory(title="Plain Draft")
    PublishedBookFactory(title="Out There")
    client.force_login(editor)
    response = client.get(LIST_URL, {"status": "in_review"})
    assert [b.pk for b in response.context["books"]] == [in_review.pk]
    assert 'value="in_review"' in response.text  # offered in the filter
    drafts = client.get(LIST_URL, {"status": "draft"})
    assert [b.title for b in drafts.context["books"]] == ["Plain Draft"]


# --- Cost ------------------------------------------------------------------------------------

# Session, user, the user's permissions, their group permissions, the navbar's count, the
# paginator's count, the page of books with their submitters.
QUEUE_QUERIES = 7


@pytest.mark.parametrize("count", [3, 60])
def test_review_queue_query_count_does_not_grow_with_the_books(
    client, author, publisher, count, django_assert_max_num_queries
):
    submitters = [author, member_of("author2", "Editors"), member_of("author3", "Editors")]
    now = timezone.now()
    Book.objects.bulk_create(
        BookFactory.build(
            isbn=None,
            is_in_review=True,
            submitted_at=now - timedelta(minutes=index),
            submitted_by=submitters[index % 3],
        )
        for index in range(count)
    )
    client.force_login(publisher)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        response = client.get(REVIEW_URL)
    assert len(response.context["books"]) == min(count, 25)
    assert response.text.count('class="review-submitter"') == min(count, 25)


# --- What the review found: decisions about what was seen, co-authors, archives -------------


def test_an_approval_is_of_the_version_the_publisher_saw(client, author, publisher):
    """The submitter withdraws, rewrites and resubmits while the publisher reads: the
    publisher's Approve (made about the old text) is refused, nothing is published."""
    book = submitted(author, title="Good")
    seen = Book.objects.get(pk=book.pk).version  # the queue the publisher opened
    book = book_apply_action(book=book, action="withdraw", user=author)
    book = book_update(
        book=book, fields={"title": "Evil"}, expected_version=book.version, user=author
    )
    book_apply_action(book=book, action="submit", user=author)
    client.force_login(publisher)
    response = client.post(
        reverse("bookshelf:book-approve", args=[book.pk]), {"version": seen}, **HTMX
    )
    assert response.status_code == HTTPStatus.OK
    assert "changed since you opened it" in json.dumps(json.loads(response["HX-Trigger"]))
    book.refresh_from_db()
    assert (book.is_published, book.is_in_review) == (False, True)
    with pytest.raises(BookActionError, match="changed since you opened it"):
        book_apply_action(book=book, action="approve", user=publisher, expected_version=seen)
    # Approving what is there now, after looking again, works.
    approved = book_apply_action(
        book=book, action="approve", user=publisher, expected_version=book.version
    )
    assert approved.is_published


def test_a_malformed_version_is_a_bad_request_not_a_500(client, author, publisher):
    book = submitted(author)
    client.force_login(publisher)
    for junk in ["", "x", "-1", "9" * 40, "１"]:
        response = client.post(reverse("bookshelf:book-approve", args=[book.pk]), {"version": junk})
        assert response.status_code == HTTPStatus.BAD_REQUEST, junk
    assert not Book.objects.get(pk=book.pk).is_published


def test_every_decision_form_sends_the_version_it_shows(client, author, publisher):
    book = submitted(author)
    client.force_login(publisher)
    marker = f'name="version" value="{book.version}"'
    for url in [
        REVIEW_URL,
        book.get_absolute_url(),
        LIST_URL + "?status=in_review",
        reverse("bookshelf:book-request-changes", args=[book.pk]),
    ]:
        assert marker in client.get(url).text, url


def test_who_changed_a_book_in_review_does_not_approve_it(author, publisher, second_publisher):
    book = submitted(author)
    book = book_update(
        book=book, fields={"title": "Rewritten"}, expected_version=book.version, user=publisher
    )
    assert book.edited_in_review_by == [publisher.pk]
    with pytest.raises(PolicyDenied, match="You changed this book while it was in review"):
        book_apply_action(book=book, action="approve", user=publisher)
    assert book_apply_action(book=book, action="approve", user=second_publisher).is_published
    assert Book.objects.get(pk=book.pk).edited_in_review_by == []  # emptied with the review


def test_unarchive_gives_a_draft_and_an_archived_book_cannot_stay_published(roleadmin):
    book = book_apply_action(book=PublishedBookFactory(), action="archive", user=roleadmin)
    assert (book.is_archived, book.is_published, book.published_at) == (True, False, None)
    book = book_apply_action(book=book, action="unarchive", user=roleadmin)
    assert (book.is_archived, book.is_published) == (False, False)
    with pytest.raises(IntegrityError), transaction.atomic():
        PublishedBookFactory(is_archived=True)


def test_history_follows_the_catalogue_rule_when_it_is_private(client, settings, make_user):
    settings.BOOKSHELF_PUBLIC_CATALOGUE = False
    book = BookFactory()
    client.force_login(make_user("bookshelf.change_book"))  # without view_book
    assert client.get(book.get_absolute_url()).status_code == HTTPStatus.FORBIDDEN
    url = reverse("bookshelf:book-history", args=[book.pk])
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN


def test_the_request_changes_page_of_a_book_not_in_review_says_so(client, publisher):
    book = BookFactory()
    client.force_login(publisher)
    page = client.get(reverse("bookshelf:book-request-changes", args=[book.pk])).text
    assert "This book is not in review." in page
    assert 'name="comment"' not in page
