"""Where a request really comes from."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address, as far as it can be trusted.

    Directly exposed (the default), that is the TCP peer, REMOTE_ADDR: headers such as
    X-Forwarded-For are written by the client and prove nothing. Behind our own TLS proxy
    (``DJANGO_BEHIND_TLS_PROXY``), the proxy overwrites ``X-Real-IP`` with the peer it saw
    (see docs/deployment.md), so that header is used instead. Used by django-axes, the roles
    audit trail and the security log.
    """
    candidates = [request.META.get("REMOTE_ADDR", "")]
    if settings.BEHIND_TLS_PROXY:
        candidates.insert(0, request.META.get("HTTP_X_REAL_IP", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate.strip()))
        except ValueError:
            continue
    return None


def is_own_url(request: HttpRequest, url: str) -> bool:
    """True when ``url`` points at this site (a safe place to redirect to)."""
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    """Where to go after a form: the ``next`` parameter if it is ours, else ``fallback``.
    An off-site ``next`` is ignored, never followed (no open redirect)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    return candidate if is_own_url(request, candidate) else fallback
