"""`python manage.py seed_bench --books N`: the benchmark's catalogue (`make bench`).

The demo data first (users, roles, the 60 demo books and their loans: the bench signs in as
the demo users), then generated books up to N in a realistic mix of states, each with 1–3
copies, and circulation: some copies on loan to generated members, some overdue, holds
waiting. Rows are written with bulk_create in batches, so 100,000 books take seconds, and
only what is missing is added (running it again keeps the data). On PostgreSQL it ends with
VACUUM ANALYZE, as autovacuum would.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from apps.bookshelf.models import Book
from apps.circulation.models import Copy, CopyStatus, Hold, Loan

BATCH = 5_000
WORDS = [
    "river",
    "silent",
    "garden",
    "winter",
    "empire",
    "stone",
    "glass",
    "shadow",
    "harbor",
    "night",
    "iron",
    "summer",
    "forest",
    "letter",
    "city",
    "machine",
    "ocean",
    "mountain",
    "orchard",
    "signal",
    "lantern",
    "archive",
    "mirror",
    "desert",
    "island",
    "thunder",
    "paper",
    "crown",
    "velvet",
    "engine",
]
SURNAMES = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Novak",
    "Haddad",
    "Silva",
    "Kowalski",
    "Nakamura",
    "Achebe",
    "Fischer",
    "Rossi",
    "Ivanova",
    "Mensah",
    "Duarte",
    "O'Brien",
    "Quispe",
    "Haugen",
    "Park",
    "Dubois",
]
MEMBERS = 400  # generated members who hold the generated loans
LOANS = 4_000


class Command(BaseCommand):
    help = "Seed the benchmark's catalogue up to --books books (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--books", type=int, default=100_000)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("seed_demo", "--force", verbosity=0)
        wanted = options["books"]
        have = Book.objects.count()
        if have >= wanted:
            self.stdout.write(f"books: {have} (no more needed)")
        else:
            self.add_books(wanted - have, start=have)
        self.add_circulation()
        if connection.vendor == "postgresql":
            # What autovacuum does to freshly loaded tables in production (it is off on some
            # machines, these included): statistics for the planner, and the visibility map
            # that lets COUNT(*) read an index instead of the table.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            self.stdout.write("vacuumed and analysed")

    def add_books(self, count: int, *, start: int) -> None:
        editor = get_user_model().objects.get(username="editor")
        rng = random.Random(start)  # noqa: S311  (test data: the same catalogue each time)
        now = timezone.now()
        made = 0
        while made < count:
            size = min(BATCH, count - made)
            books = [self.book(rng, start + made + n, editor, now) for n in range(size)]
            with transaction.atomic():
                created = Book.objects.bulk_create(books)
                Copy.objects.bulk_create(
                    Copy(book_id=book.pk, barcode=f"B{book.pk:06d}-{n + 1:03d}", added_at=now)
                    for book in created
                    for n in range(rng.randint(1, 3))
                )
            made += size
            self.stdout.write(f"books: {start + made} of {start + count}", ending="\r")
            self.stdout.flush()
        self.stdout.write(f"books: {start + count} ({count} added)")

    @staticmethod
    def book(rng: random.Random, index: int, editor: Any, now: datetime.datetime) -> Book:
        words = rng.sample(WORDS, 2)
        fields: dict[str, Any] = {
            "title": f"The {words[0].title()} {words[1].title()} {index}",
            "author": f"{rng.choice('ABCDEFGHJKLMNPRSTW')}. {rng.choice(SURNAMES)}",
            "publication_year": rng.randint(1850, 2026),
            "created_by": editor,
            "updated_by": editor,
            "created_at": now - datetime.timedelta(minutes=index),
            "updated_at": now - datetime.timedelta(minutes=index),
        }
        kind = rng.random()
        if kind < 0.70:  # published, some featured or premium
            fields.update(is_published=True, published_at=now)
            fields["is_featured"] = rng.random() < 0.05
            fields["is_premium"] = rng.random() < 0.03
        elif kind < 0.72:  # waiting for review
            fields.update(is_in_review=True, submitted_at=now, submitted_by=editor)
        elif kind < 0.90:  # drafts
            pass
        else:  # archived
            fields["is_archived"] = True
        return Book(**fields)

    def add_circulation(self) -> None:
        """Members with loans (a tenth overdue) and holds on the books they took, once."""
        User = get_user_model()
        if User.objects.filter(username__startswith="bench-member-").exists():
            return
        members = User.objects.bulk_create(
            User(username=f"bench-member-{n:03d}", email=f"bench-member-{n:03d}@example.org")
            for n in range(MEMBERS)
        )
        Group.objects.get(name="Members").user_set.add(*members)
        rng = random.Random(7)  # noqa: S311  (test data)
        copies = list(
            Copy.objects.filter(status=CopyStatus.AVAILABLE, book__is_published=True)
            .exclude(book__is_archived=True)
            .order_by("?")
            .values_list("pk", "book_id")[:LOANS]
        )
        now = timezone.now()
        loans, taken = [], set()
        for n, (copy_id, book_id) in enumerate(copies):
            member = members[n % MEMBERS]
            if (member.pk, book_id) in taken:
                continue
            taken.add((member.pk, book_id))
            borrowed = now - datetime.timedelta(days=rng.randint(1, 30))
            loans.append(
                Loan(
                    copy_id=copy_id,
                    book_id=book_id,
                    borrower=member,
                    borrowed_at=borrowed,
                    due_at=borrowed + datetime.timedelta(days=21),
                )
            )
        with transaction.atomic():
            Loan.objects.bulk_create(loans)
            Copy.objects.filter(pk__in=[loan.copy_id for loan in loans]).update(
                status=CopyStatus.ON_LOAN
            )
            # Someone waits for a tenth of the books that have no copy left.
            out = (
                Book.objects.filter(loans__returned_at=None)
                .exclude(copies__status=CopyStatus.AVAILABLE)
                .distinct()
                .values_list("pk", flat=True)
            )
            Hold.objects.bulk_create(
                Hold(book_id=book_id, member=members[(n * 7) % MEMBERS])
                for n, book_id in enumerate(list(out)[::10])
            )
        self.stdout.write(f"circulation: {MEMBERS} members, {len(loans)} loans")
