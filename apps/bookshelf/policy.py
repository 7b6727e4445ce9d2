"""Who may do what to books: every rule about books, each in one function.

Each ``why_cannot_*`` function answers with the sentence that refuses, for the person asking,
or ``""`` when allowed. ``services`` enforces them, the views and templates show the same
sentence where the control would be (the detail page's "who can" list), and the bottom of
this module registers them with ``rules`` so Django's own API asks them about one book:
``user.has_perm("bookshelf.change_book", book)``. Model-level answers (no object) come from
the roles (groups) through Django's ``ModelBackend``, which these rules build on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rules.permissions import add_perm
from rules.predicates import Predicate, predicate

from apps.core.policy import allows, holds, unwrapped
from apps.core.templatetags.time_tags import ago

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from .models import Book

VIEW = "bookshelf.view_book"
ADD = "bookshelf.add_book"
CHANGE = "bookshelf.change_book"
DELETE = "bookshelf.delete_book"
PUBLISH = "bookshelf.can_publish_book"


# --- Seeing books ---------------------------------------------------------------------------


def sees_unpublished(user: Any) -> bool:
    """Drafts and archived books are for those who may change books; everyone else sees
    published books only (``Book.objects.visible_to`` and the list's filters ask this)."""
    return holds(user, CHANGE)


def why_cannot_view(user: Any, book: Book | None = None) -> StrOrPromise:
    """Browsing needs view_book unless the catalogue is public; a draft or archived book
    also needs ``sees_unpublished`` (its page is then a 404: its existence is not told)."""
    if not settings.BOOKSHELF_PUBLIC_CATALOGUE and not holds(user, VIEW):
        return _("You don't have permission to view books.")
    if book is not None and not book.is_public and not sees_unpublished(user):
        return _("Only people who may edit books can see drafts and archived books.")
    return ""


# --- Adding, editing, deleting --------------------------------------------------------------


def why_cannot_add(user: Any) -> StrOrPromise:
    """Adding a book needs add_book."""
    if not holds(user, ADD):
        return _("You don't have permission to add books.")
    return ""


def why_cannot_edit(user: Any, book: Book | None = None) -> StrOrPromise:
    """Editing needs change_book; while a book is in review only publishers edit it (what
    they review does not change under them). A published book is edited directly: only
    the step into "published" goes through review."""
    if not holds(user, CHANGE):
        return _("You don't have permission to edit books.")
    if book is not None and book.is_in_review and not holds(user, PUBLISH):
        return _(
            "This book is in review: only publishers can edit it until the review ends. "
            "Withdraw it from review to change it."
        )
    return ""


def why_cannot_review(user: Any) -> StrOrPromise:
    """The review queue is for those who may approve (can_publish_book)."""
    if not holds(user, PUBLISH):
        return _("Only publishers can review books.")
    return ""


def why_cannot_read_history(user: Any, book: Book | None = None) -> StrOrPromise:
    """A book's history (who did what, review comments) is for those who work on books:
    the people who see drafts."""
    if not sees_unpublished(user):
        return _("Only people who may edit books can read their history.")
    return why_cannot_view(user, book)


def why_cannot_delete(user: Any, book: Book | None = None) -> StrOrPromise:
    """Deleting needs delete_book, and reaches only the books the user can see (without
    change_book: published ones)."""
    if not holds(user, DELETE):
        return _("You don't have permission to delete books.")
    if book is not None:
        return why_cannot_view(user, book)
    return ""


# --- State changes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRule:
    """Who may apply a state change and to which state. ``expects`` is checked here to
    decide which buttons to show and, by ``services``, as the UPDATE's condition."""

    name: str
    permission: str  # needed besides change_book: every state change is a change too
    expects: dict[str, bool]
    denied: StrOrPromise  # without the permission
    not_now: StrOrPromise  # with it, but the book is not in the state this applies to
    # The state this change leads to, and what to say when someone got there first (the
    # usual reason a click is refused: a page that was not reloaded).
    done: dict[str, bool] = field(default_factory=dict)
    already: StrOrPromise = ""
    # Who "already" did it: the latest of these history entries (BookEvent actions), or,
    # without any, the book's own columns (``done_by``: its person and time fields).
    # ``only_after_event``: without such an entry, nobody did it (a draft never sent back).
    done_events: tuple[str, ...] = ()
    done_by: tuple[str, str] = ("updated_by", "updated_at")
    only_after_event: bool = False

    def applies_to(self, book: Book) -> bool:
        return all(getattr(book, field) == value for field, value in self.expects.items())


ACTION_RULES: dict[str, ActionRule] = {
    rule.name: rule
    for rule in [
        # The editorial workflow: draft → in review → published, a second person approving.
        ActionRule(
            "submit",
            CHANGE,
            {"is_published": False, "is_archived": False, "is_in_review": False},
            _("You don't have permission to edit books."),
            _("Only drafts can be submitted for review."),
            {"is_in_review": True},
            _("Already in review: submitted by %(who)s %(when)s."),
            done_by=("submitted_by", "submitted_at"),
        ),
        ActionRule(
            "approve",
            PUBLISH,
            {"is_in_review": True},
            _("You don't have permission to approve books."),
            _("This book is not in review. Submit it for review first."),
            {"is_published": True},
            _("Already published: approved by %(who)s %(when)s."),
            done_events=("approved",),
        ),
        ActionRule(
            "request_changes",
            PUBLISH,
            {"is_in_review": True},
            _("You don't have permission to review books."),
            _("This book is not in review."),
            {"is_in_review": False, "is_published": False, "is_archived": False},
            _("No longer in review: %(who)s %(what)s %(when)s."),
            done_events=("withdrawn", "changes_requested"),
            only_after_event=True,
        ),
        ActionRule(
            "withdraw",
            CHANGE,
            {"is_in_review": True},
            _("You don't have permission to edit books."),
            _("This book is not in review."),
            {"is_in_review": False, "is_published": False, "is_archived": False},
            _("No longer in review: %(who)s %(what)s %(when)s."),
            done_events=("withdrawn", "changes_requested"),
            only_after_event=True,
        ),
        ActionRule(
            "unpublish",
            PUBLISH,
            {"is_published": True},
            _("You don't have permission to unpublish books."),
            _("This book is not published."),
            {"is_published": False},
            _("Already a draft: last changed by %(who)s %(when)s."),
        ),
        ActionRule(
            "feature",
            "bookshelf.can_feature_book",
            {"is_featured": False, "is_published": True, "is_archived": False},
            _("You don't have permission to feature books."),
            _("Only published books that are not archived can be featured."),
            {"is_featured": True},
            _("Already featured: last changed by %(who)s %(when)s."),
        ),
        ActionRule(
            "unfeature",
            "bookshelf.can_feature_book",
            {"is_featured": True},
            _("You don't have permission to unfeature books."),
            _("This book is not featured."),
            {"is_featured": False},
            _("Already no longer featured: last changed by %(who)s %(when)s."),
        ),
        ActionRule(
            "archive",
            "bookshelf.can_archive_book",
            {"is_archived": False, "is_in_review": False},
            _("You don't have permission to archive books."),
            _("A book in review cannot be archived: withdraw it or finish the review first."),
            {"is_archived": True},
            _("Already archived: last changed by %(who)s %(when)s."),
        ),
        ActionRule(
            "unarchive",
            "bookshelf.can_archive_book",
            {"is_archived": True},
            _("You don't have permission to unarchive books."),
            _("This book is not archived."),
            {"is_archived": False},
            _("Already restored from the archive: last changed by %(who)s %(when)s."),
        ),
        ActionRule(
            "premium",
            "bookshelf.can_set_premium",
            {},
            _("You don't have permission to change premium books."),
            "",  # a toggle: it applies in every state
        ),
    ]
}


def why_cannot_approve_own(user: Any, book: Book) -> StrOrPromise:
    """Four eyes on everything public: the submitter of a book never approves it, nor does
    anyone who changed it while it was in review, whatever their permissions. Checked
    explicitly because Django says yes to a superuser for every permission; superusers are
    held to it too."""
    pk = getattr(user, "pk", None)
    if book.submitted_by_id is not None and book.submitted_by_id == pk:
        return _("You submitted this book; another publisher must approve it.")
    if pk is not None and pk in (book.edited_in_review_by or []):
        return _("You changed this book while it was in review; another publisher must approve it.")
    return ""


def why_cannot_withdraw(user: Any, book: Book) -> StrOrPromise:
    """A book in review is taken back by the person who submitted it, or by a publisher.
    (A book not in review: ``why_not_now`` says so.)"""
    if not book.is_in_review:
        return ""
    if book.submitted_by_id == getattr(user, "pk", None) or holds(user, PUBLISH):
        return ""
    return _("Only the person who submitted this book, or a publisher, can withdraw it.")


# The rules about one book that come on top of the permission, per action.
OBJECT_RULES = {"approve": why_cannot_approve_own, "withdraw": why_cannot_withdraw}


def why_cannot_act(user: Any, action: str, book: Book | None = None) -> StrOrPromise:
    """A state change needs change_book and the action's own permission (publish,
    feature, archive, premium), and about one book its ``OBJECT_RULES`` (four eyes on
    approval, who may withdraw); the book's state is ``why_not_now``."""
    rule = ACTION_RULES[action]
    if not (holds(user, CHANGE) and holds(user, rule.permission)):
        return rule.denied
    if book is not None and action in OBJECT_RULES:
        return OBJECT_RULES[action](user, book)
    return ""


def why_not_now(action: str, book: Book) -> StrOrPromise:
    """A state change applies only to the states in ``ACTION_RULES`` (checked again in
    the UPDATE's condition, so a stale page cannot apply it); when someone already made
    it, it says so, with who changed the book last and when."""
    rule = ACTION_RULES[action]
    if rule.applies_to(book):
        return ""
    if rule.done and all(getattr(book, f) == v for f, v in rule.done.items()):
        done = _who_did(rule, book)
        if done is not None:
            who, when, what = done
            return rule.already % {"who": who or _("someone"), "when": ago(when), "what": what}
    return rule.not_now


def _who_did(rule: ActionRule, book: Book) -> tuple[Any, Any, StrOrPromise] | None:
    """Who put the book where ``rule.done`` says, when, and what they did: the latest of
    its history entries ``rule.done_events`` (one query, only on this refusal's path), or
    the book's columns ``rule.done_by``. None: nobody did (``only_after_event``)."""
    if rule.done_events:
        from .models import BookEvent  # models import this module

        event = BookEvent.objects.of_book(book.pk).filter(action__in=rule.done_events).first()
        if event is not None:
            actor = get_user_model().objects.filter(pk=event.actor_id).first()
            return actor or event.actor_username, event.created_at, event.get_action_display()
        if rule.only_after_event:
            return None
    person, time = rule.done_by
    return getattr(book, person), getattr(book, time), ""


# --- What one person may do to one book (the row menu, the detail page) -------------------------


@dataclass(frozen=True)
class BookControls:
    """The controls to show one user for one book, each decided by the rules above."""

    edit: bool
    delete: bool
    actions: list[str]  # the state changes allowed and applicable now
    # Why a button this user would otherwise have is not there, shown in its place: the
    # four-eyes rule to the submitter, "only publishers edit it now" to an editor.
    approve_refusal: StrOrPromise = ""
    edit_refusal: StrOrPromise = ""


def book_controls(user: Any, book: Book) -> BookControls:
    # Asked for every row of the list: the user without its lazy proxy, each rule once,
    # and the book's state (cheap) before the rule (a refusal is a sentence to translate).
    user = unwrapped(user)
    may_approve = holds(user, CHANGE) and holds(user, PUBLISH) and book.is_in_review
    edit_refusal = why_cannot_edit(user, book)
    return BookControls(
        edit=allows(edit_refusal),
        delete=allows(why_cannot_delete(user, book)),
        actions=[
            name
            for name, rule in ACTION_RULES.items()
            if rule.applies_to(book) and allows(why_cannot_act(user, name, book))
        ],
        approve_refusal=why_cannot_act(user, "approve", book) if may_approve else "",
        edit_refusal=edit_refusal if holds(user, CHANGE) else "",
    )


def refusals(user: Any, book: Book) -> list[tuple[str, StrOrPromise]]:
    """(permission, sentence) for each book permission this user lacks, one per permission:
    what the detail page's "who can" list explains."""
    # While in review, editing is the publishers' (who holds change_book does not help).
    edit_permission = PUBLISH if book.is_in_review and holds(user, CHANGE) else CHANGE
    checks: list[tuple[str, StrOrPromise]] = [
        (edit_permission, why_cannot_edit(user, book)),
        (DELETE, why_cannot_delete(user, book)),
        *((rule.permission, why_cannot_act(user, name, book)) for name, rule in _first_per_perm()),
    ]
    return [(permission, reason) for permission, reason in checks if reason]


def _first_per_perm() -> list[tuple[str, ActionRule]]:
    seen: set[str] = {CHANGE}  # change_book is the edit rule's (submit, withdraw need it)
    first = []
    for name, rule in ACTION_RULES.items():
        if rule.permission not in seen:
            seen.add(rule.permission)
            first.append((name, rule))
    return first


# --- Django's API: user.has_perm("bookshelf.<codename>", book) --------------------------------


def _allowed_unless(rule: Any, *args: str) -> Predicate:
    """A predicate for ``rules``: about one book, allowed when the policy function does not
    refuse. Without a book it says no: model-level answers stay with ModelBackend and the
    roles (saying yes there would grant the permission itself, e.g. view_book to everyone
    while the catalogue is public, and with it the admin's book pages)."""

    def allowed(user: Any, book: Book | None = None) -> bool:
        return book is not None and not rule(user, *args, book)

    return predicate(allowed, name=f"{rule.__name__}{args}")


add_perm(VIEW, _allowed_unless(why_cannot_view))
add_perm(CHANGE, _allowed_unless(why_cannot_edit))
add_perm(DELETE, _allowed_unless(why_cannot_delete))
for _name, _rule in _first_per_perm():
    add_perm(_rule.permission, _allowed_unless(why_cannot_act, _name))
