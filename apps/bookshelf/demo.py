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
from .models import Book

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


def demo_state(index: int) -> dict[str, Any]:
    """A repeatable mix: mostly published, some drafts, a few archived, featured, premium."""
    if index % 10 == 7:
        return {"is_archived": True}
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
        state = demo_state(index)
        changed = now - datetime.timedelta(hours=7 * index + 1)
        new_books.append(
            Book(
                title=title,
                author=writer,
                publication_year=year,
                isbn=isbn if index % 8 != 5 else None,
                description=f"{title} ({year}) by {writer}.",
                published_at=changed if state.get("is_published") else None,
                created_by=author,
                updated_by=author,
                created_at=changed,
                updated_at=changed,
                **state,
            )
        )
    # ISBN-less books are matched by title so a rerun does not duplicate them.
    titles = set(Book.objects.filter(isbn__isnull=True).values_list("title", flat=True))
    new_books = [b for b in new_books if b.isbn or b.title not in titles]
    Book.objects.bulk_create(new_books)
    return len(new_books), len(DEMO_BOOKS) - len(new_books)
