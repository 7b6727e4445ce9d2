"""The History page on a phone: entries read as sentences and nothing scrolls sideways."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import Browser, expect

from apps.accounts.tests.factories import UserFactory
from apps.roles.services import group_delete, group_grant_permission, membership_add

from .conftest import log_in, watch
from .support import PHONE

# Long words are what push a phone page sideways.
LONG_ROLE = "Regional-collection-coordinators-for-rare-manuscripts"
LONG_USERNAME = "maximilian.membership-with-a-very-long-username"


@pytest.fixture
def history(transactional_db):
    """An admin, and entries of every kind that lists something: a grant, a member added,
    a role deleted with its members and permissions."""
    roleadmin = UserFactory(username="roleadmin", first_name="Rolf")
    roleadmin.groups.add(Group.objects.get(name="Admins"))
    person = UserFactory(username=LONG_USERNAME)
    editors = Group.objects.get(name="Editors")
    publish = Permission.objects.get(codename="can_publish_book")
    group_grant_permission(actor=roleadmin, group=editors, permission=publish, ip="203.0.113.9")
    doomed = Group.objects.create(name=LONG_ROLE)
    membership_add(actor=roleadmin, group=doomed, user=person, ip="2001:db8:ffff:ffff::1")
    doomed.permissions.add(*Permission.objects.filter(content_type__app_label="bookshelf"))
    permissions = doomed.permissions.count()
    group_delete(actor=roleadmin, group=doomed, ip="203.0.113.9")
    return {"staff": Group.objects.create(name="Staff"), "permissions": permissions}


def test_history_reads_as_sentences_on_a_phone_without_sideways_scroll(
    browser: Browser, live_server, history, browser_problems
):
    context = watch(browser.new_context(**PHONE), browser_problems)
    page = context.new_page()
    log_in(page, live_server.url, "roleadmin")

    # A change made in the browser: its entry names the client it came from.
    page.goto(f"{live_server.url}/roles/{history['staff'].pk}/rename/")
    page.get_by_label("Role name").fill("Crew")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crew")

    page.goto(f"{live_server.url}/roles/audit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("History")
    renamed = page.get_by_role("row").filter(has_text="roleadmin renamed the role Staff to Crew")
    expect(renamed).to_be_visible()
    expect(renamed).to_contain_text("Client IP: 127.0.0.1")
    expect(
        page.get_by_text("roleadmin granted “Can publish and unpublish books” to Editors")
    ).to_be_visible()
    deleted = page.get_by_role("row").filter(has_text=f"deleted the role {LONG_ROLE}")
    permissions = f"{history['permissions']} permissions"
    expect(deleted).to_contain_text(f"(it had 1 member and {permissions})")
    expect(deleted.get_by_text(LONG_USERNAME)).to_be_visible()  # a short list is open

    # Stacked on a phone: the column headings give way to a label in each entry.
    expect(page.get_by_role("columnheader", name="Client IP")).to_be_hidden()
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), "the History page scrolls sideways at 390 px"

    # The long list of permissions opens without JavaScript, and still fits.
    deleted.get_by_text(permissions, exact=True).click()
    expect(deleted.get_by_text("Can mark books as premium content")).to_be_visible()
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    context.close()


def test_history_is_a_table_on_a_wide_screen(page, live_server, history):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/audit/")
    expect(page.get_by_role("columnheader", name="Client IP")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="granted “Can publish and unpublish books”")
    # The phone's label inside the cell is hidden here: the heading names the column.
    assert row.get_by_role("cell").last.inner_text().strip() == "203.0.113.9"
