"""Search at 100,000 books: trigram GIN indexes for `Book.objects.search` on PostgreSQL.

The search asks `UPPER(title) LIKE UPPER('%word%')` (Django's `icontains`), which no B-tree
index serves: PostgreSQL scanned the whole table twice a request (the count and the page).
pg_trgm's GIN indexes on exactly those expressions serve it. They exist on PostgreSQL only
(the extension is PostgreSQL's; pg_trgm is a trusted extension, so the database's owner may
create it); on SQLite this migration does nothing and the search works as before. Not
declared in `Book.Meta`, which cannot say "on PostgreSQL only".
"""

from __future__ import annotations

from django.db import migrations

INDEXES = {
    "bookshelf_book_title_trgm": "UPPER(title)",
    "bookshelf_book_author_trgm": "UPPER(author)",
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON bookshelf_book "  # noqa: S608 (constants)
            f"USING gin ({expression} gin_trgm_ops)"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("bookshelf", "0003_circulation_permissions")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
