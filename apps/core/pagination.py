"""Pages of long lists: deep pages cheap (ids first, from the nearer end), totals counted once
per change of the table."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

from .counting import cached_count


class NearerEndPaginator(Paginator):
    """A page of a long list, read in two cheap steps instead of one expensive one.

    - **From the nearer end.** A page past the middle is read from the far end of the
      ordering: ``ORDER BY … DESC`` with a small OFFSET. PostgreSQL reads and throws away
      every row an OFFSET skips: at 100,000 books the last page took 3× page 1 (make bench).
    - **Ids first** (a "deferred join"): the OFFSET walks an index holding every column of
      the ordering (the book list's sort indexes) to find the page's 25 ids, reading no
      table rows for the ones it skips, and only those 25 rows are then read. The middle
      page of 100,000 books: 95 ms → 6 ms in PostgreSQL.

    Only for a queryset whose ordering is total (ends with a unique field, as the book
    list's sorts end with the id): reversed, it must give exactly the same rows mirrored.
    """

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        if not (isinstance(rows, QuerySet) and rows.ordered):
            return super().page(number)
        if bottom > self.count // 2:
            ids = rows.reverse().values_list("pk", flat=True)[
                self.count - top : self.count - bottom
            ]
        else:
            ids = rows.values_list("pk", flat=True)[bottom:top]
        if not connections[rows.db].features.allow_sliced_subqueries_with_in:
            # A second query where the database cannot take it as one (MySQL).
            return Page(list(rows.filter(pk__in=list(ids))), number, self)
        return Page(list(rows.filter(pk__in=ids)), number, self)


class CachedCountPaginator(Paginator):
    """The total is ``counting.cached_count``: exact, and counted once per change of the
    table rather than on every page (the model must be tracked: ``track_changes``)."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return cached_count(self.object_list)
        return len(self.object_list)
