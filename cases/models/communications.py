"""Communications to the affected persons (Art. 34), or the exemption relied on."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..inputs import COUNT_MAX, LONG_TEXT_MAX
from .base import audited_history
from .breach_case import BreachCase, CaseChild
from .evidence import Evidence


class MemberCommunication(CaseChild):
    """A communication campaign to the affected persons (Art. 34), or the exemption relied on."""

    class Channel(models.TextChoices):
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("E-mail")
        PORTAL = "portal", _("Member portal banner")
        SMS = "sms", _("SMS")
        PUBLIC = "public", _("Public communication (Art. 34(3)(c))")
        NONE = "none", _("Not sent (exemption)")

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="communications")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    recipients_count = models.PositiveBigIntegerField(
        _("number of recipients"), default=0, validators=[MaxValueValidator(COUNT_MAX)]
    )
    text = models.TextField(_("text sent"), blank=True, max_length=LONG_TEXT_MAX)
    exemption = models.CharField(
        _("Art. 34(3) ground"), max_length=10, choices=BreachCase.Art34Exemption.choices, blank=True
    )
    exemption_reason = models.TextField(_("exemption reasoning"), blank=True, max_length=LONG_TEXT_MAX)
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = audited_history()

    class Meta:
        ordering = ["sent_at", "pk"]
        verbose_name = _("member communication")
        verbose_name_plural = _("member communications")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} ({self.recipients_count})"
