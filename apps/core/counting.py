"""Exact counts of long lists, counted once per change of the table instead of once per
request.

"Showing 1–25 of 100,000" needs ``COUNT(*)``, and PostgreSQL counts by reading every row it
counts: 4 ms for 100,000 books, on every page and every keystroke of a search (``make
bench``). An estimate would not do: the list reads its far pages from the end
(``NearerEndPaginator``), which needs the exact total. So the exact count is kept in the
cache, keyed by the query and by the table's ``ChangeCounter``, which every committed write
to the table moves on: the next request after a change counts afresh.

Writes are noted where they happen, for every path through the ORM: ``save()`` and
``delete()`` by signals (``track_changes``), ``QuerySet.update()`` and ``bulk_create()``
by ``ChangeTrackingQuerySet`` (which must also be the model's base manager's queryset, as
Django updates rows through that one when a related row is deleted: ``SET_NULL``). A
write the ORM does not see (raw SQL, a data migration's historical models, a restore) is
covered by the entries' lifetime, ``COUNT_SECONDS``: until then a total may be off, and
the far pages of ``NearerEndPaginator`` shifted by as much.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save

from .models import ChangeCounter

COUNT_SECONDS = 300
_TRACKED: set[str] = set()

# A cache of their own (settings.CACHES["counts"]): every search typed is an entry, and they
# must not push out what else is cached (the CSP report limit counts in "default").
counts = caches["counts"]


def note_change(model: type[models.Model], using: str = DEFAULT_DB_ALIAS) -> None:
    """The rows of ``model`` changed: its counts go stale when the change is committed
    (at once outside a transaction). After the commit, not before: a count made between
    the bump and the commit would still see the old rows and be kept as the new ones."""
    bump = CounterBump(model._meta.label_lower, using)
    # Once per table and transaction, however many rows it writes. (A callback queued in a
    # savepoint that rolls back is dropped from this list, so a later write queues again.)
    # Each entry is (savepoint ids, callback, robust).
    if bump not in (entry[1] for entry in connections[using].run_on_commit):
        # robust: the data is committed by then; a counter that failed to move is logged, and
        # the counts it keys age out (COUNT_SECONDS), rather than the request failing.
        transaction.on_commit(bump, using=using, robust=True)


@dataclass(frozen=True)
class CounterBump:
    """Moves a table's counter on: one short UPDATE of its own, after the writer's
    transaction, so no lock is held across anyone's transaction and writers of the table
    do not queue behind each other."""

    label: str
    using: str

    def __call__(self) -> None:
        _bump(self.label, self.using)


def _bump(label: str, using: str) -> None:
    counters = ChangeCounter.objects.using(using)
    if not counters.filter(name=label).update(value=F("value") + 1):
        try:
            with transaction.atomic(using=using):
                counters.create(name=label, value=secrets.randbits(62))
        except IntegrityError:  # created meanwhile by another writer: moving it on is enough
            counters.filter(name=label).update(value=F("value") + 1)


def generation(model: type[models.Model], using: str = DEFAULT_DB_ALIAS) -> int | None:
    """The table's change counter, or None before its first noted write."""
    return (
        ChangeCounter.objects.using(using)
        .filter(name=model._meta.label_lower)
        .values_list("value", flat=True)
        .first()
    )


def cached_count(queryset: models.QuerySet[Any]) -> int:
    """``queryset.count()``, exact, from the cache while the table has not changed.

    Inside a transaction it counts directly: the transaction may see its own writes, not
    yet committed, and those must not become everyone's count."""
    model = queryset.model
    if model._meta.label_lower not in _TRACKED:
        raise ImproperlyConfigured(f"{model._meta.label}: call track_changes() on it first")
    using = queryset.db
    if connections[using].in_atomic_block:
        return queryset.count()
    current = generation(model, using)
    if current is None:  # a fresh table nobody wrote to through the ORM yet
        return queryset.count()
    unordered = queryset.order_by()  # the sorts of one list share its count
    try:
        sql, params = unordered.query.sql_with_params()
    except EmptyResultSet:  # a condition that matches nothing (pk__in=[]): no query needed
        return 0
    digest = hashlib.sha256(repr((using, sql, params)).encode()).hexdigest()
    key = f"{model._meta.label_lower}:{current}:{digest}"
    count = counts.get(key)
    if count is None:
        count = unordered.count()
        counts.set(key, count, COUNT_SECONDS)
    return int(count)


class ChangeTrackingQuerySet(models.QuerySet):
    """Notes the writes that send no signals: ``update()`` and ``bulk_create()``."""

    def update(self, **kwargs: Any) -> int:
        rows = super().update(**kwargs)
        if rows:
            note_change(self.model, self.db)
        return rows

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Any]:
        created = super().bulk_create(*args, **kwargs)
        if created:
            note_change(self.model, self.db)
        return created


def track_changes(model: type[models.Model]) -> None:
    """Note every ``save()`` and ``delete()`` of ``model`` (its manager's queryset must be a
    ``ChangeTrackingQuerySet`` for the rest), so that ``cached_count`` may count it."""
    for manager in (model._default_manager, model._base_manager):
        if not issubclass(manager._queryset_class, ChangeTrackingQuerySet):  # type: ignore[attr-defined]
            raise ImproperlyConfigured(
                f"{model._meta.label}: its default and base managers must track changes"
            )
    uid = f"count-changes-{model._meta.label_lower}"
    post_save.connect(_saved_or_deleted, sender=model, dispatch_uid=f"{uid}-save")
    post_delete.connect(_saved_or_deleted, sender=model, dispatch_uid=f"{uid}-delete")
    _TRACKED.add(model._meta.label_lower)


def _saved_or_deleted(sender: type[models.Model], using: str, **kwargs: Any) -> None:
    note_change(sender, using)
