"""Relative times people read at a glance: "4 days ago", not "4 days, 10 hours ago"."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """``{{ book.updated_at|ago }}``: the largest unit only ("3 minutes ago", "2 years ago",
    "just now"); the exact time belongs in the element's title."""
    if not value:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(value, depth=1)}


@register.simple_tag
def time_ago(
    value: datetime | None, title_format: str = "DATETIME_FORMAT", css_class: str = ""
) -> str:
    """``{% time_ago book.updated_at %}``: ``<time datetime="…" title="…">3 days ago</time>``,
    the relative time with the exact one (in the active time zone) as its title and for
    machines. One tag rather than three filters on the same value: the book list has one
    per row, and each filter is a separate lookup and conversion."""
    if not value:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html(
        '<time{} datetime="{}" title="{}">{}</time>',
        format_html(' class="{}"', css_class) if css_class else SafeString(""),
        dateformat.format(local, "c"),
        formats.date_format(local, title_format),
        ago(value),
    )
