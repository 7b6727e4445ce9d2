"""The project's Django admin site: Django's, minus two ways junk input crashed it.

Found by the junk-input walk (apps/core/tests/test_junk_input.py), both in Django's own code:

- An empty ``?_to_field=`` slips past ``ModelAdmin``'s own check (``if to_field and not
  to_field_allowed(...)``) and reaches ``_meta.get_field("")``: ``FieldDoesNotExist``, a 500
  on every change and delete page. It is refused here the way Django refuses a disallowed
  field (``DisallowedModelAdminToField``, a 400).
- A many-to-many id beyond 64 bits crashes ``ModelMultipleChoiceField`` on SQLite
  (``OverflowError`` in ``pk__in``). Every registered ``ModelAdmin``, ours and Django's
  (``GroupAdmin``), gets ``IdModelMultipleChoiceField`` for its many-to-many fields, which
  refuses a malformed id before any query.
- The same overflow in a change list's filter (``?id__in=99999999999999999999999``) is
  raised while the list counts its rows, outside the ``try`` where Django turns bad lookups
  into ``IncorrectLookupParameters``; it is turned into that here, so the list reloads
  without the filter, as for any other bad lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminToField
from django.contrib.admin.options import TO_FIELD_VAR, IncorrectLookupParameters
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.decorators import method_decorator

from .ids import IdModelMultipleChoiceField
from .net import safe_next_url

# Any view function; admin_view hands back the type it was given (as Django's stub says).
_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class SafeIdsAdminMixin:
    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("form_class", IdModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        try:
            return super().get_changelist_instance(request)  # type: ignore[misc]
        except OverflowError as error:  # SQLite: a lookup value beyond 64 bits
            raise IncorrectLookupParameters(error) from error


def refusing_an_empty_to_field(view: _View) -> _View:
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        if to_field == "":
            raise DisallowedModelAdminToField("An empty field cannot be referenced.")
        return view(request, *args, **kwargs)

    # The same arguments and response as ``view``: only a refusal is added.
    return cast(_View, checked)


class BookshelfAdminSite(admin.AdminSite):
    @method_decorator(login_not_required)
    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """One way in: the site's login (the password, then the second factor), never the
        admin's own form, whose login() would follow the password alone. Signed in already:
        on to the admin if it lets them in, else the 403 page (sending them to a login page
        that sends signed-in users on would loop)."""
        next_url = safe_next_url(request, reverse("admin:index"))
        if request.user.is_authenticated:
            if self.has_permission(request):
                return HttpResponseRedirect(next_url)
            raise PermissionDenied
        return redirect_to_login(next_url, reverse("accounts:login"))

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        return super().admin_view(refusing_an_empty_to_field(view), cacheable)

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SafeIdsAdminMixin):
            admin_class = type(admin_class.__name__, (SafeIdsAdminMixin, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)
