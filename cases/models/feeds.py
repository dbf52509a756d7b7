"""Personal calendar feed tokens (credentials, not facts of a case)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .organizations import Organization


class CalendarFeedToken(models.Model):
    """A personal, revocable secret URL to one organisation's running deadlines as an iCalendar feed.

    Only the SHA-256 of the token is stored: the URL is shown once when issued. A credential,
    not a fact of a case, so it keeps no history row; issuing and revoking it go to the
    security log instead (`cases.calendar_feed`).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calendar_feed_tokens")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="calendar_feed_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="fr")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendar_feed_token_one_active_per_user_org",
            )
        ]
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.created_at:%Y-%m-%d})"
