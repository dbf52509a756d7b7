"""Personal API tokens: shown once, stored as a SHA-256 digest only, with an expiry; revocable.

A token acts as its user, with the user's memberships and roles as they are at each request
(the services check them on every write): a membership ended or a user deactivated stops
what the token can reach, or the token altogether.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "brt_"  # noqa: S105 - a public marker, not a secret
NAME_MAX = 100
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
# A token longer than this is not one of ours: refused before any hashing or query.
TOKEN_MAX_LENGTH = 100


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=NAME_MAX)
    # The first characters of the secret, to recognise the token in the list; never enough to use it.
    prefix = models.CharField(max_length=DISPLAY_PREFIX_LENGTH)
    token_hash = models.CharField(max_length=64, unique=True)
    read_only = models.BooleanField(_("read only"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"API token #{self.pk} ({self.prefix}…)"

    @property
    def label(self) -> str:
        """How the history and the security log name this token."""
        return f"API token #{self.pk}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now and self.user.is_active
