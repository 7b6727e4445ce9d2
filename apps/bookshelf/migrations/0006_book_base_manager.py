"""Books are updated through the base manager too when a related row goes (a deleted
user's SET_NULL): it is "objects", whose queryset notes the change (apps.core.counting)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("bookshelf", "0005_sort_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="book",
            options={
                "base_manager_name": "objects",
                "ordering": ["title", "id"],
                "permissions": [
                    ("can_publish_book", "Can publish and unpublish books"),
                    ("can_archive_book", "Can archive and restore books"),
                    ("can_feature_book", "Can feature books on the home page"),
                    ("can_set_premium", "Can mark books as premium content"),
                    ("can_borrow_book", "Can borrow books"),
                    ("can_return_book", "Can return books"),
                    ("can_manage_inventory", "Can manage book inventory"),
                ],
                "verbose_name": "book",
                "verbose_name_plural": "books",
            },
        ),
    ]
