"""Lockout (django-axes) glue: which name a failure is counted under, and when failures are forgotten.

Failures are counted per account and per address, password and second factor alike. They are
forgotten only when a whole login succeeds, at the second factor (`forget_failures`): django-axes'
own reset on success (AXES_RESET_ON_SUCCESS) fires at the password step, which let anyone with the
password try second-factor codes without end by logging in again between tries.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings

from cases.inputs import without_forbidden_characters

# django.contrib.auth's username length; django-axes stores up to 255 characters.
USERNAME_MAX = 150


def capped_username(value: object) -> str:
    """A username as counted: text, without control characters, at most USERNAME_MAX characters."""
    text = value if isinstance(value, str) else ""
    return without_forbidden_characters(text[: USERNAME_MAX * 4])[:USERNAME_MAX]


def axes_username(request, credentials: dict | None = None) -> str:
    """AXES_USERNAME_CALLABLE: django-axes' own choice of name (credentials, else the posted form), capped.

    Every lockout query then holds a bounded, storable name (no NUL, which PostgreSQL refuses).
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        return capped_username(credentials.get(field))
    return capped_username(request.POST.get(field) if request is not None else None)


def forget_failures(request, user) -> None:
    """The whole login succeeded: forget this account's and this address's failures, as axes would."""
    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(request, {"username": user.get_username()})
