"""Demo circulation for `seed_demo`: 1–3 copies of every demo book; `member` has two books on
loan (one overdue), one returned, and a hold on a book whose only copy `librarian` has
borrowed."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.bookshelf.demo import DEMO_BOOKS, demo_isbn
from apps.bookshelf.models import Book

from .models import Copy, Hold, Loan
from .services import add_copies, borrow, place_hold, return_loan


@transaction.atomic
def demo_circulation_create() -> int:
    """Copies for the demo books that have none, and `member`'s loans and hold when they have
    none yet (idempotent). Returns the number of copies added."""
    users = get_user_model().objects.in_bulk(["librarian", "member"], field_name="username")
    librarian, member = users.get("librarian"), users.get("member")
    if librarian is None or member is None:
        return 0
    isbns = [demo_isbn(index) for index in range(len(DEMO_BOOKS))]
    titles = [title for title, _author, _year in DEMO_BOOKS]
    books = list(
        Book.objects.filter(isbn__in=isbns) | Book.objects.filter(isbn=None, title__in=titles)
    )
    books.sort(key=lambda book: book.pk)
    # How many copies each has, in one query (the books may have some from an earlier run).
    counts = dict(
        Copy.objects.filter(book__in=books)
        .values_list("book_id")
        .annotate(n=Count("id"))
        .values_list("book_id", "n")
    )
    added = 0
    for index, book in enumerate(books):
        if not counts.get(book.pk):
            counts[book.pk] = len(add_copies(book=book, count=index % 3 + 1, actor=librarian))
            added += counts[book.pk]
    if Loan.objects.filter(borrower=member).exists() or Hold.objects.filter(member=member).exists():
        return added
    public = [book for book in books if book.is_public]
    single = [b for b in public if counts[b.pk] == 1]
    several = [b for b in public if counts[b.pk] > 1]
    if len(single) < 1 or len(several) < 3:
        return added
    overdue = borrow(book=several[0], member=member)
    now = timezone.now()
    Loan.objects.filter(pk=overdue.pk).update(
        borrowed_at=now - datetime.timedelta(days=30), due_at=now - datetime.timedelta(days=9)
    )
    borrow(book=several[1], member=member)
    # One already read and brought back, so /loans/ shows its "Returned" list too.
    return_loan(loan=borrow(book=several[2], member=member), actor=librarian)
    borrow(book=single[0], member=librarian)
    place_hold(book=single[0], member=member)
    return added
