"""Issuing, revoking and resolving personal API tokens; each step written to the security log."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SecurityEvent
from accounts.security_log import record
from cases.inputs import has_forbidden_characters

from .models import NAME_MAX, TOKEN_MAX_LENGTH, ApiToken, digest, new_secret

# The security log has no kind of its own for tokens: like the calendar feed URLs (another secret
# handed to a machine), issuing, revoking and every use are logged as EXPORT with a detail.
LOG_KIND = SecurityEvent.Kind.EXPORT


def max_lifetime() -> timedelta:
    return timedelta(days=getattr(settings, "API_TOKEN_MAX_DAYS", 365))


@transaction.atomic
def issue(*, user, name: str, days: int, read_only: bool, request=None) -> tuple[ApiToken, str]:
    """A new token for `user` (who passed the second factor) and its secret, which is never stored."""
    if not (user.is_authenticated and user.is_active and user.is_verified()):
        raise PermissionDenied(_("Confirm your second factor before creating an API token."))
    errors: dict = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the token a name (what uses it).")]
    elif len(name) > NAME_MAX or has_forbidden_characters(name):
        errors["name"] = [_("Use at most %(n)d characters, without control characters.") % {"n": NAME_MAX}]
    if not isinstance(days, int) or days < 1 or timedelta(days=days) > max_lifetime():
        errors["days"] = [_("A token lasts from 1 to %(n)d days.") % {"n": max_lifetime().days}]
    if errors:
        raise ValidationError(errors)
    secret = new_secret()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: ApiToken._meta.get_field("prefix").max_length],
        token_hash=digest(secret),
        read_only=bool(read_only),
        expires_at=timezone.now() + timedelta(days=days),
    )
    record(
        LOG_KIND,
        request,
        user=user,
        detail=f"{token.label} created ({'read-only' if token.read_only else 'read-write'}, "
        f"expires {token.expires_at:%Y-%m-%d})",
    )
    return token, secret


@transaction.atomic
def revoke(*, user, token_id: int, request=None) -> ApiToken:
    """Revoke one of the user's own tokens (another user's: not found)."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
    if token is None:
        raise ApiToken.DoesNotExist
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(LOG_KIND, request, user=user, detail=f"{token.label} revoked")
    return token


def resolve(raw: str) -> ApiToken | None:
    """The usable token with this secret, or None (unknown, revoked, expired, user deactivated)."""
    if not raw or len(raw) > TOKEN_MAX_LENGTH or has_forbidden_characters(raw):
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=digest(raw)).first()
    if token is None or not token.is_usable():
        return None
    return token


def mark_used(token: ApiToken, request) -> None:
    """Remember when the token was last used, and log this use."""
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
    record(LOG_KIND, request, user=token.user, detail=f"{token.label} used: {request.method} {request.path}"[:500])
