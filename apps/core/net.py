"""Where a request really comes from."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


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
