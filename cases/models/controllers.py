"""A processor's notices to the controllers it must inform (Art. 33(2))."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..inputs import NAME_MAX, NOTICE_PERIOD_MAX_HOURS
from .base import audited_history
from .breach_case import BreachCase, CaseChild
from .organizations import Organization


class ControllerNotice(CaseChild):
    """A controller the processor must inform of its breach (Art. 33(2)), and when it did."""

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="controller_notices")
    # The contract the notice is owed under; null only for notices recorded before relationships existed.
    relationship = models.ForeignKey(
        "ProcessingRelationship", on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    # Set only for an on-platform controller whose relationship both sides accepted.
    controller = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    controller_name = models.CharField(_("controller"), max_length=NAME_MAX, blank=True)
    notice_period_hours = models.PositiveIntegerField(
        _("contractual notice period (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(NOTICE_PERIOD_MAX_HOURS)],
        help_text=_("Empty: without undue delay (the organisation's internal target applies)."),
    )
    informed_at = models.DateTimeField(_("informed at"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    informed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The exact Art. 33(2) notice sent (generated PDF, in French), kept as sent with its SHA-256.
    notice_pdf = models.FileField(
        _("notice sent (PDF)"), upload_to="notices/%Y/%m/", max_length=300, blank=True, default="", db_default=""
    )
    notice_sha256 = models.CharField(
        _("SHA-256 of the notice sent"), max_length=64, blank=True, default="", db_default=""
    )

    history = audited_history()

    class Meta:
        ordering = ["controller_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "relationship"], name="controller_notice_unique_case_relationship")
        ]
        verbose_name = _("controller notice")
        verbose_name_plural = _("controller notices")

    def __str__(self) -> str:
        return f"{self.case.reference} → {self.controller_name}"
