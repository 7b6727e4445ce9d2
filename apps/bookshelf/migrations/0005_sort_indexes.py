"""The list's sort indexes gain every column each sort orders by (title, id; author, title,
id; …): a deep page is then found in the index alone (apps/core/pagination.py)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookshelf", "0004_search_trigram_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="book",
            name="bookshelf_book_title_idx",
        ),
        migrations.RemoveIndex(
            model_name="book",
            name="bookshelf_book_author_idx",
        ),
        migrations.RemoveIndex(
            model_name="book",
            name="bookshelf_book_year_idx",
        ),
        migrations.RemoveIndex(
            model_name="book",
            name="bookshelf_book_updated_idx",
        ),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["title", "id", "author"], name="bookshelf_book_title_sort"),
        ),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["author", "title", "id"], name="bookshelf_book_author_sort"),
        ),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(
                fields=["publication_year", "title", "id"], name="bookshelf_book_year_sort"
            ),
        ),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["updated_at", "id"], name="bookshelf_book_updated_sort"),
        ),
    ]
