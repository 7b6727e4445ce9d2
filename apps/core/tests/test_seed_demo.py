from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from apps.accounts.demo import DEMO_USERS

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_seed_demo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert User.objects.count() == 0


def test_seed_demo_creates_one_user_per_role_and_a_superuser(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "demo-password-for-tests"
    call_command("seed_demo")
    usernames = set(User.objects.values_list("username", flat=True))
    assert usernames == {
        "admin",
        "viewer",
        "member",
        "editor",
        "publisher",
        "librarian",
        "roleadmin",
    }
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.get(username="roleadmin").is_superuser
    request = RequestFactory().post("/accounts/login/")  # django-axes needs the request
    assert authenticate(request, username="editor", password="demo-password-for-tests")
    assert authenticate(request, username="admin@example.com", password="demo-password-for-tests")


def test_seed_demo_is_idempotent_and_keeps_changes(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    editor = User.objects.get(username="editor")
    editor.set_password("my-own-new-passphrase")
    editor.save()
    call_command("seed_demo", "--force")
    assert User.objects.count() == len(DEMO_USERS)
    editor.refresh_from_db()
    assert editor.check_password("my-own-new-passphrase")
    assert "user editor: kept" in capsys.readouterr().out


def test_seed_demo_runs_with_debug_off_when_forced(settings):
    settings.DEBUG = False
    call_command("seed_demo", "--force")
    assert User.objects.count() == len(DEMO_USERS)


def test_seed_demo_creates_the_demo_catalogue_once(settings):
    from apps.bookshelf.demo import DEMO_BOOKS
    from apps.bookshelf.models import Book, BookEvent

    settings.DEBUG = True
    call_command("seed_demo")
    assert Book.objects.count() == len(DEMO_BOOKS) == 60
    assert Book.objects.filter(is_published=True).exists()
    assert Book.objects.filter(is_published=False, is_archived=False).exists()
    assert Book.objects.filter(is_archived=True).exists()
    assert Book.objects.filter(is_featured=True).exists()
    assert Book.objects.filter(is_premium=True).exists()
    assert Book.objects.filter(isbn__isnull=True).exists()
    # The workflow: two in review and one sent back for changes, all submitted by `editor`,
    # each with the history its state implies.
    editor = User.objects.get(username="editor")
    assert Book.objects.filter(is_in_review=True, submitted_by=editor).count() == 2
    sent_back = Book.objects.changes_requested_of(editor).get()
    workflow = BookEvent.objects.of_book(sent_back.pk).exclude(action="copies_added")
    assert [event.action for event in workflow] == ["changes_requested", "submitted", "created"]
    call_command("seed_demo")
    assert Book.objects.count() == 60
    assert BookEvent.objects.filter(action="created").count() == 60


def test_seed_demo_gives_demo_users_their_book_permissions(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    viewer, editor, publisher = (
        User.objects.get(username=name) for name in ("viewer", "editor", "publisher")
    )
    assert viewer.has_perm("bookshelf.view_book")
    assert not viewer.has_perm("bookshelf.change_book")
    assert editor.has_perms(["bookshelf.add_book", "bookshelf.change_book"])
    assert not editor.has_perm("bookshelf.can_publish_book")
    assert publisher.has_perms(["bookshelf.can_publish_book", "bookshelf.can_feature_book"])
    assert not publisher.has_perm("bookshelf.delete_book")


def test_seed_demo_gives_every_book_copies_and_the_member_loans_and_a_hold(settings):
    from apps.bookshelf.models import Book
    from apps.circulation.models import Copy, Hold, Loan

    settings.DEBUG = True
    call_command("seed_demo")
    counts = {book.pk: Copy.objects.filter(book=book).count() for book in Book.objects.all()}
    assert set(counts.values()) == {1, 2, 3}
    member = User.objects.get(username="member")
    assert Loan.objects.open().filter(borrower=member).count() == 2
    assert Loan.objects.overdue().filter(borrower=member).count() == 1
    assert Hold.objects.active().filter(member=member).count() == 1
    call_command("seed_demo")  # again: nothing doubled
    assert Copy.objects.count() == sum(counts.values())
    assert Loan.objects.filter(borrower=member).count() == 3  # two open, one returned
