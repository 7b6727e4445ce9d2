"""What the apps' policy modules share.

A rule is one function in its app's ``policy.py``: it answers with the sentence that refuses,
written for the person asking, or ``""`` when the action is allowed. Services call
``enforce(rule(...))``; views and templates show the same sentence next to the control it
blocks; ``rules`` (django-rules) registers the same functions as object permissions, so
``user.has_perm("bookshelf.change_book", book)`` asks them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.utils.functional import LazyObject, empty

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class PolicyDenied(PermissionDenied):
    """A refusal whose message is the policy's sentence (a 403 page, or a toast for htmx)."""


def enforce(refusal: StrOrPromise, error: type[PolicyDenied] = PolicyDenied) -> None:
    """Raise ``error`` (``PolicyDenied`` or an app's subclass) with the rule's sentence, if
    it refused."""
    if refusal:
        raise error(str(refusal))


def allows(refusal: StrOrPromise) -> bool:
    """True when a rule's answer is "" (allowed). The same as ``not refusal`` without
    translating the sentence of a refusal only to test it: a refusal is a lazy translation,
    never a plain ``str``, and the book list asks hundreds of rules a page."""
    return type(refusal) is str and not refusal


def holds(user: Any, permission: str) -> bool:
    """The model-level permission ("app.codename") from the user's roles or direct grants
    (superusers hold all), as Django's ``ModelBackend`` answers it.

    Read from ``get_all_permissions`` rather than ``has_perm``: the rules backend answers
    ``has_perm`` by calling the policy, which would call itself.
    """
    if not getattr(user, "is_active", False):
        return False
    # Asked hundreds of times a page (each row's actions); the set is built once per user
    # object, which lives one request (Django's backend caches the parts on it the same way).
    permissions = getattr(user, PERMISSIONS_CACHE, None)
    if permissions is None:
        permissions = user.get_all_permissions()
        setattr(user, PERMISSIONS_CACHE, permissions)
    return permission in permissions


def unwrapped(user: Any) -> Any:
    """The user object behind ``request.user`` (a ``SimpleLazyObject``, loaded on first use).

    Every attribute read through the lazy proxy is an extra call: a page that asks the rules
    about each of its rows (the book list's menus, about 30 questions a row) spent twice as
    long in the proxy as in the rules. Ask them with the object itself."""
    if isinstance(user, LazyObject):
        # LazyObject's own names (django.utils.functional), which its stubs leave out.
        if user._wrapped is empty:  # type: ignore[attr-defined]
            user._setup()  # type: ignore[attr-defined]
        return user._wrapped  # type: ignore[attr-defined]
    return user


# Where ``holds`` keeps a user's permissions, beside Django's own caches (``_perm_cache``…):
# whoever drops those after changing a user's permissions drops this one too.
PERMISSIONS_CACHE = "_bookshelf_all_permissions"
