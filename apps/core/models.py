from __future__ import annotations

from django.db import models


class ChangeCounter(models.Model):
    """How many times a table's rows have changed: ``apps.core.counting`` keys the counts
    it keeps on this number, so any committed write to the table makes them stale at once.

    A row per table, bumped after each writer commits. It starts at a random number, so a
    database rebuilt from scratch never reuses a value a shared cache (Redis) still holds
    counts for."""

    name = models.CharField(max_length=100, primary_key=True)  # the model's label
    value = models.BigIntegerField()

    class Meta:
        verbose_name = "change counter"

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"
