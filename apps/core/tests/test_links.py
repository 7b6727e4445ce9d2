from __future__ import annotations

import pytest
from django.urls import reverse, set_script_prefix

from apps.bookshelf.services import BOOK_ACTIONS
from apps.core.links import url_with_id

BOOK_URLS = [
    "bookshelf:book-detail",
    "bookshelf:book-update",
    "bookshelf:book-delete",
    *(action.url_name for action in BOOK_ACTIONS.values()),
]


@pytest.mark.parametrize("name", BOOK_URLS)
@pytest.mark.parametrize("pk", [1, 7, 42, 100000, 2**40])
def test_it_builds_what_reverse_builds(name, pk):
    assert url_with_id(name, pk) == reverse(name, args=[pk])


def test_it_follows_the_script_prefix_of_the_request():
    try:
        set_script_prefix("/library/")
        assert url_with_id("bookshelf:book-detail", 5) == "/library/books/5/"
        assert url_with_id("bookshelf:book-detail", 5) == reverse("bookshelf:book-detail", args=[5])
    finally:
        set_script_prefix("/")
    assert url_with_id("bookshelf:book-detail", 5) == "/books/5/"


def test_an_id_is_a_number():
    with pytest.raises(ValueError):
        url_with_id("bookshelf:book-detail", "5/../../admin")  # type: ignore[arg-type]


def test_a_url_without_one_id_is_refused():
    with pytest.raises(Exception):  # noqa: B017  (NoReverseMatch or ValueError: not silently wrong)
        url_with_id("bookshelf:book-list", 5)
