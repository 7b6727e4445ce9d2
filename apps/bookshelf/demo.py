"""Demo catalogue for `seed_demo`: real books, a realistic mix of states.

ISBNs are generated with valid check digits in the 979-8 range; they are not the books'
real ISBNs (this is demo data, not a reference).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .isbn import isbn13_check_digit
from .models import Book, BookEvent

# (title, author, year)
DEMO_BOOKS = [
    ("Dune", "Frank Herbert", 1965),
    ("Neuromancer", "William Gibson", 1984),
    ("The Left Hand of Darkness", "Ursula K. Le Guin", 1969),
    ("A Wizard of Earthsea", "Ursula K. Le Guin", 1968),
    ("The Hobbit", "J. R. R. Tolkien", 1937),
    ("The Fellowship of the Ring", "J. R. R. Tolkien", 1954),
    ("Pride and Prejudice", "Jane Austen", 1813),
    ("Emma", "Jane Austen", 1815),
    ("Middlemarch", "George Eliot", 1871),
    ("Jane Eyre", "Charlotte Brontë", 1847),
    ("Wuthering Heights", "Emily Brontë", 1847),
    ("Moby-Dick", "Herman Melville", 1851),
    ("Great Expectations", "Charles Dickens", 1861),
    ("Bleak House", "Charles Dickens", 1853),
    ("War and Peace", "Leo Tolstoy", 1869),
    ("Anna Karenina", "Leo Tolstoy", 1878),
    ("Crime and Punishment", "Fyodor Dostoevsky", 1866),
    ("The Brothers Karamazov", "Fyodor Dostoevsky", 1880),
    ("Madame Bovary", "Gustave Flaubert", 1857),
    ("In Search of Lost Time", "Marcel Proust", 1913),
    ("Ulysses", "James Joyce", 1922),
    ("Mrs Dalloway", "Virginia Woolf", 1925),
    ("To the Lighthouse", "Virginia Woolf", 1927),
    ("The Great Gatsby", "F. Scott Fitzgerald", 1925),
    ("The Sound and the Fury", "William Faulkner", 1929),
    ("Brave New World", "Aldous Huxley", 1932),
    ("Nineteen Eighty-Four", "George Orwell", 1949),
    ("Animal Farm", "George Orwell", 1945),
    ("The Stranger", "Albert Camus", 1942),
    ("The Trial", "Franz Kafka", 1925),
    ("One Hundred Years of Solitude", "Gabriel García Márquez", 1967),
    ("Love in the Time of Cholera", "Gabriel García Márquez", 1985),
    ("Things Fall Apart", "Chinua Achebe", 1958),
    ("Beloved", "Toni Morrison", 1987),
    ("Invisible Man", "Ralph Ellison", 1952),
    ("To Kill a Mockingbird", "Harper Lee", 1960),
    ("Catch-22", "Joseph Heller", 1961),
    ("Slaughterhouse-Five", "Kurt Vonnegut", 1969),
    ("The Handmaid's Tale", "Margaret Atwood", 1985),
    ("Foundation", "Isaac Asimov", 1951),
    ("I, Robot", "Isaac Asimov", 1950),
    ("Solaris", "Stanisław Lem", 1961),
    ("The Dispossessed", "Ursula K. Le Guin", 1974),
    ("Hyperion", "Dan Simmons", 1989),
    ("Snow Crash", "Neal Stephenson", 1992),
    ("The Name of the Rose", "Umberto Eco", 1980),
    ("If on a Winter's Night a Traveler", "Italo Calvino", 1979),
    ("Invisible Cities", "Italo Calvino", 1972),
    ("The Remains of the Day", "Kazuo Ishiguro", 1989),
    ("Never Let Me Go", "Kazuo Ishiguro", 2005),
    ("Wolf Hall", "Hilary Mantel", 2009),
    ("Midnight's Children", "Salman Rushdie", 1981),
    ("The God of Small Things", "Arundhati Roy", 1997),
    ("Norwegian Wood", "Haruki Murakami", 1987),
    ("The Road", "Cormac McCarthy", 2006),
    ("Station Eleven", "Emily St. John Mandel", 2014),
    ("The Three-Body Problem", "Liu Cixin", 2008),
    ("Piranesi", "Susanna Clarke", 2020),
    ("Project Hail Mary", "Andy Weir", 2021),
    ("Klara and the Sun", "Kazuo Ishiguro", 2021),
]


def demo_isbn(index: int) -> str:
    first12 = f"9798{index + 100000:08d}"
    return first12 + isbn13_check_digit(first12)


# Drafts `editor` submitted: two waiting in the review queue, one sent back with a comment.
IN_REVIEW = (3, 11)
CHANGES_REQUESTED = {
    15: "The description only repeats the title. Add a few sentences about the book itself."
}


def demo_state(index: int, editor: Any = None) -> dict[str, Any]:
    """A repeatable mix: mostly published, some drafts (two in review, one sent back for
    changes), a few archived, featured, premium."""
    if index % 10 == 7:
        return {"is_archived": True}
    if index in IN_REVIEW:
        return {"is_published": False, "is_in_review": True, "submitted_by": editor}
    if index in CHANGES_REQUESTED:
        return {
            "is_published": False,
            "review_comment": CHANGES_REQUESTED[index],
            "submitted_by": editor,
        }
    if index % 4 == 3:
        return {"is_published": False}
    return {
        "is_published": True,
        "is_featured": index % 9 == 0,
        "is_premium": index % 6 == 1,
    }


@transaction.atomic
def demo_books_create() -> tuple[int, int]:
    """Create the demo books that are missing (matched by ISBN). Returns (created, kept)."""
    user_model = get_user_model()
    author = user_model.objects.filter(username="editor").first()
    existing = set(Book.objects.filter(isbn__startswith="9798").values_list("isbn", flat=True))
    now = timezone.now()
    new_books = []
    for index, (title, writer, year) in enumerate(DEMO_BOOKS):
        isbn = demo_isbn(index)
        if isbn in existing:
            continue
        state = demo_state(index, editor=author)
        changed = now - datetime.timedelta(hours=7 * index + 1)
        new_books.append(
            Book(
                title=title,
                author=writer,
                publication_year=year,
                isbn=isbn if index % 8 != 5 else None,
                description=f"{title} ({year}) by {writer}.",
                published_at=changed if state.get("is_published") else None,
                submitted_at=changed if state.get("is_in_review") else None,
                created_by=author,
                updated_by=author,
                # Written two days before it went to review (the history reads in order).
                created_at=changed - datetime.timedelta(days=2 if "submitted_by" in state else 0),
                updated_at=changed,
                **state,
            )
        )
    # ISBN-less books are matched by title so a rerun does not duplicate them.
    titles = set(Book.objects.filter(isbn__isnull=True).values_list("title", flat=True))
    new_books = [b for b in new_books if b.isbn or b.title not in titles]
    Book.objects.bulk_create(new_books)
    _demo_history_create(new_books, author, user_model.objects.filter(username="publisher").first())
    return len(new_books), len(DEMO_BOOKS) - len(new_books)


def _demo_history_create(books: list[Book], editor: Any, publisher: Any) -> None:
    """The history the demo states imply: added by `editor`, submitted, sent back."""
    created = {
        book.title: book for book in Book.objects.filter(pk__in=[b.pk for b in books if b.pk])
    }
    if not created:  # bulk_create sets no ids on some databases: read them back
        created = {b.title: b for b in Book.objects.filter(title__in=[b.title for b in books])}
    events = []
    for book in created.values():
        events.append(_event(book, BookEvent.Action.CREATED, editor, book.created_at))
        if book.is_in_review or book.review_comment:
            submitted = book.submitted_at or book.updated_at - datetime.timedelta(hours=3)
            events.append(_event(book, BookEvent.Action.SUBMITTED, editor, submitted))
        if book.review_comment:
            events.append(
                _event(
                    book,
                    BookEvent.Action.CHANGES_REQUESTED,
                    publisher,
                    book.updated_at,
                    comment=book.review_comment,
                )
            )
    BookEvent.objects.bulk_create(events)


def _event(book: Book, action: str, who: Any, when: Any, comment: str = "") -> BookEvent:
    return BookEvent(
        book_id=book.pk,
        book_title=book.title,
        action=action,
        actor_id=getattr(who, "pk", None),
        actor_username=getattr(who, "username", ""),
        comment=comment,
        created_at=when,
    )
