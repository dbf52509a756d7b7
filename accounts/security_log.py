"""Writing to the security log, with the request's address and browser."""

from __future__ import annotations

from .models import SecurityEvent


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None if request is not None else None


def record(kind: str, request=None, *, user=None, username: str = "", organization=None, detail: str = ""):
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
        organization=organization,
        detail=detail[:500],
    )
