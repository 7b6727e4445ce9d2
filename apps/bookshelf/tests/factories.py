from __future__ import annotations

import factory
from django.utils import timezone

from apps.bookshelf.isbn import isbn13_check_digit
from apps.bookshelf.models import Book


def _isbn(n: int) -> str:
    first12 = f"978{n:09d}"
    return first12 + isbn13_check_digit(first12)


class BookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Book

    title = factory.Sequence(lambda n: f"Book {n:04d}")
    author = factory.Faker("name")
    isbn = factory.Sequence(_isbn)
    publication_year = 1990


class PublishedBookFactory(BookFactory):
    is_published = True
    published_at = factory.LazyFunction(timezone.now)


class InReviewBookFactory(BookFactory):
    """A draft waiting in the review queue; pass ``submitted_by`` (its submitter)."""

    is_in_review = True
    submitted_at = factory.LazyFunction(timezone.now)
