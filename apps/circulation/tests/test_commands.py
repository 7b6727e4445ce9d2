"""The cron commands: ``expire_holds`` and ``send_overdue_notices``.

Data comes from the services, with members and librarians in their real roles; a loan is
made overdue by moving its dates back (the constraint wants due after borrowed).
"""

from __future__ import annotations

import datetime
from functools import partial
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from apps.bookshelf.tests.factories import PublishedBookFactory
from apps.circulation.models import Copy, CopyStatus, Hold, HoldStatus, Loan
from apps.circulation.overdue import send_overdue_notices
from apps.circulation.services import add_copies, borrow, place_hold, return_loan
from apps.core.tests.support import ROW_LOCKS, in_role, postgres_only, race_writes

DAY = datetime.timedelta(days=1)


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue().strip()


def loan_of(librarian, member, *, title: str = "Dune", overdue_by: int | None = 3) -> Loan:
    """``member`` borrows a new one-copy book; ``overdue_by`` days past its due date (None:
    not yet due)."""
    book = PublishedBookFactory(title=title)
    add_copies(book=book, count=1, actor=librarian)
    loan = borrow(book=book, member=member)
    if overdue_by is not None:
        due = timezone.now() - overdue_by * DAY
        Loan.objects.filter(pk=loan.pk).update(borrowed_at=due - 21 * DAY, due_at=due)
    return loan


def reminded_on(loan: Loan):
    return Loan.objects.values_list("reminded_on", flat=True).get(pk=loan.pk)


# --- expire_holds ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_expire_holds_expires_passes_on_and_is_idempotent(librarian):
    members = [in_role("Members", username=name) for name in ("ann", "ben", "cat", "dan", "eve")]
    # Two books, each: one member borrows the only copy, two queue, the copy comes back and
    # waits for the first; the first never collects it.
    firsts, seconds = [], []
    for n, (borrower, first, second) in enumerate([members[0:3], members[2:5]]):
        book = PublishedBookFactory(title=f"Held {n}")
        add_copies(book=book, count=1, actor=librarian)
        loan = borrow(book=book, member=borrower)
        firsts.append(place_hold(book=book, member=first))
        seconds.append(place_hold(book=book, member=second))
        return_loan(loan=loan, actor=librarian)
    assert run("expire_holds") == "No hold expired."  # still within their shelf time
    Hold.objects.filter(pk__in=[h.pk for h in firsts]).update(ready_until=timezone.now() - DAY)

    assert run("expire_holds") == "2 holds expired; their copies passed on."
    for first, second in zip(firsts, seconds, strict=True):
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.status == HoldStatus.EXPIRED
        assert second.status == HoldStatus.READY
        assert second.copy is not None
        assert second.copy.status == CopyStatus.ON_HOLD_SHELF
    assert run("expire_holds") == "No hold expired."
    statuses = Hold.objects.filter(pk__in=[h.pk for h in seconds + firsts]).values_list(
        "status", flat=True
    )
    assert sorted(statuses) == [HoldStatus.EXPIRED] * 2 + [HoldStatus.READY] * 2


@pytest.mark.django_db
def test_expire_holds_says_one_in_the_singular(librarian):
    ann, ben = in_role("Members", username="ann"), in_role("Members", username="ben")
    book = PublishedBookFactory()
    add_copies(book=book, count=1, actor=librarian)
    loan = borrow(book=book, member=ann)
    hold = place_hold(book=book, member=ben)
    return_loan(loan=loan, actor=librarian)
    Hold.objects.filter(pk=hold.pk).update(ready_until=timezone.now() - DAY)
    assert run("expire_holds") == "1 hold expired; its copy passed on."
    assert Copy.objects.get(pk=loan.copy_id).status == CopyStatus.AVAILABLE


@pytest.mark.django_db
def test_expire_holds_is_quiet_with_verbosity_0():
    out = StringIO()
    call_command("expire_holds", verbosity=0, stdout=out)
    assert out.getvalue() == ""


# --- send_overdue_notices ----------------------------------------------------------------------


