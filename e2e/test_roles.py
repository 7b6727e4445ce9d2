"""The roles area in a real browser: an admin gives a role, the new editor edits a book."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from apps.accounts.tests.factories import UserFactory
from apps.bookshelf.models import Book
from apps.bookshelf.tests.factories import BookFactory

from .conftest import log_in, watch
from .support import SCREENSHOTS

SCREENSHOT = SCREENSHOTS / "roles.png"
PHONE_SCREENSHOT = SCREENSHOT.with_name("roles-phone.png")


@pytest.fixture
def people(transactional_db):
    def in_role(username: str, first_name: str, role: str):
        user = UserFactory(username=username, first_name=first_name, last_name=role.rstrip("s"))
        user.groups.add(Group.objects.get(name=role))
        return user

    BookFactory(
        title="Dune", author="Frank Herbert", is_published=True, published_at=timezone.now()
    )
    return {
        "roleadmin": in_role("roleadmin", "Rolf", "Admins"),
        "member": in_role("member", "Max", "Members"),
        "editor": in_role("editor", "Eddie", "Editors"),
    }


def test_roleadmin_gives_member_the_editors_role_and_member_can_edit(
    page: Page, browser: Browser, live_server, people, browser_problems
):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, "roleadmin")
    page.get_by_role("link", name="Roles", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Roles")
    page.get_by_role("link", name="Editors", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Editors")
    page.screenshot(path=str(SCREENSHOT), full_page=False)

    # Members: search as you type, then Add.
    page.get_by_placeholder("Add someone: name, username or email…").press_sequentially(
        "max", delay=40
    )
    page.get_by_role("button", name="Add Max Member").click()
    expect(page.get_by_role("status").filter(has_text="now has the role Editors")).to_be_visible()
    expect(page.locator("#members")).to_contain_text("Max Member")
    assert people["member"].groups.filter(name="Editors").exists()

    # The member, in a browser of their own, now edits books.
    other = watch(browser.new_context(), browser_problems)
    member_page = other.new_page()
    log_in(member_page, live_server.url, "member")
    member_page.goto(f"{live_server.url}/books/")
    member_page.get_by_role("button", name="Actions for Dune").click()
    member_page.get_by_role("link", name="Edit").click()
    member_page.locator("form[data-inline-edit]").get_by_label("Title").fill("Dune (1965)")
    member_page.locator("form[data-inline-edit]").get_by_role("button", name="Save").click()
    expect(member_page.get_by_role("link", name="Dune (1965)")).to_be_visible()
    assert Book.objects.filter(title="Dune (1965)").exists()
    other.close()


def test_a_permission_the_admin_lacks_is_disabled_and_a_crafted_post_refused(
    page: Page, live_server, people
):
    editors = Group.objects.get(name="Editors")
    add_user = Permission.objects.get(codename="add_user")
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/{editors.pk}/")
    box = page.get_by_role("checkbox", name="Can add user")
    expect(box).to_be_disabled()
    # The rule's sentence (policy.why_cannot_grant), the same the crafted post gets below.
    expect(box).to_have_attribute(
        "title", "You can't grant “Can add user”: you don't have that permission yourself."
    )

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/roles/{editors.pk}/permissions/{add_user.pk}/",
        form={"csrfmiddlewaretoken": token, "permissions": str(add_user.pk)},
    )
    assert response.status == 403
    assert "you don't have that permission yourself" in response.text().replace("&#x27;", "'")
    assert not editors.permissions.filter(pk=add_user.pk).exists()


def test_a_checkbox_saves_as_it_is_ticked(page: Page, live_server, people):
    editors = Group.objects.get(name="Editors")
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/{editors.pk}/")
    page.get_by_role("checkbox", name="publish").check()
    expect(page.get_by_role("status").filter(has_text="granted to Editors")).to_be_visible()
    expect(page.get_by_role("checkbox", name="publish")).to_be_checked()
    assert editors.permissions.filter(codename="can_publish_book").exists()
    page.get_by_role("checkbox", name="publish").uncheck()
    expect(page.get_by_role("status").filter(has_text="revoked from Editors")).to_be_visible()
    assert not editors.permissions.filter(codename="can_publish_book").exists()


def test_editor_gets_403_on_the_roles_page(page: Page, live_server, people, browser_problems):
    browser_problems.expected_error_urls.add(f"{live_server.url}/roles/")
    log_in(page, live_server.url, "editor")
    expect(page.get_by_role("link", name="Roles", exact=True)).to_have_count(0)
    page.goto(f"{live_server.url}/roles/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You don't have permission to do that"
    )
    expect(page.get_by_text("Only role admins can manage roles.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/roles/$"))


def test_adding_someone_deactivated_after_the_search_shows_why(
    page: Page, live_server, people, browser_problems
):
    """A stale suggestion is refused with a 400 that htmx shows as a toast (base.html swaps
    400s), not the "something went wrong on our side" of a server error."""
    editors = Group.objects.get(name="Editors")
    browser_problems.expected_error_urls.add(f"{live_server.url}/roles/{editors.pk}/members/")
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/{editors.pk}/")
    page.get_by_placeholder("Add someone: name, username or email…").press_sequentially(
        "max", delay=40
    )
    add = page.get_by_role("button", name="Add Max Member")
    expect(add).to_be_visible()
    people["member"].is_active = False
    people["member"].save(update_fields=["is_active"])
    add.click()
    expect(page.get_by_role("alert")).to_contain_text(
        "That person can't be added: they don't exist or are inactive. Search again."
    )
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Editors")
    assert not people["member"].groups.filter(name="Editors").exists()


# --- Phones and desktops: nothing scrolls sideways, every action is in reach ------------------

VIEWPORTS = [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]

# The visible links, buttons and fields of the page's main area that lie (partly) outside the
# viewport horizontally; visually hidden ones (1 px, for screen readers) are not actions.
OFF_SCREEN_ACTIONS = """
() => [...document.querySelectorAll(
    "main a[href], main button, main input:not([type=hidden]), main select, main [tabindex]"
  )]
  .filter((el) => el.getClientRects().length)
  .map((el) => [el, el.getBoundingClientRect()])
  .filter(([el, box]) => box.width > 1 && box.height > 1)
  .filter(([el, box]) => box.left < 0 || box.right > document.documentElement.clientWidth)
  .map(([el, box]) => `${el.outerHTML.slice(0, 120)} (${box.left}..${box.right})`)
