from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

# AccessAttempt.username's length: a longer key would not fit the column.
LOCKOUT_KEY_MAX_LENGTH = AccessAttempt._meta.get_field("username").max_length


class UsernameOrEmailBackend(ModelBackend):
    """Django's model backend, except that the login may be the username or the email,
    both matched case-insensitively (see ``UserManager.get_by_login``)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = user_model._default_manager.get_by_login(username)
        if user is None:
            # Hash anyway so a missing account takes as long as a wrong password
            # (the same defence as ModelBackend against user enumeration by timing).
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def lockout_key(request: HttpRequest | None, credentials: Mapping[str, Any] | None) -> str | None:
    """The name django-axes counts failed logins under (``AXES_USERNAME_CALLABLE``).

    Login accepts the username in any case and the e-mail address, so counting the text as
    typed gave every spelling its own five attempts (and a locked account signed in under
    another spelling). The key is therefore the account the backend above would pick, found
    the same way (``get_by_login``): its username as stored. A login that matches no account
    is folded the same way for every spelling (Unicode compatibility form, no surrounding
    spaces, case-folded), so probing unknown names is throttled too.

    axes asks several times per attempt (before checking, on failure, on success); the
    answer is kept on the request so the account is looked up once.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials and credentials.get(field) is not None:
        login = credentials[field]
    elif request is not None:
        login = getattr(request, "POST", {}).get(field)
    else:
        login = None
    if not isinstance(login, str) or not login.strip():
        return None
    if request is None:
        return _lockout_key_of(login)
    known: dict[str, str] = request.__dict__.setdefault("_lockout_keys", {})
    if login not in known:
        known[login] = _lockout_key_of(login)
    return known[login]


def _lockout_key_of(login: str) -> str:
    user = get_user_model()._default_manager.get_by_login(login)
    if user is not None:
        return user.get_username()[:LOCKOUT_KEY_MAX_LENGTH]
    return unicodedata.normalize("NFKC", login).strip().casefold()[:LOCKOUT_KEY_MAX_LENGTH]