@pytest.mark.django_db
def test_one_reminder_per_overdue_loan_a_day(librarian, django_capture_on_commit_callbacks):
    ann, ben = in_role("Members", username="ann"), in_role("Members", username="ben")
    overdue = [
        loan_of(librarian, ann, title="Dune"),
        loan_of(librarian, ann, title="Solaris", overdue_by=10),
        loan_of(librarian, ben, title="Ubik"),
    ]
    not_yet_due = loan_of(librarian, ben, title="Emma", overdue_by=None)
    returned = loan_of(librarian, ben, title="Kim")
    return_loan(loan=returned, actor=librarian)
    mail.outbox.clear()
    today = timezone.localdate()

    with django_capture_on_commit_callbacks(execute=True):
        assert run("send_overdue_notices") == "3 overdue reminders sent."
        assert mail.outbox == []  # nothing before the commit

    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("ann@example.org", "Overdue: “Dune”"),
        ("ann@example.org", "Overdue: “Solaris”"),
        ("ben@example.org", "Overdue: “Ubik”"),
    ]
    dune = next(m for m in mail.outbox if "Dune" in m.subject)
    assert overdue[0].copy.barcode in dune.body
    assert [reminded_on(loan) for loan in overdue] == [today] * 3
    assert reminded_on(not_yet_due) is None
    assert reminded_on(returned) is None

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert run("send_overdue_notices") == "No overdue reminder to send."
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        assert send_overdue_notices(today=today + DAY) == 3
    assert len(mail.outbox) == 3
    assert [reminded_on(loan) for loan in overdue] == [today + DAY] * 3


@pytest.mark.django_db
def test_the_body_has_the_due_date_and_the_loans_link(
    librarian, settings, django_capture_on_commit_callbacks
):
    settings.BOOKSHELF_SITE_URL = "https://books.example.org"
    loan = loan_of(librarian, in_role("Members", username="ann"))
    Loan.objects.filter(pk=loan.pk).update(
        borrowed_at=timezone.make_aware(datetime.datetime(2024, 2, 1, 12)),
        due_at=timezone.make_aware(datetime.datetime(2024, 2, 22, 12)),
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_overdue_notices() == 1
    (message,) = mail.outbox
    assert "was due back on Feb. 22, 2024." in message.body
    assert "https://books.example.org/loans/" in message.body


@pytest.mark.django_db
def test_a_title_with_a_line_break_gives_a_one_line_subject(
    librarian, django_capture_on_commit_callbacks
):
    loan_of(librarian, in_role("Members", username="ann"), title="Dune\n   Messiah\r\n")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_overdue_notices() == 1
    (message,) = mail.outbox
    assert message.subject == "Overdue: “Dune Messiah”"
    assert "“Dune Messiah”" in message.body


@pytest.mark.django_db
def test_borrowers_without_an_address_are_skipped_and_not_marked(
    librarian, django_capture_on_commit_callbacks
):
    loan = loan_of(librarian, in_role("Members", username="ann", email=""))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_overdue_notices() == 0
    assert mail.outbox == []
    assert reminded_on(loan) is None  # only a reminder that went out is recorded

    get_user_model().objects.filter(pk=loan.borrower_id).update(email="ann@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_overdue_notices() == 1  # reminded the same day, once they have one
    assert [m.to for m in mail.outbox] == [["ann@example.org"]]


@pytest.mark.django_db
def test_send_overdue_notices_is_quiet_with_verbosity_0():
    out = StringIO()
    call_command("send_overdue_notices", verbosity=0, stdout=out)
    assert out.getvalue() == ""


# --- Two runs at once (PostgreSQL) -------------------------------------------------------------

DAYS = 10  # rounds: each a new day, so each round reminds every loan again


@postgres_only(ROW_LOCKS)
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_reminder_per_loan():
    librarian = in_role("Librarians", username="desk")
    loans = [
        loan_of(librarian, in_role("Members", username=f"m{n}"), title=f"T{n}") for n in range(6)
    ]
    today = timezone.localdate()

    def one_run(date: datetime.date, counts: list[int]) -> None:
        counts.append(send_overdue_notices(today=date))

    for day in range(DAYS):
        mail.outbox.clear()
        counts: list[int] = []
        date = today + day * DAY
        outcomes = race_writes(
            first=partial(one_run, date, counts), second=partial(one_run, date, counts)
        )

        assert outcomes == {"first": "ok", "second": "ok"}, outcomes
        assert len(counts) == 2 and sum(counts) == len(loans), counts
        assert sorted(m.to[0] for m in mail.outbox) == sorted(
            f"m{n}@example.org" for n in range(len(loans))
        )
        assert {reminded_on(loan) for loan in loans} == {date}
