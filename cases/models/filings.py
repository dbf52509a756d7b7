"""Filings: what was actually sent to an authority, a controller or the persons."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..inputs import LONG_TEXT_MAX
from .base import audited_history
from .breach_case import BreachCase, CaseChild
from .evidence import Evidence
from .obligations import Obligation


class Filing(CaseChild):
    """What was actually sent to an authority, a controller or the persons."""

    class Kind(models.TextChoices):
        CNIL_INITIAL = "cnil_initial", _("CNIL initial notification")
        CNIL_COMPLEMENTARY = "cnil_complementary", _("CNIL complementary notification")
        ANSSI = "anssi", _("ANSSI / CERT-FR declaration")
        NIS2 = "nis2", _("NIS2 report")
        HEALTH = "health", _("ARS / CERT Santé report")
        DORA = "dora", _("DORA report")
        COMPLAINT = "complaint", _("Criminal complaint")
        CONTROLLER = "controller", _("Notice to a controller")
        MEMBERS = "members", _("Communication to persons")
        OTHER = "other", _("Other")

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="filings")
    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, null=True, blank=True, related_name="filings")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    sent_at = models.DateTimeField(_("sent at"))
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    recipient = models.CharField(_("recipient"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    content = models.TextField(_("content sent"), blank=True, max_length=LONG_TEXT_MAX)
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = audited_history()

    class Meta:
        ordering = ["sent_at", "pk"]
        verbose_name = _("filing")
        verbose_name_plural = _("filings")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}".strip()
