"""Writes on webhook endpoints, as the services of cases/services: keyword-only, atomic, role checked
(the organisation's administrators only), audited saves."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.permissions import ADMIN_ROLES, require_role
from cases.services.common import check_version, raise_errors, save, service

from .delivery import url_error
from .models import URL_MAX, EventType, WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - a public marker, not a secret


@service
def endpoint_create(
    *, organization, url: str, events: list[str], description: str = "", acting_user
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown once to the administrator)."""
    require_role(acting_user, organization, ADMIN_ROLES)
    errors: dict = {}
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors["url"] = [_("Enter a valid URL.")]
    else:
        if len(url) > URL_MAX:
            errors["url"] = [_("Use at most %(n)d characters.") % {"n": URL_MAX}]
        elif refused := url_error(url, resolve=False):
            errors["url"] = [refused]
    chosen = sorted(set(events or []))
    if not chosen:
        errors["events"] = [_("Choose at least one event.")]
    elif not set(chosen) <= set(EventType.values):
        errors["events"] = [_("Unknown event type.")]
    raise_errors(errors)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        organization=organization,
        url=url,
        description=(description or "").strip(),
        events=" ".join(chosen),
        secret=secret,
        enabled_at=timezone.now(),
    )
    save(endpoint, acting_user=acting_user, reason=_("Webhook endpoint added."))
    return endpoint, secret


def _lock(endpoint_id: int) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)


@service
def endpoint_disable(*, endpoint: WebhookEndpoint, acting_user, expected_version: int | None) -> WebhookEndpoint:
    require_role(acting_user, endpoint.organization, ADMIN_ROLES)
    locked = _lock(endpoint.pk)
    check_version(locked, expected_version)
    if not locked.is_active:
        raise ValidationError(_("This endpoint is already disabled."))
    locked.is_active = False
    locked.disabled_reason = _("Disabled by %(user)s.") % {"user": acting_user.get_full_name() or acting_user}
    save(locked, acting_user=acting_user, reason=_("Webhook endpoint disabled."))
    return locked


@service
def endpoint_enable(*, endpoint: WebhookEndpoint, acting_user, expected_version: int | None) -> WebhookEndpoint:
    """Enable again; failures before now no longer count, pending deliveries are sent again."""
    require_role(acting_user, endpoint.organization, ADMIN_ROLES)
    locked = _lock(endpoint.pk)
    check_version(locked, expected_version)
    if locked.is_active:
        raise ValidationError(_("This endpoint is already enabled."))
    locked.is_active = True
    locked.disabled_reason = ""
    locked.enabled_at = timezone.now()
    save(locked, acting_user=acting_user, reason=_("Webhook endpoint enabled."))
    return locked


@service
def endpoint_auto_disable(*, endpoint_id: int, reason: str, failures: int) -> None:
    """The delivery worker's decision after `failures` consecutive failed attempts (no user)."""
    locked = _lock(endpoint_id)
    if not locked.is_active:
        return
    locked.is_active = False
    locked.disabled_reason = (
        _("Disabled after %(n)d consecutive failed deliveries; last error: %(error)s")
        % {"n": failures, "error": reason}
    )[:500]
    save(locked, acting_user=None, reason=_("Webhook endpoint disabled after repeated failures."))
