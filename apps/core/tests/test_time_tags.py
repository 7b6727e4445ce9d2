from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.core.templatetags.time_tags import ago


def test_ago_says_the_largest_unit_only():
    now = timezone.now()
    assert ago(now - timedelta(days=4, hours=10)) == "4\xa0days ago"
    assert ago(now - timedelta(minutes=3, seconds=20)) == "3\xa0minutes ago"
    assert ago(now - timedelta(days=800)) == "2\xa0years ago"


def test_ago_says_just_now_for_the_last_minute_and_nothing_for_none():
    assert ago(timezone.now() - timedelta(seconds=20)) == "just now"
    assert ago(timezone.now() + timedelta(seconds=5)) == "just now"  # clocks differ a little
    assert ago(None) == ""


def render(source: str, **context) -> str:
    from django.template import Context, Template

    return Template("{% load time_tags %}" + source).render(Context(context))


def test_time_ago_is_the_time_element_the_three_filters_made():
    value = timezone.now() - timedelta(days=3, hours=2)
    by_filters = render(
        '<time datetime="{{ v|date:\'c\' }}" title="{{ v }}">{{ v|ago }}</time>', v=value
    )
    assert render("{% time_ago v %}", v=value) == by_filters
    assert "3\xa0days ago</time>" in by_filters


def test_time_ago_takes_a_title_format_and_a_class_and_escapes_them():
    value = timezone.now() - timedelta(minutes=5)
    html = render("{% time_ago v 'Y-m-d' css_class=cls %}", v=value, cls='small" onclick="x')
    assert html.startswith('<time class="small&quot; onclick=&quot;x" datetime="')
    assert f'title="{timezone.localtime(value):%Y-%m-%d}"' in html
    assert render("{% time_ago v %}", v=None) == ""
