"""Timeline events: the dated steps of the response."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..inputs import LONG_TEXT_MAX
from .base import audited_history
from .breach_case import BreachCase, CaseChild


class TimelineEvent(CaseChild):
    class Kind(models.TextChoices):
        DETECTION = "detection", _("Detection")
        CONTAINMENT = "containment", _("Containment")
        INVESTIGATION = "investigation", _("Investigation")
        NOTIFICATION = "notification", _("Notification")
        COMMUNICATION = "communication", _("Communication")
        RECOVERY = "recovery", _("Recovery")
        DECISION = "decision", _("Decision")
        OTHER = "other", _("Other")

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="events")
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True, max_length=LONG_TEXT_MAX)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = audited_history()

    class Meta:
        ordering = ["occurred_at", "pk"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self) -> str:
        return self.title