"""


def roles_pages(people) -> list[str]:
    from axes.models import AccessAttempt

    editors = Group.objects.get(name="Editors")
    long_named = UserFactory(
        username="a.very.long.username.without.spaces",
        email="someone.with.a.rather.long.address@example-library.org",
        first_name="Maximiliane",
        last_name="Oberhausen-Wittgensteiner",
    )
    long_named.groups.add(editors)
    AccessAttempt.objects.create(
        username="someone.with.a.rather.long.address@example-library.org",
        ip_address="2001:db8:85a3::8a2e:370:7334",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )
    return [
        "/roles/",
        f"/roles/{editors.pk}/",
        "/roles/users/",
        f"/roles/users/{long_named.pk}/",
        f"/roles/{editors.pk}/rename/",
        f"/roles/{editors.pk}/delete/",
        "/roles/lockouts/",
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["390px", "1280px"])
def test_no_roles_page_scrolls_sideways_and_every_action_is_in_reach(
    page: Page, live_server, people, viewport
):
    paths = roles_pages(people)
    page.set_viewport_size(viewport)
    log_in(page, live_server.url, "roleadmin")
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width[0] <= width[1], f"{path} scrolls sideways at {viewport['width']} px: {width}"
        assert page.evaluate(OFF_SCREEN_ACTIONS) == [], path
        for action in (
            page.locator("main").get_by_role("link").all()
            + page.locator("main").get_by_role("button").all()
        ):
            box = action.bounding_box()
            if box and box["width"] > 1:
                assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (
                    path,
                    action.text_content(),
                )


def test_role_list_actions_are_whole_on_a_phone(page: Page, live_server, people):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/")
    for name in ("Edit Editors", "Members of Editors", "Rename Editors", "Delete Editors"):
        link = page.get_by_role("link", name=name)
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box and box["x"] + box["width"] <= 390, name
    page.get_by_role("link", name="Rename Editors").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rename “Editors”")


def test_custom_permissions_read_as_whole_sentences_on_a_phone(page: Page, live_server, people):
    editors = Group.objects.get(name="Editors")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/{editors.pk}/")
    for sentence in ("Publish and unpublish books", "Archive and restore books"):
        label = page.locator("label", has_text=sentence)
        expect(label).to_have_text(sentence)
        box = label.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, sentence
        # The whole sentence is painted: the label is not clipped by its cell.
        assert label.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), sentence
    # The stacked boxes say which column they are in.
    view = page.get_by_role("checkbox", name="Can view book")
    expect(page.locator(f"label[for='{view.get_attribute('id')}']")).to_have_text("View")
    expect(page.locator(f"label[for='{view.get_attribute('id')}']")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(PHONE_SCREENSHOT))  # README's phone picture of a role


# --- Disabled boxes say why, on hover and on focus -------------------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["390px", "1280px"])
def test_a_disabled_boxs_reason_shows_on_focus_and_on_hover(
    page: Page, live_server, people, viewport
):
    editors = Group.objects.get(name="Editors")
    add_user = Permission.objects.get(codename="add_user")
    sentence = "You can't grant “Can add user”: you don't have that permission yourself."
    page.set_viewport_size(viewport)
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/{editors.pk}/")
    box = page.get_by_role("checkbox", name="Can add user")
    expect(box).to_be_disabled()
    expect(box).to_have_accessible_description(sentence)
    reason = page.locator(f"#perm-{add_user.pk}-why")
    lock = page.locator(".perm-why", has=reason)

    def shown() -> bool:
        size = reason.bounding_box()
        return bool(size and size["width"] > 100)

    assert not shown()  # a lock only, until asked
    # Keyboard: the lock is in the tab order (Shift+Tab away and Tab back lands on it).
    lock.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(lock).to_be_focused()
    expect(reason).to_have_text(sentence)
    assert shown()
    size = reason.bounding_box()
    assert size and size["x"] >= 0 and size["x"] + size["width"] <= viewport["width"]
    page.keyboard.press("Tab")
    page.mouse.move(0, 0)
    assert not shown()
    # Pointer: hovering the box's cell.
    box.locator("xpath=..").hover()
    assert shown()


# --- Column headings: Undo in the toast ------------------------------------------------------


def column_state(group: Group, codename_prefix: str) -> set[str]:
    return set(
        group.permissions.filter(codename__startswith=codename_prefix).values_list(
            "codename", flat=True
        )
    )


def test_a_column_heading_toast_offers_undo_that_restores_the_column(
    page: Page, live_server, people
):
    viewers = Group.objects.get(name="Viewers")
    viewers.permissions.add(Permission.objects.get(codename="delete_book"))
    before = set(viewers.permissions.values_list("codename", flat=True))
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/{viewers.pk}/")

    page.get_by_role("button", name="Add", exact=True).click()
    toast = page.get_by_role("status").filter(has_text="Column “Add”: 1 granted")
    expect(toast).to_be_visible()
    expect(page.get_by_role("checkbox", name="Can add book")).to_be_checked()
    assert column_state(viewers, "add_") == {"add_book"}

    toast.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status").filter(has_text="Column “Add” restored")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Can add book")).not_to_be_checked()
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)
    expect(page.get_by_role("button", name="Add", exact=True)).to_be_focused()
    assert set(viewers.permissions.values_list("codename", flat=True)) == before


def test_column_undo_works_without_javascript(
    browser: Browser, live_server, people, browser_problems
):
    viewers = Group.objects.get(name="Viewers")
    context = watch(browser.new_context(java_script_enabled=False), browser_problems)
    page = context.new_page()
    log_in(page, live_server.url, "roleadmin")
    page.goto(f"{live_server.url}/roles/{viewers.pk}/")
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_text("Column “Delete”: 1 granted, 0 revoked.")).to_be_visible()
    assert column_state(viewers, "delete_") == {"delete_book"}
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("checkbox", name="Can delete book")).not_to_be_checked()
    assert set(viewers.permissions.values_list("codename", flat=True)) == {"view_book"}
    context.close()
